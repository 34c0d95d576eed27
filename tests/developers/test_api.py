"""`/developer/v1`: who am I, and key rotation (the presenting key stops working at once)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.developers import service
from gateway.developers.models import DeveloperKey
from gateway.errors import Conflict, InvalidInput, Unauthorized
from gateway.keys.keyring import Keyring
from tests.support.developers import DeveloperWithKey
from tests.support.http import bearer

ME = "/developer/v1/me"
ROTATE = "/developer/v1/keys/rotate"
CHALLENGE = 'Bearer realm="developer"'


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:gateway:problem:unauthorized"


def without_request_id(response: httpx.Response) -> dict[str, object]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


async def test_me(
    client: httpx.AsyncClient, developer: DeveloperWithKey, other_developer: DeveloperWithKey
) -> None:
    response = await client.get(ME, headers=bearer(developer.key))
    assert response.status_code == 200
    assert response.json() == {
        "id": str(developer.developer.id),
        "name": "Synthetic Apps Ltd",
        "email": "dev@synthetic-apps.example.org",
        "key_prefix": developer.prefix,
    }
    assert developer.key.split("_", 3)[3] not in response.text
    other = await client.get(ME, headers=bearer(other_developer.key))
    assert other.json()["id"] == str(other_developer.developer.id)


async def test_rotation_returns_a_new_key_and_revokes_the_old_one(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession
) -> None:
    response = await client.post(ROTATE, headers=bearer(developer.key))
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"key", "prefix", "created_at", "revoked_prefix"}
    assert body["key"].startswith(f"gw_dk_{body['prefix']}_")
    assert body["prefix"] != developer.prefix
    assert body["revoked_prefix"] == developer.prefix

    assert_401(await client.get(ME, headers=bearer(developer.key)))
    assert_401(await client.post(ROTATE, headers=bearer(developer.key)))  # no rotating with a revoked key
    me = await client.get(ME, headers=bearer(body["key"]))
    assert me.status_code == 200
    assert me.json()["key_prefix"] == body["prefix"]

    rows = (await session.scalars(select(DeveloperKey).order_by(DeveloperKey.created_at))).all()
    assert [(row.prefix, row.revoked_at is None) for row in rows] == [
        (developer.prefix, False),
        (body["prefix"], True),
    ]
    for row in rows:
        assert len(row.secret_hash) == 32
        assert body["key"].split("_", 3)[3].encode() not in row.secret_hash

    again = await client.post(ROTATE, headers=bearer(body["key"]))
    assert again.status_code == 201
    assert_401(await client.get(ME, headers=bearer(body["key"])))


async def test_rotation_is_refused_to_a_key_revoked_meanwhile(
    session: AsyncSession, keyring: Keyring, developer: DeveloperWithKey
) -> None:
    """Two rotations racing with one key: the guarded UPDATE lets only the first through."""
    caller = await service.authenticate(session, keyring, developer.key)
    stale = await service.authenticate(session, keyring, developer.key)
    await service.rotate_key(session, keyring, caller)
    with pytest.raises(Unauthorized):
        await service.rotate_key(session, keyring, stale)
    live = (await session.scalars(select(DeveloperKey).where(DeveloperKey.revoked_at.is_(None)))).all()
    assert len(live) == 1


@pytest.mark.parametrize("path", [ME, ROTATE])
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer gw_dk_short",
        "Bearer gw_sk_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer gw_dk_ABCDEFGHJKLM_" + "a" * 43,
        "Bearer gw_dk_ABCDEFGHJKLM_" + "a" * 42 + "\u00e9",
        "Bearer " + "x" * 5000,
    ],
)
async def test_bad_credentials_are_401(
    client: httpx.AsyncClient,
    developer: DeveloperWithKey,
    session: AsyncSession,
    path: str,
    authorization: str | None,
) -> None:
    headers = {} if authorization is None else {"authorization": authorization.encode("utf-8")}
    response = await client.request("GET" if path == ME else "POST", path, headers=headers)  # type: ignore[arg-type]
    assert_401(response)
    assert len((await session.scalars(select(DeveloperKey))).all()) == 1


async def test_malformed_unknown_wrong_and_revoked_keys_look_the_same(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    malformed = await client.get(ME, headers=bearer("gw_dk_short"))
    unknown = await client.get(ME, headers=bearer("gw_dk_ABCDEFGHJKLM_" + "a" * 43))
    tampered = developer.key[:-1] + ("A" if developer.key[-1] != "A" else "B")
    wrong = await client.get(ME, headers=bearer(tampered))
    assert (await client.post(ROTATE, headers=bearer(developer.key))).status_code == 201
    revoked = await client.get(ME, headers=bearer(developer.key))
    bodies = [without_request_id(r) for r in (malformed, unknown, wrong, revoked)]
    assert all(body == bodies[0] for body in bodies)


async def test_last_use_is_recorded(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession
) -> None:
    row = await session.scalar(select(DeveloperKey))
    assert row is not None
    assert row.last_used_at is None
    await client.get(ME, headers=bearer(developer.key))
    await session.refresh(row)
    assert row.last_used_at is not None


async def test_a_non_json_body_to_rotate_is_415(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    response = await client.post(
        ROTATE, content=b"please", headers={**bearer(developer.key), "content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert (await client.get(ME, headers=bearer(developer.key))).status_code == 200  # not rotated


@pytest.mark.parametrize(
    ("name", "email", "pointer"),
    [
        ("", "dev@example.org", "#/name"),
        ("x" * 121, "dev@example.org", "#/name"),
        ("Tab\there", "dev@example.org", "#/name"),
        ("Apps", "not-an-address", "#/email"),
        ("Apps", "a" * 250 + "@example.org", "#/email"),
        ("Apps", "dev@example.org\r\nBcc: x@example.org", "#/email"),
    ],
)
async def test_create_developer_validates(
    session: AsyncSession, keyring: Keyring, name: str, email: str, pointer: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await service.create_developer(session, keyring, name=name, email=email)
    assert [error["pointer"] for error in raised.value.errors] == [pointer]


async def test_one_developer_per_email(
    session: AsyncSession, keyring: Keyring, developer: DeveloperWithKey
) -> None:
    with pytest.raises(Conflict):
        await service.create_developer(
            session, keyring, name="Again", email=" DEV@synthetic-apps.example.org "
        )
