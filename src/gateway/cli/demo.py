"""`gateway demo`: a synthetic school in the configured database, what to try, and a server (SPEC §9)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gateway.cli.common import command_settings, fail_cleanly, run_db
from gateway.cli.serve import serve_app
from gateway.db import migrations
from gateway.keys.master import resolve_master_key


@click.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same school.")
@click.option(
    "--students", type=click.IntRange(10, 5000), default=1000, show_default=True, help="Pupils on roll."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve the demo on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to serve the demo on.")
@click.option("--no-serve", is_flag=True, help="Load the demo data and print what to try, then exit.")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the demo's credentials here as JSON, mode 0600 [default: <data_dir>/demo-credentials.json]",
)
@fail_cleanly
def demo(
    seed: int, students: int, host: str, port: int, no_serve: bool, credentials_file: Path | None
) -> None:
    """Load a synthetic school into the configured database (embedded SQLite by default) and serve."""
    from gateway.demo import run_demo

    settings = command_settings()
    master_key = resolve_master_key(settings)
    run_db(settings, migrations.upgrade)
    base = f"http://{host}:{port}"
    # The demo's issuer is wherever it is served, unless the operator said otherwise.
    os.environ.setdefault("GATEWAY_ISSUER", base)
    run_demo(
        settings,
        master_key,
        seed=seed,
        students=students,
        base_url=base,
        credentials_file=credentials_file or settings.data_dir / "demo-credentials.json",
    )
    if not no_serve:
        serve_app(settings, host, port, 1)
