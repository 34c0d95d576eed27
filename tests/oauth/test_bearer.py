"""The access-token check (`gateway.oauth.bearer`): every way a token can be refused, and all look alike.

RFC 6750 §2.1 (header only), §3 (challenge), RFC 9068 §4 (validation), SPEC §3.5 (live grant, one query).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.apps import service as apps
from gateway.db.base import utcnow
from gateway.errors import PROBLEM_JSON
from gateway.keys.signing import active_signing_key
from gateway.oauth.bearer import MAX_TOKEN_LENGTH, SchoolToken, authenticate
from gateway.tokens.access_tokens import ACCESS_TOKEN_LIFETIME_SECONDS, mint_access_token
from gateway.tokens.issuance import api_audience
from gateway.tokens.models import IssuedAccessToken
from tests.support.http import bearer
from tests.support.world import World

pytestmark = pytest.mark.usefixtures("fresh_jwks_cache")

SCHOOLS = "/api/v1/app/schools"
DISCONNECT = "/api/v1/app/disconnect"
INVALID_TOKEN = 'Bearer realm="gateway", error="invalid_token"'


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _without_request_id(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("request_id", None)
    return body


def assert_invalid_token(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == INVALID_TOKEN
    assert response.headers["content-type"] == PROBLEM_JSON
    body = _without_request_id(response)
    assert body == {
        "type": "urn:gateway:problem:invalid-token",
        "title": "Invalid access token",
        "status": 401,
        "detail": body["detail"],
    }
    return body


async def _signed(world: World, **overrides: Any) -> str:
    """A token signed by the gateway's real key, with some claims changed (not recorded anywhere)."""
    arguments: dict[str, Any] = {
        "issuer": world.issuer,
        "client_id": "unknown-client",
        "school_id": None,
        "grant_id": None,
        "scopes": ["school"],
        "audience": api_audience(world.issuer),
        "now": utcnow(),
    }
    arguments.update(overrides)
    key = await active_signing_key(world.session, world.keyring.master_key)
    token, _jti = mint_access_token(key, **arguments)
    await world.session.commit()
    return token


# --- Where the token may be ---------------------------------------------------------------------------


async def test_no_credentials_is_401_with_a_bare_challenge(client: httpx.AsyncClient) -> None:
    for response in (await client.get(SCHOOLS), await client.post(DISCONNECT)):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="gateway"'  # RFC 6750 §3.1: no error
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["type"] == "urn:gateway:problem:token-required"


async def test_token_in_query_or_body_is_refused(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    school_token = await world.school_token(app, grant)
    app_token = await world.app_token(app)

    attempts = [
        await client.get(SCHOOLS, params={"access_token": app_token.token}),
        # Even beside a good header: one method only (RFC 6750 §2).
        await client.get(SCHOOLS, params={"access_token": app_token.token}, headers=bearer(app_token.token)),
        await client.post(DISCONNECT, data={"access_token": school_token.token}),
        await client.post(DISCONNECT, params={"access_token": school_token.token}),
    ]
    for response in attempts:
        assert response.status_code == 400, response.text
        assert response.headers["www-authenticate"] == 'Bearer realm="gateway", error="invalid_request"'
        assert response.headers["content-type"] == PROBLEM_JSON
        assert school_token.token not in response.text
        assert app_token.token not in response.text
    assert await world.is_live(grant)


async def test_scheme_is_case_insensitive(client: httpx.AsyncClient, world: World) -> None:
    token = await world.app_token(await world.app())
    response = await client.get(SCHOOLS, headers={"authorization": f"bEaReR {token.token}"})
    assert response.status_code == 200


async def test_malformed_headers_are_invalid_token(client: httpx.AsyncClient, world: World) -> None:
    token = (await world.app_token(await world.app())).token
    values: list[str | bytes] = [
        "",
        "Bearer",
        "Bearer ",
        f"Basic {base64.b64encode(b'client:secret').decode()}",
        f"Token {token}",
        f"Bearer {token} extra",
        f"Bearer {token},",
        f"Bearer\t{token}",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer ...",
        f"Bearer {token[:-5]}",  # truncated signature
        f"Bearer {token}x",
        "Bearer " + "a" * (MAX_TOKEN_LENGTH + 100),  # oversized
        "Bearer " + ".".join(["a" * 30_000] * 3),  # very oversized
        b"Bearer \xff\xfe\xfd",  # not ASCII
        "Bearer eyJhbGciOiJFUzI1NiJ9.e30.%%%",
    ]
    bodies = []
    for value in values:
        response = await client.get(
            SCHOOLS, headers=[(b"authorization", value if isinstance(value, bytes) else value.encode())]
        )
        bodies.append(assert_invalid_token(response))
    assert all(body == bodies[0] for body in bodies)  # nothing says which check failed


async def test_two_authorization_headers_are_refused(client: httpx.AsyncClient, world: World) -> None:
    token = (await world.app_token(await world.app())).token
    response = await client.get(SCHOOLS, headers=[(b"authorization", f"Bearer {token}".encode())] * 2)
    assert_invalid_token(response)


# --- What the token says ------------------------------------------------------------------------------


async def test_expired_token(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    long_ago = utcnow() - timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS + 120)
    token = await _signed(world, client_id=app.client_id, now=long_ago)
    assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token)))


async def test_wrong_issuer_or_audience(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    for changes in (
        {"issuer": "https://evil.example.com"},
        {"issuer": world.issuer + "/"},
        {"audience": "https://evil.example.com/api/v1"},
        {"audience": world.issuer},
    ):
        token = await _signed(world, client_id=app.client_id, **changes)
        assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token)))


async def test_alg_none_and_bad_signatures(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    good = (await world.app_token(app)).token
    header_b64, claims_b64, signature = good.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    claims = json.loads(base64.urlsafe_b64decode(claims_b64 + "=="))
    forged_claims = _b64({**claims, "client_id": "someone-else", "sub": "someone-else"})
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    tokens = [
        f"{_b64({**header, 'alg': 'none'})}.{claims_b64}.",
        f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{claims_b64}.",
        f"{_b64({**header, 'alg': 'HS256'})}.{claims_b64}.{signature}",
        f"{_b64({**header, 'typ': 'JWT'})}.{claims_b64}.{signature}",
        f"{_b64({**header, 'kid': 'no-such-key'})}.{claims_b64}.{signature}",
        f"{header_b64}.{forged_claims}.{signature}",
        f"{header_b64}.{claims_b64}.{flipped}",
    ]
    for token in tokens:
        assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token)))
    assert (await client.get(SCHOOLS, headers=bearer(good))).status_code == 200


async def test_a_token_signed_by_another_key(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    rogue = ECKey.generate_key("P-256", private=True)
    # Same kid as the real key, so it is the signature that fails.
    real = await active_signing_key(world.session, world.keyring.master_key)
    impostor = ECKey.import_key({**rogue.as_dict(private=True), "kid": str(real.kid)})
    token, _ = mint_access_token(
        impostor,
        issuer=world.issuer,
        client_id=app.client_id,
        school_id=None,
        grant_id=None,
        scopes=["school"],
        audience=api_audience(world.issuer),
        now=utcnow(),
    )
    assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token)))


# --- The state behind a school token ------------------------------------------------------------------


async def test_revoked_token_row(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    revoked, kept = await world.school_token(app, grant), await world.school_token(app, grant)
    await world.session.execute(
        update(IssuedAccessToken).where(IssuedAccessToken.jti == revoked.jti).values(revoked_at=utcnow())
    )
    await world.session.commit()
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(revoked.token)))
    assert await world.is_live(grant)
    assert (await client.post(DISCONNECT, headers=bearer(kept.token))).status_code == 204


async def test_revoked_grant(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    token = await world.school_token(app, grant)
    grant.revoked_at = utcnow()
    await world.session.commit()
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token.token)))


async def test_grant_of_another_school_than_the_token_claims(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    school_a, school_b = await world.school(), await world.school()
    grant_a = await world.grant(school_a, app)
    await world.grant(school_b, app)
    token = await world.school_token(app, grant_a, school_id=school_b.id)
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token.token)))
    assert await world.is_live(grant_a)


async def test_grant_of_another_app(client: httpx.AsyncClient, world: World) -> None:
    app, other_app = await world.app(), await world.app("Other App")
    school = await world.school()
    grant = await world.grant(school, app)
    token = await world.school_token(other_app, grant)  # other_app's token naming app's grant
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token.token)))
    assert await world.is_live(grant)


async def test_unknown_grant_and_malformed_ids(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    school = await world.school()
    for school_id, grant_id in (
        (school.id, uuid.uuid4()),
        ("not-a-uuid", uuid.uuid4()),
        (school.id, "'; DROP TABLE grants; --"),
    ):
        token = await _signed(world, client_id=app.client_id, school_id=school_id, grant_id=grant_id)
        assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token)))


async def test_a_school_token_that_was_never_recorded(client: httpx.AsyncClient, world: World) -> None:
    """Every school token is recorded at issue; one that is not (a rolled-back issue) is refused."""
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    token = await _signed(world, client_id=app.client_id, school_id=grant.school_id, grant_id=grant.id)
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token)))


async def test_narrowed_grant_narrows_the_token(world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app, ("school", "groups", "students.basic"))
    token = await world.school_token(app, grant, scopes=("school", "groups", "students.basic"))
    grant.scopes = "school students.basic"
    await world.session.commit()
    principal = await authenticate(world.session, token.token, issuer=world.issuer, now=utcnow())
    assert isinstance(principal, SchoolToken)
    assert principal.scopes == {"school", "students.basic"}
    assert principal.grant_id == grant.id
    assert principal.school_id == grant.school_id
    assert principal.client_id == app.client_id
    assert principal.jti == token.jti


async def test_one_query_loads_the_state(world: World, engine: AsyncEngine) -> None:
    """With the signing keys cached, checking a token costs exactly one statement (SPEC §3.5)."""
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    school_token, app_token = await world.school_token(app, grant), await world.app_token(app)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for token in (school_token, app_token):
        # The first check warms the signing-key cache.
        await authenticate(world.session, token.token, issuer=world.issuer, now=utcnow())
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            await authenticate(world.session, token.token, issuer=world.issuer, now=utcnow())
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert len(statements) == 1, statements
        statements.clear()


# --- The state behind an app-level token --------------------------------------------------------------


async def test_revoked_app_token(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    revoked, kept = await world.app_token(app), await world.app_token(app)
    world.session.add(
        IssuedAccessToken(
            jti=revoked.jti, app_id=app.id, expires_at=utcnow() + timedelta(minutes=15), revoked_at=utcnow()
        )
    )
    await world.session.commit()
    assert_invalid_token(await client.get(SCHOOLS, headers=bearer(revoked.token)))
    assert (await client.get(SCHOOLS, headers=bearer(kept.token))).status_code == 200


async def test_deleted_app(client: httpx.AsyncClient, world: World) -> None:
    developer = await world.developer()
    app = await world.app(developer=developer)
    grant = await world.grant(await world.school(), app)
    app_token, school_token = await world.app_token(app), await world.school_token(app, grant)
    await apps.delete_app(world.session, developer.developer.id, app.client_id)
    await world.session.commit()
    assert_invalid_token(await client.get(SCHOOLS, headers=bearer(app_token.token)))
    assert_invalid_token(await client.post(DISCONNECT, headers=bearer(school_token.token)))


# --- Kind of token for the endpoint -------------------------------------------------------------------


async def test_wrong_kind_of_token_is_403(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    school_token, app_token = await world.school_token(app, grant), await world.app_token(app)
    for response in (
        await client.get(SCHOOLS, headers=bearer(school_token.token)),
        await client.post(DISCONNECT, headers=bearer(app_token.token)),
    ):
        assert response.status_code == 403
        assert response.headers["www-authenticate"] == 'Bearer realm="gateway", error="insufficient_scope"'
        assert response.json()["type"] == "urn:gateway:problem:insufficient-scope"


async def test_a_dead_token_of_the_wrong_kind_is_still_401(client: httpx.AsyncClient, world: World) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    token = await world.school_token(app, grant)
    grant.revoked_at = utcnow()
    await world.session.commit()
    assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token.token)))


# --- Logs --------------------------------------------------------------------------------------------


async def test_the_reason_is_logged_never_the_token(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = await world.app()
    grant = await world.grant(await world.school(), app)
    token = await world.school_token(app, grant)
    grant.revoked_at = utcnow()
    await world.session.commit()
    with caplog.at_level(logging.INFO, logger="gateway.oauth.bearer"):
        assert_invalid_token(await client.post(DISCONNECT, headers=bearer(token.token)))
        assert_invalid_token(await client.get(SCHOOLS, headers=bearer(token.token + "x")))
    reasons = [
        getattr(record, "reason", None) for record in caplog.records if record.name == "gateway.oauth.bearer"
    ]
    assert reasons == ["grant_revoked", "bad_signature"]
    for record in caplog.records:
        assert token.token not in record.getMessage()
        assert all(token.token not in str(value) for value in vars(record).values())


async def test_openapi_marks_the_endpoints_with_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["accessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["accessToken"]["description"],
    }
    assert schema["paths"][SCHOOLS]["get"]["security"] == [{"accessToken": []}]
    # A school token can also come from /docs' authorization-code flow.
    disconnect = schema["paths"][DISCONNECT]["post"]["security"]
    assert disconnect == [{"accessToken": []}, {"schoolAuthorization": []}]
    for path, method in ((SCHOOLS, "get"), (DISCONNECT, "post")):
        assert schema["paths"][path][method]["tags"] == ["data"]
