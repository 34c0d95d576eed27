"""A crowded database for `bench.speed --population N`: N more apps, grants, access-token rows and
refresh tokens (bulk SQL, PostgreSQL), and the query plans of the token endpoint's and introspection's
statements, to show they stay index lookups however many rows there are."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.oauth.client_auth import _FIND_APP
from gateway.oauth.presented import _STATE_QUERIES

_ADD = [
    # One developer owns them all; each app is granted by the bench's first school.
    """INSERT INTO developers (id, name, email, created_at)
       VALUES (:developer, 'Crowd Apps Ltd', 'crowd@bench-apps.example.org', now())""",
    """INSERT INTO apps (id, developer_id, client_id, name, description, privacy_policy_url, support_url,
                         redirect_uris, required_scopes, optional_scopes, token_endpoint_auth_method,
                         client_secret_hash, created_at, updated_at)
       SELECT gen_random_uuid(), :developer, 'gw_app_crowd' || lpad(i::text, 12, '0'), 'Crowd app ' || i,
              'One of many.', 'https://crowd.example.com/privacy', 'https://crowd.example.com/support',
              '["https://crowd.example.com/callback"]', 'school students.basic', '', 'client_secret_basic',
              sha256(i::text::bytea), now(), now()
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO grants (id, school_id, app_id, scopes, created_at, updated_at)
       SELECT gen_random_uuid(), :school, id, 'school students.basic', now(), now()
       FROM apps WHERE developer_id = :developer""",
    """INSERT INTO access_tokens (jti, app_id, grant_id, family_id, expires_at)
       SELECT md5(id::text), app_id, id, id, now() + interval '15 minutes'
       FROM grants WHERE app_id IN (SELECT id FROM apps WHERE developer_id = :developer)""",
    """INSERT INTO refresh_tokens (id, token_hash, family_id, app_id, grant_id, school_id, scopes,
                                   created_at, expires_at)
       SELECT gen_random_uuid(), sha256(id::text::bytea), id, app_id, id, school_id, scopes, now(),
              now() + interval '30 days'
       FROM grants WHERE app_id IN (SELECT id FROM apps WHERE developer_id = :developer)""",
    "ANALYZE",
]


_POSTGRES: Any = postgresql.dialect()  # type: ignore[no-untyped-call]


def _async_url(url: str) -> str:
    return url if "+asyncpg" in url else url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def populate(database_url: str, school_id: str, count: int) -> str:
    """Add `count` apps, grants, access-token rows and refresh tokens; what was added, in words."""
    engine = create_async_engine(_async_url(database_url))
    try:
        async with engine.begin() as connection:
            parameters = {"developer": uuid.uuid4(), "n": count, "school": uuid.UUID(school_id)}
            for statement in _ADD:
                await connection.execute(text(statement), parameters)
            totals = {
                table: await connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 (fixed names)
                for table in ("apps", "grants", "access_tokens", "refresh_tokens")
            }
    finally:
        await engine.dispose()
    return ", ".join(f"{total:,} {table}" for table, total in totals.items())


def _literal(statement: Select[Any], parameters: dict[str, Any]) -> str:
    bound = statement.params(**parameters)
    return str(bound.compile(dialect=_POSTGRES, compile_kwargs={"literal_binds": True}))


async def query_plans(database_url: str, client_id: str, access_token: str) -> str:
    """EXPLAIN of the client lookup (token endpoint, introspection's client authentication) and of the
    token-state query (introspection, and the data API's live check), for the bench's own app and token."""
    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    statements = {
        "client lookup (`apps.client_id`)": _literal(_FIND_APP, {"client_id": client_id}),
        "token state (app ⟕ grant ⟕ school ⟕ access-token row)": _literal(
            _STATE_QUERIES[True, True],
            {
                "client_id": client_id,
                "jti": claims["jti"],
                "grant_id": uuid.UUID(claims["grant_id"]),
                "school_id": uuid.UUID(claims["school_id"]),
            },
        ),
    }
    engine = create_async_engine(_async_url(database_url))
    out = []
    try:
        async with engine.connect() as connection:
            for label, sql in statements.items():
                plan = (await connection.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))).scalars()
                out.append(f"Plan of the {label}:\n\n" + "\n".join(f"    {line}" for line in plan))
    finally:
        await engine.dispose()
    return "\n\n".join(out)
