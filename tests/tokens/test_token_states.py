"""One verdict per access token: the data API and introspection agree on every state a token can be in.

Both ask `oauth.presented.state_of` (one query) and `tokens.state.decide` (pure). The table below makes
one token in each state and asks both, over HTTP: the data API (`/api/v1/groups` for a school token,
`/api/v1/app/schools` for an app-level token) and `/oauth/introspect` as the token's own client.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.tokens import issuance
from gateway.tokens.access_tokens import ACCESS_TOKEN_LIFETIME_SECONDS, LEEWAY_SECONDS, AccessTokenClaims
from gateway.tokens.access_tokens import mint_access_token as sign
from gateway.tokens.families import revoke_access_token
from gateway.tokens.signing_key import signing_key
from gateway.tokens.state import GrantFacts, Recorded, Refusal, decide
from tests.support.backchannel import ISSUER, Connected, connect, jwt_claims, post_form

SCHOOL_SCOPES = ("school", "groups", "students.basic")
LIFETIME = timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS)


@dataclass(frozen=True)
class Made:
    connected: Connected
    token: str


Maker = Callable[[AsyncSession, Keyring], Awaitable[Made]]


async def _school_token(
    session: AsyncSession,
    keyring: Keyring,
    connected: Connected,
    *,
    scopes: tuple[str, ...] = SCHOOL_SCOPES,
    now: datetime | None = None,
) -> issuance.MintedAccessToken:
    minted = await issuance.school_access_token(
        session,
        keyring,
        issuer=ISSUER,
        app=connected.registered.app,
        grant_id=connected.grant.id,
        school_id=connected.school.id,
        family_id=uuid.uuid4(),
        scopes=scopes,
        now=now or utcnow(),
    )
    await session.commit()
    return minted


async def _connected(session: AsyncSession, keyring: Keyring) -> Connected:
    return await connect(session, keyring, scopes=" ".join(SCHOOL_SCOPES))


async def good(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    return Made(connected, (await _school_token(session, keyring, connected)).token)


async def expired_within_leeway(session: AsyncSession, keyring: Keyring) -> Made:
    """Past `exp`, though within the signature check's clock-skew leeway: our own clock issued it."""
    connected = await _connected(session, keyring)
    issued = utcnow() - LIFETIME - timedelta(seconds=LEEWAY_SECONDS // 2)
    return Made(connected, (await _school_token(session, keyring, connected, now=issued)).token)


async def expired_long_ago(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    issued = utcnow() - LIFETIME - timedelta(hours=1)
    return Made(connected, (await _school_token(session, keyring, connected, now=issued)).token)


def _unsigned_claims(connected: Connected) -> dict[str, object]:
    return {
        "issuer": ISSUER,
        "client_id": connected.registered.client_id,
        "school_id": connected.school.id,
        "grant_id": connected.grant.id,
        "scopes": SCHOOL_SCOPES,
        "audience": issuance.api_audience(ISSUER),
        "now": utcnow(),
    }


async def wrong_key(session: AsyncSession, keyring: Keyring) -> Made:
    """Well-formed and signed, but by a key the gateway never published."""
    connected = await _connected(session, keyring)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "not-ours"}, private=True)
    token, _jti = sign(stranger, **_unsigned_claims(connected))  # type: ignore[arg-type]
    return Made(connected, token)


async def unknown_jti(session: AsyncSession, keyring: Keyring) -> Made:
    """Signed with the gateway's own key, but never issued: no row records its jti."""
    connected = await _connected(session, keyring)
    token, _jti = sign(await signing_key(session, keyring), **_unsigned_claims(connected))  # type: ignore[arg-type]
    await session.commit()
    return Made(connected, token)


async def revoked(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _school_token(session, keyring, connected)
    now = utcnow()
    await revoke_access_token(
        session,
        jti=minted.jti,
        app_id=connected.registered.app.id,
        grant_id=connected.grant.id,
        expires_at=now + LIFETIME,
        now=now,
    )
    await session.commit()
    return Made(connected, minted.token)


async def _set_grant_scopes(session: AsyncSession, grant: Grant, scopes: str) -> None:
    await session.execute(update(Grant).where(Grant.id == grant.id).values(scopes=scopes))
    await session.commit()


async def grant_narrowed(session: AsyncSession, keyring: Keyring) -> Made:
    """The school took `students.basic` away: the token keeps what the grant still holds."""
    connected = await _connected(session, keyring)
    minted = await _school_token(session, keyring, connected)
    await _set_grant_scopes(session, connected.grant, "groups school")
    return Made(connected, minted.token)


async def grant_narrowed_to_nothing_of_the_token(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _school_token(session, keyring, connected, scopes=("groups",))
    await _set_grant_scopes(session, connected.grant, "school students.basic")
    return Made(connected, minted.token)


async def grant_revoked(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _school_token(session, keyring, connected)
    await session.execute(update(Grant).where(Grant.id == connected.grant.id).values(revoked_at=utcnow()))
    await session.commit()
    return Made(connected, minted.token)


async def app_deleted(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _school_token(session, keyring, connected)
    await session.execute(delete(App).where(App.id == connected.registered.app.id))
    await session.commit()
    return Made(connected, minted.token)


async def _app_token(
    session: AsyncSession, keyring: Keyring, connected: Connected
) -> issuance.MintedAccessToken:
    minted = await issuance.app_access_token(
        session, keyring, issuer=ISSUER, app=connected.registered.app, scopes=["school"], now=utcnow()
    )
    await session.commit()
    return minted


async def app_token_good(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    return Made(connected, (await _app_token(session, keyring, connected)).token)


async def app_token_revoked(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _app_token(session, keyring, connected)
    now = utcnow()
    await revoke_access_token(
        session,
        jti=minted.jti,
        app_id=connected.registered.app.id,
        grant_id=None,
        expires_at=now + LIFETIME,
        now=now,
    )
    await session.commit()
    return Made(connected, minted.token)


async def app_token_of_deleted_app(session: AsyncSession, keyring: Keyring) -> Made:
    connected = await _connected(session, keyring)
    minted = await _app_token(session, keyring, connected)
    await session.execute(delete(App).where(App.id == connected.registered.app.id))
    await session.commit()
    return Made(connected, minted.token)


# (how the token is made, whether it may be used, the scope introspection reports when it may)
TABLE: list[tuple[Maker, bool, str | None]] = [
    (good, True, "school groups students.basic"),
    (expired_within_leeway, False, None),
    (expired_long_ago, False, None),
    (wrong_key, False, None),
    (unknown_jti, False, None),
    (revoked, False, None),
    (grant_narrowed, True, "school groups"),
    (grant_narrowed_to_nothing_of_the_token, False, None),
    (grant_revoked, False, None),
    (app_deleted, False, None),
    (app_token_good, True, "school"),
    (app_token_revoked, False, None),
    (app_token_of_deleted_app, False, None),
]


async def _data_api_accepts(client: httpx.AsyncClient, made: Made) -> bool:
    app_level = "school_id" not in _claims(made.token)
    path = "/api/v1/app/schools" if app_level else "/api/v1/groups?limit=1"
    response = await client.get(path, headers={"authorization": f"Bearer {made.token}"})
    assert response.status_code in {200, 401}, (response.status_code, response.text)
    return response.status_code == 200


async def _introspected(client: httpx.AsyncClient, made: Made) -> dict[str, object]:
    headers, credentials = made.connected.registered.credentials()
    response = await post_form(client, "/oauth/introspect", {"token": made.token, **credentials}, headers)
    if response.status_code == 401:  # the app is gone, so it cannot authenticate: nothing is active for it
        assert response.json()["error"] == "invalid_client"
        return {"active": False}
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _claims(token: str) -> dict[str, object]:
    return jwt_claims(token)


@pytest.mark.parametrize(("make", "usable", "scope"), TABLE, ids=[make.__name__ for make, _u, _s in TABLE])
async def test_data_api_and_introspection_give_the_same_verdict(
    client: httpx.AsyncClient,
    session: AsyncSession,
    keyring: Keyring,
    make: Maker,
    usable: bool,
    scope: str | None,
) -> None:
    made = await make(session, keyring)
    introspected = await _introspected(client, made)
    assert introspected["active"] is usable
    assert introspected.get("scope") == scope
    assert await _data_api_accepts(client, made) is usable


# --- The decision itself, without a database -------------------------------------------------------------

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=utcnow().tzinfo)
GRANT, SCHOOL, APP = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _token(**changes: object) -> AccessTokenClaims:
    values: dict[str, object] = {
        "issuer": ISSUER,
        "subject": f"school:{SCHOOL}",
        "audience": (issuance.api_audience(ISSUER),),
        "client_id": "gw_client",
        "scopes": SCHOOL_SCOPES,
        "school_id": str(SCHOOL),
        "grant_id": str(GRANT),
        "jti": "jti-1",
        "issued_at": NOW - timedelta(minutes=1),
        "expires_at": NOW + timedelta(minutes=14),
    } | changes
    return AccessTokenClaims(**values)  # type: ignore[arg-type]


def _recorded(**changes: object) -> Recorded:
    grant = GrantFacts(GRANT, SCHOOL, APP, frozenset(SCHOOL_SCOPES), revoked=False)
    values: dict[str, object] = {
        "app_id": APP,
        "grant": grant,
        "recorded_grant_id": GRANT,
        "recorded": True,
        "revoked": False,
    } | changes
    return Recorded(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("claims", "recorded", "refusal"),
    [
        (_token(), _recorded(), None),
        (_token(expires_at=NOW), _recorded(), Refusal.EXPIRED),
        (_token(grant_id="not-a-uuid"), _recorded(), Refusal.INVALID_IDS),
        (_token(), _recorded(app_id=None), Refusal.APP_NOT_FOUND),
        (_token(), _recorded(revoked=True), Refusal.TOKEN_REVOKED),
        (_token(), _recorded(grant=None), Refusal.GRANT_NOT_FOUND),
        (_token(school_id=str(uuid.uuid4())), _recorded(), Refusal.GRANT_NOT_FOUND),
        (
            _token(),
            _recorded(grant=GrantFacts(GRANT, SCHOOL, APP, frozenset(), revoked=True)),
            Refusal.GRANT_REVOKED,
        ),
        (_token(), _recorded(recorded=False, recorded_grant_id=None), Refusal.TOKEN_NOT_RECORDED),
        (_token(), _recorded(recorded_grant_id=uuid.uuid4()), Refusal.TOKEN_NOT_RECORDED),
        (
            _token(scopes=("groups",)),
            _recorded(grant=GrantFacts(GRANT, SCHOOL, APP, frozenset({"school"}), revoked=False)),
            Refusal.NO_SCOPE_LEFT,
        ),
        (
            _token(school_id=None, grant_id=None, subject="gw_client", scopes=("school",)),
            _recorded(grant=None),
            None,
        ),
    ],
)
def test_decide(claims: AccessTokenClaims, recorded: Recorded, refusal: Refusal | None) -> None:
    assert decide(claims, recorded, now=NOW).refusal == refusal
