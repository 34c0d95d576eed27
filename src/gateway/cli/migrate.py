"""`gateway migrate`: bring the database schema to the latest Alembic migration."""

from __future__ import annotations

import click

from gateway.cli.common import CommandFailed, command_settings, fail_cleanly, run_db, safe_url
from gateway.db import migrations


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if the database is not at the latest migration.")
@fail_cleanly
def migrate(check: bool) -> None:
    """Bring the database schema to the latest migration (safe to run any number of times)."""
    settings = command_settings()
    if check:
        current = run_db(settings, migrations.current_revision)
        head = migrations.head_revision()
        if current != head:
            raise CommandFailed(f"database is at {current or 'no revision'}, latest is {head}")
        click.echo(f"database is at the latest migration ({head})")
        return
    run_db(settings, migrations.upgrade)
    click.echo(f"database migrated to {migrations.head_revision()} ({safe_url(settings)})")
