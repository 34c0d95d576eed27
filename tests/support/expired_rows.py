"""Rows on both sides of every purge rule (`consent.requests`, `tokens.expiry`), for the purge's tests.

`seed(session, connected, now=N)` stores, for one app's grant, authorization requests, codes, refresh tokens
and access-token rows that a purge at `N` must delete (`Seeded.doomed`) or keep (`Seeded.kept`), by table
and primary key. Every kept row has expired by `N + KEPT_UNTIL_AT_MOST`, so a purge then deletes them all.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consent.models import AuthorizationRequest
from gateway.tokens.models import AuthorizationCode, IssuedAccessToken, RefreshToken
from tests.support.apps import REDIRECT_URI
from tests.support.backchannel import SCOPES, Connected
from tests.support.pkce import Pkce

TABLES = ("authorization_requests", "authorization_codes", "refresh_tokens", "access_tokens")
LONG_AGO = timedelta(hours=1)  # expired long before the purge: beyond its margin
LATELY = timedelta(minutes=1)  # expired, but within the purge's margin
KEPT_UNTIL_AT_MOST = timedelta(days=31)  # every kept row has expired by then (past its margin too)

Row = AuthorizationRequest | AuthorizationCode | RefreshToken | IssuedAccessToken


@dataclass
class Seeded:
    doomed: dict[str, set[str]] = field(default_factory=lambda: {table: set() for table in TABLES})
    kept: dict[str, set[str]] = field(default_factory=lambda: {table: set() for table in TABLES})

    def add(self, table: str, key: object, *, deleted: bool) -> None:
        (self.doomed if deleted else self.kept)[table].add(str(key))


async def primary_keys(session: AsyncSession) -> dict[str, set[str]]:
    """Every row of the four purged tables, by primary key (as text)."""
    columns = (AuthorizationRequest.id, AuthorizationCode.id, RefreshToken.id, IssuedAccessToken.jti)
    return {
        table: {str(key) for key in await session.scalars(select(column))}
        for table, column in zip(TABLES, columns, strict=True)
    }


async def seed(session: AsyncSession, connected: Connected, *, now: datetime) -> Seeded:
    seeded = Seeded()
    app_id, grant = connected.registered.app.id, connected.grant
    ids = {"app_id": app_id, "grant_id": grant.id, "school_id": grant.school_id}

    def request(expires_at: datetime, *, completed: bool = False) -> AuthorizationRequest:
        return AuthorizationRequest(
            id=secrets.token_urlsafe(32),
            app_id=app_id,
            redirect_uri=REDIRECT_URI,
            state="s",
            code_challenge=Pkce().challenge,
            scopes=SCOPES,
            school_id=grant.school_id,
            expires_at=expires_at,
            completed_at=expires_at - timedelta(minutes=5) if completed else None,
        )

    def code(expires_at: datetime, *, used: bool = False) -> AuthorizationCode:
        return AuthorizationCode(
            id=uuid.uuid4(),
            code_hash=os.urandom(32),
            redirect_uri=REDIRECT_URI,
            code_challenge=Pkce().challenge,
            scopes=SCOPES,
            expires_at=expires_at,
            used_at=expires_at - timedelta(seconds=30) if used else None,
            **ids,
        )

    def refresh(
        expires_at: datetime, *, family: uuid.UUID | None = None, used: bool = False, revoked: bool = False
    ) -> RefreshToken:
        return RefreshToken(
            id=uuid.uuid4(),
            token_hash=os.urandom(32),
            family_id=family or uuid.uuid4(),
            scopes=SCOPES,
            expires_at=expires_at,
            used_at=now - timedelta(days=1) if used else None,
            revoked_at=now - timedelta(days=1) if revoked else None,
            **ids,
        )

    def access(
        expires_at: datetime, *, family: uuid.UUID | None = None, revoked: bool = False, school: bool = True
    ) -> IssuedAccessToken:
        return IssuedAccessToken(
            jti=secrets.token_urlsafe(16),
            app_id=app_id,
            grant_id=grant.id if school else None,
            family_id=family,
            expires_at=expires_at,
            revoked_at=now - timedelta(minutes=1) if revoked else None,
        )

    rows: list[tuple[str, Row, bool]] = []  # (table, row, deleted at `now`)
    rows += [
        ("authorization_requests", request(now - LONG_AGO), True),
        ("authorization_requests", request(now - LONG_AGO, completed=True), True),
        ("authorization_requests", request(now - LATELY), False),
        ("authorization_requests", request(now + timedelta(minutes=5)), False),
    ]
    # Codes: unused ones go once expired; used ones stay while their family has a live token.
    live_family = code(now - LONG_AGO, used=True)
    revoked_family = code(now - LONG_AGO, used=True)
    expired_family = code(now - LONG_AGO, used=True)
    access_only_family = code(now - LONG_AGO, used=True)
    rows += [
        ("authorization_codes", code(now - LONG_AGO), True),
        ("authorization_codes", code(now - LATELY), False),
        ("authorization_codes", code(now + timedelta(seconds=30)), False),
        ("authorization_codes", code(now - LATELY, used=True), False),
        ("authorization_codes", live_family, False),
        ("authorization_codes", revoked_family, True),
        ("authorization_codes", expired_family, True),
        ("authorization_codes", access_only_family, False),
    ]
    # Refresh tokens: kept until they expire, used, revoked or neither.
    rows += [
        ("refresh_tokens", refresh(now + timedelta(days=29), family=live_family.id, used=True), False),
        ("refresh_tokens", refresh(now + timedelta(days=29), family=live_family.id), False),
        ("refresh_tokens", refresh(now + timedelta(days=20), family=revoked_family.id, revoked=True), False),
        ("refresh_tokens", refresh(now - 2 * LONG_AGO, family=expired_family.id), True),
        ("refresh_tokens", refresh(now - LONG_AGO, used=True), True),
        ("refresh_tokens", refresh(now - LONG_AGO, revoked=True), True),
        ("refresh_tokens", refresh(now - LATELY, used=True), False),
    ]
    # Access-token rows: kept until their token expires, revoked or not.
    rows += [
        ("access_tokens", access(now + timedelta(minutes=10), family=access_only_family.id), False),
        ("access_tokens", access(now + timedelta(minutes=10), family=revoked_family.id, revoked=True), False),
        ("access_tokens", access(now - LONG_AGO, family=expired_family.id), True),
        ("access_tokens", access(now - LONG_AGO, revoked=True, school=False), True),
        ("access_tokens", access(now - LATELY), False),
    ]
    for table, row, deleted in rows:
        session.add(row)
        key = row.jti if isinstance(row, IssuedAccessToken) else row.id
        seeded.add(table, key, deleted=deleted)
    await session.commit()
    return seeded
