"""`/developer/v1/apps` through the real app: every endpoint, hostile input, and another developer's apps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from tests.support.apps import APPS, registration, secret_accepted
from tests.support.developers import DeveloperWithKey
from tests.support.http import bearer

VALIDATION = "urn:gateway:problem:validation-error"


async def register(client: httpx.AsyncClient, who: DeveloperWithKey, **overrides: Any) -> dict[str, Any]:
    response = await client.post(APPS, json=registration(**overrides), headers=bearer(who.key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(session: AsyncSession, client_id: str) -> App:
    app = await session.scalar(
        select(App).where(App.client_id == client_id).execution_options(populate_existing=True)
    )
    assert app is not None
    return app


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def error_pointers(response: httpx.Response) -> list[str]:
    body = problem(response, 422)
    assert body["type"] == VALIDATION
    return [entry["pointer"] for entry in body["errors"]]


async def test_register_a_confidential_app(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession, keyring: Keyring
) -> None:
    body = await register(client, developer, required_scopes="students.basic groups school")
    assert set(body) == {
        "client_id", "client_secret", "name", "description", "redirect_uris", "required_scopes",
        "optional_scopes", "token_endpoint_auth_method", "privacy_policy_url", "support_url", "webhook_url",
        "previous_secret_expires_at", "created_at", "updated_at", "webhook_secret",
    }  # fmt: skip
    assert body["client_id"].startswith("gw_app_")
    assert body["client_secret"].startswith("gw_cs_")
    assert body["webhook_secret"].startswith("whsec_")
    assert body["required_scopes"] == "school groups students.basic"
    assert body["optional_scopes"] == "students.demographics students.sen attendance.summaries"
    assert body["redirect_uris"] == registration()["redirect_uris"]
    assert body["previous_secret_expires_at"] is None

    row = await stored(session, body["client_id"])
    assert row.developer_id == developer.developer.id
    assert row.client_secret_hash is not None
    assert len(row.client_secret_hash) == 32
    assert body["client_secret"].encode() not in row.client_secret_hash
    assert body["client_secret"] not in row.redirect_uris_json + row.name + row.description
    assert await secret_accepted(session, keyring, row, body["client_secret"])


async def test_register_a_public_app(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession
) -> None:
    body = await register(client, developer, token_endpoint_auth_method="none", webhook_url=None)
    assert body["client_secret"] is None
    assert body["webhook_url"] is None
    assert (await stored(session, body["client_id"])).client_secret_hash is None


async def test_optional_fields_may_be_left_out(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    minimal = registration()
    for name in ("description", "optional_scopes", "webhook_url"):
        del minimal[name]
    response = await client.post(APPS, json=minimal, headers=bearer(developer.key))
    assert response.status_code == 201, response.text
    assert response.json()["optional_scopes"] == ""


async def test_hosts_are_kept_exactly_as_registered(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    uris = [
        "https://xn--plnner-cua.example.com/cb",
        "http://127.0.0.1:8765/callback",
        "http://[::1]:8765/callback",
        "http://localhost/cb",
    ]
    assert (await register(client, developer, redirect_uris=uris))["redirect_uris"] == uris


@pytest.mark.parametrize(
    "uri",
    [
        "https://a;b.example/cb",
        "https://a,b.example/cb",
        "https://exa mple.com/cb",
        "https://[::1;]/cb",
        "https://a'b.example/cb",
        "https://a b.example/cb",
        "https://planner.example.com;script-src 'unsafe-inline'/cb",
        "https://plänner.example.com/cb",
        "https://127.1/cb",
    ],
)
async def test_a_redirect_uri_whose_host_is_not_a_host_is_refused(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession, uri: str
) -> None:
    response = await client.post(
        APPS, json=registration(redirect_uris=["https://ok.example/cb", uri]), headers=bearer(developer.key)
    )
    assert error_pointers(response) == ["#/redirect_uris/1"]
    assert uri not in response.text
    assert (await session.scalars(select(App))).all() == []
    created = await register(client, developer)
    patched = await client.patch(
        f"{APPS}/{created['client_id']}", json={"redirect_uris": [uri]}, headers=bearer(developer.key)
    )
    assert error_pointers(patched) == ["#/redirect_uris/0"]


def _text_field(schema: dict[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """(the string schema, whether it is a list's items) of a text field, or None for other fields."""
    option = next(option for option in schema.get("anyOf", [schema]) if option.get("type") != "null")
    if option.get("type") == "array":
        return option["items"], True
    return (option, False) if option.get("type") == "string" and "enum" not in option else None


@pytest.mark.parametrize("model", ["AppIn", "AppPatch"])
async def test_the_schema_says_which_text_may_be_empty(
    client: httpx.AsyncClient, developer: DeveloperWithKey, app: FastAPI, model: str
) -> None:
    """An empty value is accepted exactly where the published schema has no `minLength` (or enum)."""
    key = bearer(developer.key)
    created = await register(client, developer)
    fields = app.openapi()["components"]["schemas"][model]["properties"]
    checked = []
    for field, schema in fields.items():
        found = _text_field(schema)
        if found is None:
            continue
        text, listed = found
        empty: object = [""] if listed else ""
        if model == "AppIn":
            response = await client.post(APPS, json=registration(**{field: empty}), headers=key)
            accepted = response.status_code == 201
        else:
            response = await client.patch(f"{APPS}/{created['client_id']}", json={field: empty}, headers=key)
            accepted = response.status_code == 200
        assert accepted == ("minLength" not in text), (field, response.text)
        if not accepted:
            assert error_pointers(response)[0].startswith(f"#/{field}")
        checked.append(field)
    assert set(checked) == {
        "name", "description", "redirect_uris", "required_scopes", "optional_scopes",
        "privacy_policy_url", "support_url", "webhook_url",
    }  # fmt: skip


async def test_get_and_list_never_show_the_secret(
    client: httpx.AsyncClient, developer: DeveloperWithKey, other_developer: DeveloperWithKey
) -> None:
    first = await register(client, developer, name="First")
    second = await register(client, developer, name="Second", token_endpoint_auth_method="client_secret_post")
    theirs = await register(client, other_developer, name="Theirs")

    listed = await client.get(APPS, headers=bearer(developer.key))
    assert listed.status_code == 200
    assert [app["client_id"] for app in listed.json()["apps"]] == [first["client_id"], second["client_id"]]
    one = await client.get(f"{APPS}/{first['client_id']}", headers=bearer(developer.key))
    assert one.status_code == 200
    assert one.json() == {
        key: value for key, value in first.items() if key not in {"client_secret", "webhook_secret"}
    }
    for response in (listed, one):
        assert 'client_secret"' not in response.text
        for secret in (first["client_secret"], second["client_secret"], theirs["client_secret"]):
            assert secret not in response.text
        for secret in (first["webhook_secret"], second["webhook_secret"], theirs["webhook_secret"]):
            assert secret not in response.text
    other_list = await client.get(APPS, headers=bearer(other_developer.key))
    assert [app["client_id"] for app in other_list.json()["apps"]] == [theirs["client_id"]]


async def test_another_developers_app_is_not_found(
    client: httpx.AsyncClient,
    developer: DeveloperWithKey,
    other_developer: DeveloperWithKey,
    session: AsyncSession,
) -> None:
    theirs = await register(client, other_developer)
    path = f"{APPS}/{theirs['client_id']}"
    mine = bearer(developer.key)
    for response in (
        await client.get(path, headers=mine),
        await client.patch(path, json={"name": "Hijacked"}, headers=mine),
        await client.delete(path, headers=mine),
        await client.post(f"{path}/secret", headers=mine),
        await client.get(f"{APPS}/gw_app_doesnotexist0000", headers=mine),
    ):
        assert problem(response, 404)["type"] == "urn:gateway:problem:not-found"
    row = await stored(session, theirs["client_id"])
    assert row.name == "Homework Planner"
    assert row.previous_secret_hash is None


async def test_patch_changes_only_the_given_fields(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession
) -> None:
    created = await register(client, developer)
    path = f"{APPS}/{created['client_id']}"
    response = await client.patch(
        path,
        json={
            "name": "  Planner 2  ",
            "redirect_uris": ["https://planner.example.com/v2/callback"],
            "optional_scopes": "exclusions",
            "token_endpoint_auth_method": "client_secret_post",
            "webhook_url": None,
        },
        headers=bearer(developer.key),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Planner 2"
    assert body["redirect_uris"] == ["https://planner.example.com/v2/callback"]
    assert body["optional_scopes"] == "exclusions"
    assert body["token_endpoint_auth_method"] == "client_secret_post"
    assert body["webhook_url"] is None
    assert body["required_scopes"] == created["required_scopes"]
    assert body["privacy_policy_url"] == created["privacy_policy_url"]
    assert body["updated_at"] >= created["updated_at"]
    assert (await client.get(path, headers=bearer(developer.key))).json() == body
    assert (await client.patch(path, json={}, headers=bearer(developer.key))).status_code == 200


async def test_patch_is_validated_like_registration(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    created = await register(client, developer)
    path = f"{APPS}/{created['client_id']}"
    key = bearer(developer.key)
    bad_uri = await client.patch(
        path, json={"redirect_uris": ["https://ok.example/cb", "http://evil.example/cb"]}, headers=key
    )
    assert error_pointers(bad_uri) == ["#/redirect_uris/1"]
    # The merged app is checked: this optional scope is now also required.
    overlap = await client.patch(path, json={"required_scopes": "school groups students.sen"}, headers=key)
    assert error_pointers(overlap) == ["#/optional_scopes"]
    nulls = await client.patch(path, json={"name": None, "redirect_uris": None}, headers=key)
    assert error_pointers(nulls) == ["#/name", "#/redirect_uris"]
    assert error_pointers(await client.patch(path, json={"client_id": "gw_app_mine"}, headers=key)) == [
        "#/client_id"
    ]
    switch = await client.patch(path, json={"token_endpoint_auth_method": "none"}, headers=key)
    assert problem(switch, 409)["errors"][0]["pointer"] == "#/token_endpoint_auth_method"
    assert (await client.get(path, headers=key)).json() == {
        k: v for k, v in created.items() if k not in {"client_secret", "webhook_secret"}
    }


async def test_delete(client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession) -> None:
    created = await register(client, developer)
    path = f"{APPS}/{created['client_id']}"
    response = await client.delete(path, headers=bearer(developer.key))
    assert response.status_code == 204
    assert response.content == b""
    assert problem(await client.get(path, headers=bearer(developer.key)), 404)
    assert problem(await client.delete(path, headers=bearer(developer.key)), 404)
    assert await session.scalar(select(App).where(App.client_id == created["client_id"])) is None


async def test_rotation_overlap(
    client: httpx.AsyncClient, developer: DeveloperWithKey, session: AsyncSession, keyring: Keyring
) -> None:
    created = await register(client, developer)
    old = created["client_secret"]
    response = await client.post(f"{APPS}/{created['client_id']}/secret", headers=bearer(developer.key))
    assert response.status_code == 201, response.text
    rotated = response.json()
    assert set(rotated) == {"client_id", "client_secret", "previous_secret_expires_at"}
    new = rotated["client_secret"]
    assert new.startswith("gw_cs_")
    assert new != old

    row = await stored(session, created["client_id"])
    assert row.previous_secret_expires_at is not None
    assert timedelta(hours=23) < row.previous_secret_expires_at - utcnow() <= timedelta(hours=24)
    assert await secret_accepted(session, keyring, row, new)
    assert await secret_accepted(session, keyring, row, old)
    shown = (await client.get(f"{APPS}/{created['client_id']}", headers=bearer(developer.key))).json()
    assert shown["previous_secret_expires_at"] is not None
    assert new not in str(shown)

    row.previous_secret_expires_at = utcnow() - timedelta(minutes=1)
    await session.commit()
    row = await stored(session, created["client_id"])
    assert not await secret_accepted(session, keyring, row, old)
    assert await secret_accepted(session, keyring, row, new)


async def test_a_public_client_has_no_secret_to_rotate(
    client: httpx.AsyncClient, developer: DeveloperWithKey
) -> None:
    created = await register(client, developer, token_endpoint_auth_method="none")
    response = await client.post(f"{APPS}/{created['client_id']}/secret", headers=bearer(developer.key))
    assert problem(response, 409)["type"] == "urn:gateway:problem:conflict"


@pytest.mark.parametrize(
    ("overrides", "pointers"),
    [
        ({"redirect_uris": ["http://planner.example.com/cb"]}, ["#/redirect_uris/0"]),
        (
            {"redirect_uris": ["https://ok.example/cb", "https://planner.example.com/cb#x"]},
            ["#/redirect_uris/1"],
        ),
        ({"redirect_uris": ["https://*.example.com/cb"]}, ["#/redirect_uris/0"]),
        ({"redirect_uris": ["https://me:pw@planner.example.com/cb"]}, ["#/redirect_uris/0"]),
        ({"redirect_uris": ["/oauth/callback"]}, ["#/redirect_uris/0"]),
        ({"redirect_uris": [f"https://planner.example.com/{n}" for n in range(11)]}, ["#/redirect_uris"]),
        ({"redirect_uris": []}, ["#/redirect_uris"]),
        ({"redirect_uris": ["https://planner.example.com/" + "a" * 2000]}, ["#/redirect_uris/0"]),
        ({"redirect_uris": "https://planner.example.com/cb"}, ["#/redirect_uris"]),
        ({"required_scopes": "school students.everything"}, ["#/required_scopes"]),
        ({"optional_scopes": "students.sen students.sen"}, ["#/optional_scopes"]),
        ({"optional_scopes": "groups"}, ["#/optional_scopes"]),
        ({"required_scopes": ["school"]}, ["#/required_scopes"]),
        ({"token_endpoint_auth_method": "private_key_jwt"}, ["#/token_endpoint_auth_method"]),
        ({"webhook_url": "http://planner.example.com/hook"}, ["#/webhook_url"]),
        ({"privacy_policy_url": "http://planner.example.com/privacy"}, ["#/privacy_policy_url"]),
        ({"support_url": "not a url"}, ["#/support_url"]),
        ({"name": "n" * 81}, ["#/name"]),
        ({"name": ""}, ["#/name"]),
        ({"description": "d" * 1001}, ["#/description"]),
        ({"client_id": "gw_app_chosen_by_me"}, ["#/client_id"]),
        ({"client_secret": "gw_cs_chosen"}, ["#/client_secret"]),
    ],
)
async def test_each_bad_field_is_named(
    client: httpx.AsyncClient,
    developer: DeveloperWithKey,
    session: AsyncSession,
    overrides: dict[str, Any],
    pointers: list[str],
) -> None:
    response = await client.post(APPS, json=registration(**overrides), headers=bearer(developer.key))
    assert error_pointers(response) == pointers
    assert (await session.scalars(select(App))).all() == []


@pytest.mark.parametrize(
    "missing",
    [
        "name",
        "redirect_uris",
        "required_scopes",
        "token_endpoint_auth_method",
        "privacy_policy_url",
        "support_url",
    ],
)
async def test_missing_fields(client: httpx.AsyncClient, developer: DeveloperWithKey, missing: str) -> None:
    body = registration()
    del body[missing]
    assert error_pointers(await client.post(APPS, json=body, headers=bearer(developer.key))) == [
        f"#/{missing}"
    ]


async def test_not_json(client: httpx.AsyncClient, developer: DeveloperWithKey) -> None:
    key = bearer(developer.key)
    form = await client.post(APPS, data={"name": "x"}, headers=key)
    assert problem(form, 415)["type"] == "urn:gateway:problem:unsupported-media-type"
    text = await client.post(APPS, content=b"{}", headers={**key, "content-type": "text/plain"})
    assert problem(text, 415)
    broken = await client.post(
        APPS, content=b'{"name": ', headers={**key, "content-type": "application/json"}
    )
    assert problem(broken, 400)["type"] == "urn:gateway:problem:malformed-json"
    array = await client.post(APPS, json=[registration()], headers=key)
    assert problem(array, 422)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", ""),
        ("GET", ""),
        ("GET", "/gw_app_x"),
        ("PATCH", "/gw_app_x"),
        ("DELETE", "/gw_app_x"),
        ("POST", "/gw_app_x/secret"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer gw_dk_ABCDEFGHJKLM_" + "a" * 43, "Basic dXNlcjpwYXNz"]
)
async def test_without_a_valid_developer_key_401(
    client: httpx.AsyncClient,
    developer: DeveloperWithKey,
    session: AsyncSession,
    method: str,
    suffix: str,
    authorization: str | None,
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    body = registration() if method in {"POST", "PATCH"} and not suffix.endswith("secret") else None
    response = await client.request(method, APPS + suffix, json=body, headers=headers)
    assert problem(response, 401)["type"] == "urn:gateway:problem:unauthorized"
    assert response.headers["www-authenticate"] == 'Bearer realm="developer"'
    assert (await session.scalars(select(App))).all() == []


async def test_a_revoked_developer_key_is_401(client: httpx.AsyncClient, developer: DeveloperWithKey) -> None:
    rotated = await client.post("/developer/v1/keys/rotate", headers=bearer(developer.key))
    assert rotated.status_code == 201
    assert problem(await client.get(APPS, headers=bearer(developer.key)), 401)
    assert (await client.get(APPS, headers=bearer(rotated.json()["key"]))).status_code == 200
