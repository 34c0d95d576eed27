"""`gateway retention plan|run`, `gateway school delete` and `gateway connector delete` (SPEC §3.8, §9).

The rules are `gateway.retention`; what they do to the database is `gateway.erasure`. `gateway serve`
runs the same work every hour (`gateway.jobs.retention`); these commands show it ahead of time and run it
now, one school per transaction, with a progress bar on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.audit import events
from gateway.cli.common import (
    CommandFailed,
    command_settings,
    emit,
    fail_cleanly,
    run_in_transaction,
    run_unbounded,
)
from gateway.db.base import utcnow
from gateway.erasure.clock import day_in_england
from gateway.erasure.files import settle_files
from gateway.erasure.plan import (
    DEFAULT_HORIZON_DAYS,
    Done,
    Planned,
    SchoolPlan,
    act_on_school,
    plan_school,
    schools_in_order,
)
from gateway.erasure.requests import cancel_deletion, delete_connector, request_deletion
from gateway.keys.keyring import Keyring
from gateway.keys.master import resolve_master_key
from gateway.schools.service import find_school

SCHOOL_OPTION = click.option("--school", "school_ref", required=True, help="School id or URN.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD, e.g. 2027-05-28", param_hint="--today") from None


TODAY_OPTION = click.option(
    "--today",
    "today_text",
    default=None,
    metavar="YYYY-MM-DD",
    help="Act as if it were this day in England (default: today).",
)


# --- scheduling a whole school's purge ---------------------------------------------------------------------


@click.command("delete")
@SCHOOL_OPTION
@click.option("--cancel", is_flag=True, help="Withdraw the school's pending deletion request instead.")
@JSON_OPTION
@fail_cleanly
def school_delete(school_ref: str, cancel: bool, as_json: bool) -> None:
    """Schedule the deletion of a school's data: it is purged at the end of the 5th working day (England and
    Wales) after today, and can be cancelled with --cancel until then."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> dict[str, str | None]:
        found = await find_school(session, school_ref)
        now = utcnow()
        if cancel:
            deletion = await cancel_deletion(session, found, actor=events.OPERATOR, now=now)
        else:
            deletion = await request_deletion(session, found, actor=events.OPERATOR, now=now)
        return {
            "school_id": str(found.id),
            "deletion_id": str(deletion.id),
            "rule": deletion.rule,
            "due_on": deletion.due_on.isoformat(),
            "cancelled_at": deletion.cancelled_at.isoformat() if deletion.cancelled_at else None,
        }

    done = run_in_transaction(settings, work)
    line = (
        f"cancelled the deletion of school {done['school_id']}"
        if cancel
        else f"school {done['school_id']}: its data will be purged by the end of {done['due_on']}"
        f" (cancel with `gateway school delete --school {done['school_id']} --cancel`)"
    )
    emit(as_json, done, [line])


@click.command("delete")
@SCHOOL_OPTION
@JSON_OPTION
@fail_cleanly
def connector_delete(school_ref: str, as_json: bool) -> None:
    """Delete a school's MIS connector: every connector key is revoked now, so the MIS can no longer sync,
    and the school's MIS data is purged at the end of the 5th working day after today. Not undone."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> dict[str, str]:
        found = await find_school(session, school_ref)
        deletion = await delete_connector(session, found, actor=events.OPERATOR, now=utcnow())
        return {
            "school_id": str(found.id),
            "deletion_id": str(deletion.id),
            "due_on": deletion.due_on.isoformat(),
        }

    done = run_in_transaction(settings, work)
    emit(
        as_json,
        done,
        [
            f"school {done['school_id']}: connector deleted; "
            f"its MIS data will be purged by the end of {done['due_on']}"
        ],
    )


# --- retention plan and run --------------------------------------------------------------------------------


@click.group()
def retention() -> None:
    """What the retention rules will delete, and deleting what is due."""


def _today(today_text: str | None, now: datetime) -> date:
    return _day(today_text) or day_in_england(now)


@retention.command("plan")
@TODAY_OPTION
@click.option(
    "--days",
    default=DEFAULT_HORIZON_DAYS,
    show_default=True,
    type=click.IntRange(0, 3660),
    help="Also list what falls due this many days ahead.",
)
@JSON_OPTION
@fail_cleanly
def retention_plan(today_text: str | None, days: int, as_json: bool) -> None:
    """List, per school, each purge that is due or falls due within --days: the rule, the day, how many
    pupils. Counts and dates only, never a name."""
    settings = command_settings()
    master_key = resolve_master_key(settings)
    today = _today(today_text, utcnow())

    async def work(engine: AsyncEngine) -> list[SchoolPlan]:
        keyring = Keyring(master_key)
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            return [
                await plan_school(session, keyring, school, today, days)
                for school in await schools_in_order(session)
            ]

    plans = [plan for plan in run_unbounded(settings, work) if plan.items or plan.undated_leavers]
    items = [item for plan in plans for item in plan.items]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "today": today.isoformat(),
                    "days": days,
                    "items": [item.as_dict() for item in items],
                    "undated_leavers": {
                        plan.school.urn: plan.undated_leavers for plan in plans if plan.undated_leavers
                    },
                },
                sort_keys=True,
            )
        )
        return
    click.echo(f"retention plan for {today:%A %-d %B %Y} and the {days} days after")
    if not items:
        click.echo("nothing is due")
    else:
        click.echo(f"{'URN':<8}{'rule':<20}{'action':<8}{'due on':<12}{'pupils':>7}")
        for item in items:
            mark = "  due now" if item.overdue else ""
            click.echo(
                f"{item.urn:<8}{item.rule:<20}{item.action:<8}{item.due_on.isoformat():<12}{item.pupils:>7}{mark}"
            )
    for plan in plans:
        if plan.undated_leavers:
            click.echo(
                f"{plan.school.urn}: {plan.undated_leavers} leaver(s) without a date of birth: "
                "the former-pupil rule cannot date their erasure"
            )


@retention.command("run")
@TODAY_OPTION
@click.option("--dry-run", is_flag=True, help="Show what is due now and change nothing.")
@JSON_OPTION
@fail_cleanly
def retention_run(today_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Do everything due by the end of today, one school per transaction. Running it again does nothing
    more. --today may name an earlier day (to replay), never a later one: that would purge too soon."""
    settings = command_settings()
    master_key = resolve_master_key(settings)
    now = utcnow()
    today = _today(today_text, now)
    if today > day_in_england(now) and not dry_run:
        raise CommandFailed(
            f"--today {today} is in the future: retention never purges before the rules allow"
        )

    async def work(engine: AsyncEngine) -> list[tuple[str, Done]]:
        keyring = Keyring(master_key)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            schools = [(school.id, school.urn) for school in await schools_in_order(session)]
            if dry_run:
                due: list[Planned] = []
                for school in await schools_in_order(session):
                    plan = await plan_school(session, keyring, school, today, 0)
                    due += [item for item in plan.items if item.overdue]
                _print_dry_run(due, as_json)
                return []
        results: list[tuple[str, Done]] = []
        with click.progressbar(schools, label="retention", file=sys.stderr, show_pos=True) as bar:
            for school_id, urn in bar:
                async with sessions() as session, session.begin():
                    done = await act_on_school(
                        session,
                        keyring,
                        school_id,
                        today=today,
                        now=now,
                        actor=events.OPERATOR,
                        issuer=settings.issuer,
                    )
                if done.anything:
                    results.append((urn, done))
        if results:
            await settle_files(engine)
        return results

    results = run_unbounded(settings, work)
    if dry_run:
        return
    if as_json:
        click.echo(
            json.dumps(
                {
                    "today": today.isoformat(),
                    "schools": [
                        {
                            "urn": urn,
                            "purged": done.purges,
                            "pupils": done.pupils,
                            "admins_warned": done.warned,
                        }
                        for urn, done in results
                    ],
                },
                sort_keys=True,
            )
        )
        return
    if not results:
        click.echo("nothing was due")
    for urn, done in results:
        for rule, rows in done.purges.items():
            click.echo(f"{urn}: purged under {rule}: {rows} rows ({done.pupils} pupils)")
        if done.warned:
            click.echo(f"{urn}: warned {done.warned} admin(s) of the inactivity purge")


def _print_dry_run(planned: list[Planned], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps({"dry_run": True, "items": [item.as_dict() for item in planned]}, sort_keys=True)
        )
        return
    if not planned:
        click.echo("dry run: nothing is due")
    for item in planned:
        click.echo(
            f"dry run: would {item.action} {item.urn} under {item.rule} "
            f"(due {item.due_on}, {item.pupils} pupils)"
        )
