"""Registering, editing, deleting apps and rotating their secrets (SPEC §3.1). Services flush, never commit.

A secret is returned once, by registration or rotation, and otherwise exists only as its keyed hash.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps import credentials, validation
from gateway.apps.models import App, AuthMethod
from gateway.apps.repository import AppRepository
from gateway.apps.validation import AppDraft
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.consent.grants import revoke_grant
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.errors import Conflict, NotFound, field_error
from gateway.keys.keyring import API_KEY_HASHING_SECRET, Keyring
from gateway.webhooks import secrets as webhook_secrets


def _not_found() -> NotFound:
    return NotFound("You have no app with this client_id.")


def _draft_of(app: App) -> AppDraft:
    return AppDraft(
        name=app.name,
        description=app.description,
        redirect_uris=tuple(app.redirect_uris),
        required_scopes=app.required_scopes,
        optional_scopes=app.optional_scopes,
        token_endpoint_auth_method=app.auth_method,
        privacy_policy_url=app.privacy_policy_url,
        support_url=app.support_url,
        webhook_url=app.webhook_url,
    )


def _apply(app: App, draft: AppDraft) -> None:
    app.name = draft.name
    app.description = draft.description
    app.redirect_uris = list(draft.redirect_uris)
    app.required_scopes = draft.required_scopes
    app.optional_scopes = draft.optional_scopes
    app.token_endpoint_auth_method = draft.token_endpoint_auth_method.value
    app.privacy_policy_url = draft.privacy_policy_url
    app.support_url = draft.support_url
    app.webhook_url = draft.webhook_url


async def _hashing_key(session: AsyncSession, keyring: Keyring) -> bytes:
    return await keyring.secret(session, API_KEY_HASHING_SECRET)


class Registered(NamedTuple):
    app: App
    client_secret: str | None  # `gw_cs_…` for a confidential client, shown this once; stored hashed
    webhook_secret: str  # `whsec_…`, shown this once; stored sealed (`webhooks.secrets`)


async def register(
    session: AsyncSession,
    keyring: Keyring,
    developer_id: uuid.UUID,
    draft: AppDraft,
    *,
    webhook_loopback_http: bool = False,
) -> Registered:
    """A new app, its client secret (for a confidential client) and its webhook signing secret, each
    returned this once. `webhook_loopback_http`: a webhook URL may be http on a loopback host (not in
    production)."""
    clean = validation.check(draft, webhook_loopback_http=webhook_loopback_http)
    secret = credentials.new_client_secret() if clean.token_endpoint_auth_method.confidential else None
    app = App(developer_id=developer_id, client_id=credentials.new_client_id())
    _apply(app, clean)
    if secret is not None:
        app.client_secret_hash = credentials.secret_hash(await _hashing_key(session, keyring), secret)
    await AppRepository(session, developer_id).add(app)
    webhook_secret = await webhook_secrets.add_secret(session, keyring, app.id, utcnow())
    return Registered(app, secret, webhook_secret)


async def list_apps(session: AsyncSession, developer_id: uuid.UUID) -> Sequence[App]:
    return await AppRepository(session, developer_id).list()


async def get_app(session: AsyncSession, developer_id: uuid.UUID, client_id: str) -> App:
    app = await AppRepository(session, developer_id).get(client_id)
    if app is None:
        raise _not_found()
    return app


async def update_app(
    session: AsyncSession,
    developer_id: uuid.UUID,
    client_id: str,
    changes: Mapping[str, Any],
    *,
    webhook_loopback_http: bool = False,
) -> App:
    """Apply a PATCH: the given fields replace the stored ones, and the whole app is validated again.

    `token_endpoint_auth_method` may switch between the two confidential methods; switching to or from
    `none` would create or orphan a secret, so it is refused (409): register a new app instead.
    """
    app = await get_app(session, developer_id, client_id)
    current = _draft_of(app)
    method = changes.get("token_endpoint_auth_method")
    if (
        method is not None
        and AuthMethod(method).confidential != current.token_endpoint_auth_method.confidential
    ):
        raise Conflict(
            "An app cannot switch between a public and a confidential client: register a new app.",
            errors=[field_error("cannot change to or from `none`", pointer="#/token_endpoint_auth_method")],
        )
    _apply(app, validation.check(current.merged(changes), webhook_loopback_http=webhook_loopback_http))
    app.updated_at = utcnow()
    await session.flush()
    return app


async def delete_app(session: AsyncSession, developer_id: uuid.UUID, client_id: str) -> None:
    """Delete the app and everything issued to it. Each live grant is revoked first, through
    `consent.grants.revoke_grant` (a `grant.revoked` event by `developer:<id>` in its school's log, its
    refresh tokens ended); then every school the app ever had a grant at gets an `app.deleted` event
    naming the grants this deletion ended, because the rows that explained the app go with it."""
    repository = AppRepository(session, developer_id)
    app = await repository.get(client_id)
    if app is None:
        raise _not_found()
    actor, now = events.developer(developer_id), utcnow()
    ended: dict[uuid.UUID, list[str]] = {}
    for grant in await session.scalars(
        select(Grant).where(Grant.app_id == app.id).order_by(Grant.created_at)
    ):
        revoked = await revoke_grant(session, grant, actor=actor, reason="app_deleted", now=now)
        ended.setdefault(grant.school_id, [])
        if revoked:
            ended[grant.school_id].append(str(grant.id))
    for school_id, grant_ids in ended.items():
        await record_event(
            session,
            school_id=school_id,
            event_type=EventType.APP_DELETED,
            actor=actor,
            details={"app_id": str(app.id), "client_id": app.client_id, "revoked_grant_ids": grant_ids},
            occurred_at=now,
        )
    await repository.delete(app)


async def rotate_secret(
    session: AsyncSession, keyring: Keyring, developer_id: uuid.UUID, client_id: str
) -> tuple[App, str]:
    """A new secret, shown once; the replaced one keeps working for `ROTATION_OVERLAP` (24 h).

    Rotating again within the overlap retires the oldest secret at once: only the two newest work.
    """
    repository = AppRepository(session, developer_id)
    app = await repository.get(client_id)
    if app is None:
        raise _not_found()
    if app.client_secret_hash is None:
        raise Conflict("This is a public client (`token_endpoint_auth_method` `none`): it has no secret.")
    secret = credentials.new_client_secret()
    replaced = await repository.replace_secret(
        app,
        expected=app.client_secret_hash,
        new=credentials.secret_hash(await _hashing_key(session, keyring), secret),
        previous_expires_at=utcnow() + credentials.ROTATION_OVERLAP,
    )
    if not replaced:
        raise Conflict("The secret was rotated by another request at the same time: try again.")
    await session.refresh(app)
    return app, secret
