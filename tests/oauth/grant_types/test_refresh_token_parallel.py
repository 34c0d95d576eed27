"""Twenty parallel uses of one refresh token on PostgreSQL: real commits, separate connections.

Exactly one request rotates the token; the nineteen that lose the guarded UPDATE wait for the winner's
commit and then get the very same successor (each with its own access token). A use after the retry
window revokes the whole family, committed although the answer is an error.
"""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from gateway.app import create_app
from gateway.apps.models import AuthMethod
from gateway.audit.models import AuditEvent
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.base import utcnow
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from gateway.tokens import hashing, refresh
from gateway.tokens.models import IssuedAccessToken, RefreshToken
from tests.support.apps import REDIRECT_URI
from tests.support.backchannel import ISSUER, make_code, make_grant, make_school, register, token_request
from tests.support.databases import migrated_database
from tests.support.pkce import Pkce

PARALLEL = 20


@pytest.mark.postgres_only
async def test_twenty_parallel_refreshes_share_one_successor(tmp_path: Path) -> None:
    master_key = os.urandom(32)
    async with migrated_database(tmp_path, pool_size=PARALLEL + 5) as database:
        keyring = Keyring(master_key)
        async with database.sessions() as session:
            registered = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
            school = await make_school(session)
            grant = await make_grant(session, registered.app, school)
            pkce = Pkce()
            code = await make_code(session, registered.app, grant, pkce)
            await refresh.successor_of(session, keyring, "warm-up")  # create the server secret up front
            await session.commit()

        settings = Settings(
            environment="test",
            database_url=database.url,
            master_key=base64.b64encode(master_key).decode(),
            issuer=ISSUER,
            data_dir=tmp_path,
        )
        app = create_app(
            settings,
            database=Database(database.engine),
            master_key=master_key,
            password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            exchanged = await token_request(
                client,
                registered,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": pkce.verifier,
                },
            )
            assert exchanged.status_code == 200, exchanged.text
            original = exchanged.json()["refresh_token"]
            form = {"grant_type": "refresh_token", "refresh_token": original}

            answers = await asyncio.gather(
                *(token_request(client, registered, form) for _ in range(PARALLEL))
            )

            assert [answer.status_code for answer in answers] == [200] * PARALLEL, [a.text for a in answers]
            successors = {answer.json()["refresh_token"] for answer in answers}
            assert len(successors) == 1
            assert len({answer.json()["access_token"] for answer in answers}) == PARALLEL
            successor = successors.pop()
            assert successor != original

            async with database.sessions() as session:
                family = await session.scalar(
                    select(RefreshToken.family_id).where(RefreshToken.token_hash == hashing.digest(original))
                )
                rows = list(
                    await session.scalars(select(RefreshToken).where(RefreshToken.family_id == family))
                )
                assert sorted(row.token_hash for row in rows) == sorted(
                    [hashing.digest(original), hashing.digest(successor)]
                )
                access_count = await session.scalar(
                    select(func.count())
                    .select_from(IssuedAccessToken)
                    .where(IssuedAccessToken.family_id == family)
                )
                assert access_count == 1 + PARALLEL
                # The first use is now past the retry window.
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.token_hash == hashing.digest(original))
                    .values(used_at=utcnow() - refresh.REFRESH_RETRY_WINDOW - timedelta(seconds=1))
                )
                await session.commit()

            late = await token_request(client, registered, form)
            assert late.status_code == 400
            assert late.json()["error"] == "invalid_grant"
            after = await token_request(
                client, registered, {"grant_type": "refresh_token", "refresh_token": successor}
            )
            assert after.status_code == 400

        async with database.sessions() as session:
            revoked = await session.scalars(
                select(RefreshToken.revoked_at).where(RefreshToken.family_id == family)
            )
            assert all(value is not None for value in revoked)
            access = await session.scalars(
                select(IssuedAccessToken.revoked_at).where(IssuedAccessToken.family_id == family)
            )
            assert all(value is not None for value in access)
            kinds = list(
                await session.scalars(
                    select(AuditEvent.details).where(
                        AuditEvent.school_id == school.id, AuditEvent.event_type == "token_family.revoked"
                    )
                )
            )
            assert len(kinds) == 1
            assert '"reason":"refresh_reuse"' in kinds[0]
