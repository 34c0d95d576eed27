"""The read-only path of `/oauth/token` (client_credentials) and `/oauth/introspect` on PostgreSQL.

With the app's own engine (not a test's shared connection) these requests run in autocommit, without
BEGIN/COMMIT. The very first token of a deployment must create the signing key: the request is then run
again in a transaction. Real commits on a throwaway database.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.apps.models import AuthMethod
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.db.read_only import is_read_only, read_only_session
from gateway.db.session import Database
from gateway.keys.keyring import Keyring
from gateway.keys.models import SigningKey
from gateway.settings import Settings
from tests.support.apps import REDIRECT_URI
from tests.support.backchannel import (
    ISSUER,
    basic,
    make_code,
    make_grant,
    make_school,
    post_form,
    register,
    token_request,
)
from tests.support.databases import migrated_database
from tests.support.pkce import Pkce


@pytest.mark.postgres_only
async def test_client_credentials_and_introspection_run_in_autocommit(tmp_path: Path) -> None:
    master_key = os.urandom(32)
    async with migrated_database(tmp_path) as database:
        keyring = Keyring(master_key)
        async with database.sessions() as session:
            registered = await register(session, keyring, AuthMethod.CLIENT_SECRET_BASIC)
            public = await register(session, keyring, AuthMethod.NONE)
            school = await make_school(session)
            grant = await make_grant(session, registered.app, school)
            pkce = Pkce()
            code = await make_code(session, registered.app, grant, pkce)
            assert await session.scalar(select(func.count()).select_from(SigningKey)) == 0
        assert registered.secret is not None

        own_database = Database(database.engine)
        async with read_only_session(own_database) as session:
            assert is_read_only(session)

        settings = Settings(
            environment="test",
            database_url=database.url,
            master_key=base64.b64encode(master_key).decode(),
            issuer=ISSUER,
            data_dir=tmp_path,
        )
        app = create_app(
            settings,
            database=own_database,
            master_key=master_key,
            password_hashing=PasswordHashing(CHEAP_TEST_PARAMETERS),
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = basic(registered.client_id, registered.secret)
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
            # No signing key yet: the read-only attempt steps aside and a transaction creates one.
            first = await post_form(client, "/oauth/token", {"grant_type": "client_credentials"}, headers)
            assert first.status_code == 200, first.text
            second = await post_form(client, "/oauth/token", {"grant_type": "client_credentials"}, headers)
            assert second.status_code == 200, second.text
            async with database.sessions() as session:
                assert await session.scalar(select(func.count()).select_from(SigningKey)) == 1

            tokens = await token_request(
                client,
                registered,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": pkce.verifier,
                },
            )
            assert tokens.status_code == 200, tokens.text
            school_token = tokens.json()["access_token"]
            for token, expected in ((school_token, str(school.id)), (second.json()["access_token"], None)):
                answer = await post_form(client, "/oauth/introspect", {"token": token}, headers)
                assert answer.status_code == 200, answer.text
                assert answer.json()["active"] is True
                assert answer.json().get("school_id") == expected

            refused = await post_form(
                client, "/oauth/introspect", {"token": school_token, "client_id": public.client_id}
            )
            assert refused.status_code == 401
            wrong = await post_form(
                client,
                "/oauth/introspect",
                {"token": school_token},
                basic(registered.client_id, "gw_cs_" + "x" * 43),
            )
            assert wrong.status_code == 401
            assert wrong.json()["error"] == "invalid_client"
