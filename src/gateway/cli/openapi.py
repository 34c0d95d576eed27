"""`gateway openapi`: export the OpenAPI document the app serves, or check the exported one."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import CommandFailed, fail_cleanly
from gateway.openapi_export import DEFAULT_PATH, drift, served_schema
from gateway.settings import load_settings


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from the served schema.")
@click.option("--output", type=click.Path(path_type=Path), default=DEFAULT_PATH, show_default=True)
@fail_cleanly
def openapi(check: bool, output: Path) -> None:
    """Write the OpenAPI document the app serves to openapi/openapi.json."""
    from gateway.app import create_app

    app = create_app(load_settings())
    if check:
        if drift(app, output):
            raise CommandFailed(f"{output} is out of date: run `gateway openapi`")
        click.echo(f"{output} matches the served schema")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(served_schema(app), encoding="utf-8")
    click.echo(f"wrote {output}")
