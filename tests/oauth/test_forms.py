"""The back-channel form rules: media type, size, duplicates, hostile input; RFC 6749 §5.2 errors only."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import AuthMethod
from gateway.keys.keyring import Keyring
from gateway.oauth.errors import InvalidRequest
from gateway.oauth.forms import MAX_FORM_BYTES, is_form_media_type, parse_form
from tests.support.backchannel import assert_oauth_error, basic, post_form, register
from tests.support.http import FORM

ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencodedx",
    ],
)
async def test_only_form_bodies_are_accepted(
    client: httpx.AsyncClient, path: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(path, content=b"grant_type=client_credentials&token=x", headers=headers)
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "application/x-www-form-urlencoded" in body["error_description"]


def test_the_form_media_type_may_say_utf_8() -> None:
    assert is_form_media_type("application/x-www-form-urlencoded")
    assert is_form_media_type("Application/X-WWW-Form-URLEncoded; charset=UTF-8")
    assert not is_form_media_type("application/x-www-form-urlencoded; charset=iso-8859-1")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", ["grant_type", "client_id", "token", "unknown_extra"])
async def test_a_duplicated_parameter_is_refused(client: httpx.AsyncClient, path: str, name: str) -> None:
    form = [("grant_type", "client_credentials"), ("client_id", "gw_app_x"), ("token", "t"), (name, "again")]
    if name == "unknown_extra":
        form.append((name, "and again"))
    response = await post_form(client, path, form)
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "more than once" in body["error_description"]
    if name != "unknown_extra":
        assert name in body["error_description"]


async def test_a_duplicate_is_refused_even_when_one_copy_is_empty(client: httpx.AsyncClient) -> None:
    response = await post_form(
        client, "/oauth/token", [("grant_type", ""), ("grant_type", "client_credentials")]
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_an_oversized_body_is_refused(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=b"x=" + b"a" * MAX_FORM_BYTES, headers=FORM)
    assert "larger than" in assert_oauth_error(response, 400, "invalid_request")["error_description"]


async def test_an_oversized_chunked_body_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"a" * 1024

    response = await client.post("/oauth/token", content=chunks(), headers=FORM)
    assert_oauth_error(response, 400, "invalid_request")


async def test_too_many_parameters_are_refused(client: httpx.AsyncClient) -> None:
    form = [(f"p{n}", "v") for n in range(40)]
    response = await post_form(client, "/oauth/token", form)
    assert_oauth_error(response, 400, "invalid_request")


async def test_unknown_parameters_are_ignored(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    form = {"grant_type": "client_credentials", "resource": "https://elsewhere.example", "audience": "x"}
    response = await post_form(client, "/oauth/token", form, basic(app.client_id, app.secret))
    assert response.status_code == 200, response.text


async def test_an_empty_parameter_counts_as_omitted(client: httpx.AsyncClient) -> None:
    response = await post_form(client, "/oauth/token", {"grant_type": "", "client_id": ""})
    assert_oauth_error(response, 401, "invalid_client")


async def test_grant_type_is_required_and_must_be_known(
    client: httpx.AsyncClient, session: AsyncSession, keyring: Keyring
) -> None:
    app = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
    assert app.secret is not None
    headers = basic(app.client_id, app.secret)
    missing = await post_form(client, "/oauth/token", {"scope": "school"}, headers)
    assert "grant_type" in assert_oauth_error(missing, 400, "invalid_request")["error_description"]
    for unknown in (
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
        "CLIENT_CREDENTIALS",
    ):
        response = await post_form(client, "/oauth/token", {"grant_type": unknown}, headers)
        assert_oauth_error(response, 400, "unsupported_grant_type")


HOSTILE = [
    "\x00",
    "a\r\nSet-Cookie: x=1",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"; DROP TABLE apps; --',
    "../../etc/passwd",
    "\u202egw_app_x",
    "😀" * 50,
    "%00%0d%0a",
    "a" * 4097,
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    "name", ["client_id", "code", "redirect_uri", "code_verifier", "refresh_token", "token"]
)
async def test_hostile_strings_are_refused_plainly(client: httpx.AsyncClient, name: str, value: str) -> None:
    form = {"grant_type": "authorization_code", "client_id": "gw_app_abcdefghijklmnop", name: value}
    for path in ENDPOINTS:
        response = await post_form(client, path, form)
        assert response.status_code in {400, 401}, (path, response.text)
        body = response.json()
        assert set(body) == {"error", "error_description"}
        assert value not in body["error_description"]
        assert response.headers["cache-control"] == "no-store"


async def test_raw_non_ascii_bytes_in_the_body_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth/token", content="grant_type=é".encode(), headers=FORM)
    assert_oauth_error(response, 400, "invalid_request")
    response = await client.post("/oauth/token", content=b"grant_type=%ff%fe", headers=FORM)
    assert_oauth_error(response, 400, "invalid_request")


async def test_wrong_methods_are_not_oauth_json_bodies_but_are_refused(client: httpx.AsyncClient) -> None:
    for path in ENDPOINTS:
        assert (await client.get(path)).status_code == 405


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_parse_form_never_fails_but_with_invalid_request(body: bytes) -> None:
    try:
        form = parse_form(body)
    except InvalidRequest as refused:
        description = refused.description
        form = {}
    else:
        description = ""
    assert all(0x20 <= ord(c) <= 0x7E for c in description)
    assert all(isinstance(v, str) and v for v in form.values())


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["grant_type", "code", "x", "scope"]), st.text(max_size=50)))
def test_parse_form_reads_what_urlencode_wrote(fields: dict[str, str]) -> None:
    body = urlencode(fields).encode()
    try:
        parsed = parse_form(body)
    except InvalidRequest:
        assert any(any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) for value in fields.values())
        return
    expected = {k: v for k, v in fields.items() if v and k != "x"}
    assert parsed == expected
