"""`gateway support request|list|read` (SPEC §3.9, §9): an operator asks a school for time-boxed access to
named resources, sees the answers, and reads under a live approval. The rules are `gateway.support`.

The operator is named with `--by` (default: the login name running the command), a handle the school
sees on its dashboard and in its emails.
"""

from __future__ import annotations

import getpass
import json
import uuid

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli.common import command_settings, emit, fail_cleanly, run_in_transaction
from gateway.db.base import utcnow
from gateway.keys.keyring import Keyring
from gateway.schools.service import find_school
from gateway.support import requests
from gateway.support.notices import announce_request
from gateway.support.reading import DEFAULT_PAGE, MAX_PAGE, support_read
from gateway.support.requests import DEFAULT_HOURS, MAX_HOURS, PURPOSES
from gateway.support.schemas import request_out

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def default_operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "operator"


def request_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter("a support request id, as `gateway support list` shows it") from None


BY_OPTION = click.option(
    "--by", "operator", default=None, help="Who is asking: a handle (default: your login name)."
)


@click.group()
def support() -> None:
    """Support access to a school's records, only with the school's time-boxed leave."""


@support.command("request")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@click.option("--reason", required=True, help="Why: shown to the school's admins (at most 500 characters).")
@click.option(
    "--resources",
    default="",
    help="Comma-separated resources to read (e.g. students,groups); needed for --purpose read.",
)
@click.option(
    "--hours", default=DEFAULT_HOURS, show_default=True, type=int, help=f"How long, 1 to {MAX_HOURS}."
)
@click.option("--purpose", type=click.Choice(PURPOSES), default="read", show_default=True)
@BY_OPTION
@JSON_OPTION
@fail_cleanly
def support_request(
    school_ref: str,
    reason: str,
    resources: str,
    hours: int,
    purpose: str,
    operator: str | None,
    as_json: bool,
) -> None:
    """Ask a school for access; its admins are emailed and answer on the dashboard."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> dict[str, object]:
        found = await find_school(session, school_ref)
        now = utcnow()
        row = await requests.request_support(
            session,
            found,
            operator=operator or default_operator(),
            reason=reason,
            resources=[name.strip() for name in resources.split(",") if name.strip()],
            hours=hours,
            purpose=purpose,
            now=now,
        )
        emailed = await announce_request(session, found, row, issuer=settings.issuer)
        return request_out(row, now).model_dump(mode="json") | {"admins_emailed": emailed}

    made = run_in_transaction(settings, work)
    emit(
        as_json,
        made,
        [
            f"support request {made['id']} sent to {made['admins_emailed']} admin(s); it is pending "
            "until one of them answers (`gateway support list`)"
        ],
    )


@support.command("list")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@JSON_OPTION
@fail_cleanly
def support_list(school_ref: str, as_json: bool) -> None:
    """A school's support requests, newest first, with their state and end."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> list[dict[str, object]]:
        found = await find_school(session, school_ref)
        now = utcnow()
        return [
            request_out(row, now).model_dump(mode="json")
            for row in await requests.requests_of(session, found.id)
        ]

    rows = run_in_transaction(settings, work)
    if as_json:
        click.echo(json.dumps({"support_requests": rows}, sort_keys=True))
        return
    for row in rows:
        until = f" until {row['expires_at']}" if row["state"] == "live" else ""
        click.echo(
            f"{row['id']}  {row['state']:<10} {row['purpose']:<9} {row['operator']}  "
            f"{row['requested_at']}{until}"
        )
    if not rows:
        click.echo("no support requests")


@support.command("read")
@click.option("--request", "request_ref", required=True, help="The approved support request's id.")
@click.option("--resource", required=True, help="One of the approved resources.")
@click.option("--id", "record_id", default=None, help="One record's id.")
@click.option("--after", default=None, help="The page after this record id (record-id order).")
@click.option(
    "--limit",
    default=DEFAULT_PAGE,
    show_default=True,
    type=click.IntRange(1, MAX_PAGE),
    help="Records a page.",
)
@fail_cleanly
def support_read_command(
    request_ref: str, resource: str, record_id: str | None, after: str | None, limit: int
) -> None:
    """Print a page of records as JSON Lines, if the school's approval is live now and covers the resource.
    Each read is recorded in the school's authorisation log, naming the records read."""
    settings = command_settings()
    request_id = request_uuid(request_ref)

    async def work(session: AsyncSession, keyring: Keyring) -> list[dict[str, object]]:
        return await support_read(
            session,
            keyring,
            request_id,
            resource=resource,
            record_id=record_id,
            now=utcnow(),
            after=after,
            limit=limit,
        )

    records = run_in_transaction(settings, work)
    for record in records:
        click.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))
    if record_id is None and len(records) == limit:
        click.echo(f"more may follow: --after {records[-1]['id']}", err=True)
