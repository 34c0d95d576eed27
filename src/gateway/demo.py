"""`gateway demo`: generate a synthetic school, load it as a connector would, and say what to try."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import click
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.db.engine import create_engine
from gateway.keys.keyring import Keyring
from gateway.mis.demo_school import LoadedSchool, load_demo_school
from gateway.mis.synthetic import generate_school
from gateway.settings import Settings


def run_demo(
    settings: Settings, master_key: bytes, *, seed: int, students: int, base_url: str
) -> LoadedSchool:
    today = datetime.now(UTC).date()
    click.echo(f"Generating synthetic school (seed {seed}, {students} pupils)…", err=True)
    generated = generate_school(seed, students=students, today=today)
    total = sum(generated.counts().values())

    async def load() -> LoadedSchool:
        engine = create_engine(settings)
        try:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            with click.progressbar(
                length=total, label="Loading through the connector path", file=sys.stderr
            ) as bar:
                return await load_demo_school(
                    sessions, Keyring(master_key), generated, today=today, progress=bar.update
                )
        finally:
            await engine.dispose()

    loaded = asyncio.run(load())
    click.echo(summary(loaded, base_url))
    return loaded


def summary(loaded: LoadedSchool, base_url: str) -> str:
    counts = "\n".join(f"    {resource:<22}{count:>8,}" for resource, count in loaded.counts.items())
    return f"""
  The gateway demo: {loaded.name} (URN {loaded.urn}, school id {loaded.school_id})
  Synthetic records loaded (invented people, valid DfE codes), encrypted with the school's key:
{counts}

  API documentation  {base_url}/docs
  Liveness           {base_url}/healthz
  Readiness          {base_url}/readyz
  Metrics            {base_url}/metrics

  Connector key (shown once; earlier demo keys are revoked):
    {loaded.connector_key}
  Try it:
    curl -H "Authorization: Bearer {loaded.connector_key}" {base_url}/connector/v1/status
"""
