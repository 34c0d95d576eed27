"""`gateway demo`: generate a synthetic school, load it as a connector would, and say what to try."""

from __future__ import annotations

import asyncio
import secrets
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts import service as accounts
from gateway.accounts.models import Admin
from gateway.auth.passwords import PasswordHashing
from gateway.db.engine import create_engine
from gateway.demo_app import (
    DemoApp,
    ReadyAuthorization,
    credentials,
    demo_app,
    ready_authorization,
    write_credentials,
)
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import LoadedSchool, load_demo_school
from gateway.mis.synthetic import generate_school
from gateway.schools.models import School
from gateway.settings import Settings


def run_demo(
    settings: Settings,
    master_key: bytes,
    *,
    seed: int,
    students: int,
    base_url: str,
    credentials_file: Path,
) -> LoadedSchool:
    today = datetime.now(UTC).date()
    click.echo(f"Generating synthetic school (seed {seed}, {students} pupils)…", err=True)
    generated = generate_school(seed, students=students, today=today)
    total = sum(generated.counts().values())

    async def load() -> tuple[LoadedSchool, DemoAdmin, DemoApp]:
        engine = create_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            with click.progressbar(
                length=total, label="Loading through the connector path", file=sys.stderr
            ) as bar:
                loaded = await load_demo_school(
                    sessions, Keyring(master_key), generated, today=today, progress=bar.update
                )
            async with sessions() as session, session.begin():
                admin = await demo_admin(session, loaded, base_url)
                app = await demo_app(session, Keyring(master_key), base_url)
            return loaded, admin, app
        finally:
            await engine.dispose()

    loaded, admin, app = asyncio.run(load())
    write_credentials(
        credentials_file, credentials(base_url, loaded.school_id, admin.email, admin.password, app)
    )
    click.echo(summary(loaded, admin, base_url, settings.data_dir / "mail"))
    click.echo(app_summary(app, credentials_file))
    click.echo(flow_summary(base_url, app, ready_authorization(base_url, app, loaded.school_id)))
    return loaded


@dataclass(frozen=True)
class DemoAdmin:
    email: str
    password: str


async def demo_admin(session: AsyncSession, loaded: LoadedSchool, issuer: str) -> DemoAdmin:
    """The demo school's admin: password sign-in, no TOTP, a fresh password each run (SPEC §9)."""
    email = f"admin@urn{loaded.urn}.example.org"
    school = await session.get(School, uuid.UUID(loaded.school_id))
    assert school is not None
    admin = await session.scalar(select(Admin).where(Admin.email == email))
    if admin is None:
        admin, _link = await accounts.create_admin(session, school, email, issuer=issuer)
    password = f"Demo-{secrets.token_urlsafe(9)}-7"
    await accounts.set_password(session, PasswordHashing(), admin, password)
    admin.failed_attempts, admin.locked_at = 0, None
    return DemoAdmin(email, password)


def summary(loaded: LoadedSchool, admin: DemoAdmin, base_url: str, mail_dir: Path) -> str:
    counts = "\n".join(f"    {resource:<22}{count:>8,}" for resource, count in loaded.counts.items())
    return f"""
  The gateway demo: {loaded.name} (URN {loaded.urn}, school id {loaded.school_id})
  Synthetic records loaded (invented people, valid DfE codes), encrypted with the school's key:
{counts}

  School admin sign-in  {base_url}/login
    email     {admin.email}
    password  {admin.password}   (new each run; no second factor until you set one up)
  Mail the gateway sends in development (reset links, lockout notices) is written to {mail_dir}/

  API documentation  {base_url}/docs
  Liveness           {base_url}/healthz
  Readiness          {base_url}/readyz
  Metrics            {base_url}/metrics

  Connector key (shown once; earlier demo keys are revoked):
    {loaded.connector_key}
  Try it:
    curl -H "Authorization: Bearer {loaded.connector_key}" {base_url}/connector/v1/status
"""


def app_summary(app: DemoApp, credentials_file: Path) -> str:
    return f"""  Demo app (confidential client; the developer key and secret are new each run):
    client_id      {app.client_id}
    client_secret  {app.client_secret}
    redirect_uri   {app.redirect_uris[0]}
    scopes         required: {app.required_scopes}; optional: {app.optional_scopes}
    developer key  {app.developer_key}   (try: GET /developer/v1/apps)
  All of the above as JSON (mode 0600): {credentials_file}
"""


def flow_summary(base_url: str, app: DemoApp, ready: ReadyAuthorization) -> str:
    return f"""  Try the OAuth flow by hand: open this URL, sign in as the admin above and approve.
    {ready.url}
  Your browser then goes to {app.redirect_uris[0]}?code=…&state=…&iss=… (nothing listens there unless the
  sample app runs: see examples/sample_app/README.md). Within 60 seconds, exchange the code:
    curl -u '{app.client_id}:{app.client_secret}' -d grant_type=authorization_code \\
      -d redirect_uri={app.redirect_uris[0]} -d code_verifier={ready.code_verifier} \\
      -d code=<the code> {base_url}/oauth/token
"""
