"""Operator commands that create or change things: schools, admins, connector keys, developers, keys."""

from __future__ import annotations

import os
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts import service as accounts
from gateway.audit import events, rotations
from gateway.cli.common import CommandFailed, command_settings, emit, fail_cleanly, run_in_transaction
from gateway.cli.support import default_operator, request_uuid
from gateway.connector import keys as connector_keys
from gateway.db.base import utcnow
from gateway.developers import service as developers
from gateway.keys import signing
from gateway.keys.envelope import master_key_id
from gateway.keys.keyring import Keyring
from gateway.schools.service import find_school, open_school, require_totp
from gateway.settings import decode_master_key
from gateway.support.admins import add_admin_with_leave

JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print what was created as one JSON object."
)


@click.group()
def school() -> None:
    """Schools (tenants)."""


@school.command("create")
@click.option("--urn", required=True, help="The school's 6-digit URN.")
@click.option("--name", required=True)
@click.option("--la-code", required=True, help="3-digit local authority code.")
@click.option("--establishment-number", required=True, help="4-digit DfE establishment number.")
@click.option("--phase", default="secondary", show_default=True)
@click.option("--admin-email", default=None, help="The first admin: gets a one-time setup link to pass on.")
@JSON_OPTION
@fail_cleanly
def school_create(
    urn: str,
    name: str,
    la_code: str,
    establishment_number: str,
    phase: str,
    admin_email: str | None,
    as_json: bool,
) -> None:
    """Create a school, and optionally its first admin."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> dict[str, str]:
        created = await open_school(
            session,
            actor=events.OPERATOR,
            urn=urn,
            name=name,
            la_code=la_code,
            establishment_number=establishment_number,
            phase=phase,
        )
        result = {"id": str(created.id), "urn": created.urn, "name": created.name}
        if admin_email:
            admin, link = await accounts.add_admin(
                session, created, admin_email, issuer=settings.issuer, actor=events.OPERATOR
            )
            result |= {"admin_id": str(admin.id), "admin_email": admin.email, "setup_link": link}
        return result

    created = run_in_transaction(settings, work)
    lines = [f"created school {created['name']} (URN {created['urn']}, id {created['id']})"]
    if "setup_link" in created:
        lines += [
            f"first admin {created['admin_email']}: send them this one-time setup link (valid 3 days):",
            created["setup_link"],
        ]
    emit(as_json, created, lines)


@school.command("require-totp")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@click.option("--off", is_flag=True, help="Stop requiring it.")
@fail_cleanly
def school_require_totp(school_ref: str, off: bool) -> None:
    """Require every admin of the school to sign in with an authenticator app."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> str:
        found = await find_school(session, school_ref)
        await require_totp(session, found, not off, actor=events.OPERATOR)
        return found.name

    name = run_in_transaction(settings, work)
    click.echo(f"{name}: second factor {'optional' if off else 'required'} for admins")


@click.group()
def admin() -> None:
    """School admins."""


@admin.command("add")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@click.option("--email", required=True)
@click.option(
    "--request",
    "request_ref",
    default=None,
    help="A live support approval for `add_admin` (needed when the school has an active admin).",
)
@click.option("--break-glass", is_flag=True, help="Add without approval: no admin of the school can sign in.")
@click.option("--reason", default=None, help="Why, with --break-glass: told to every admin.")
@click.option("--by", "operator", default=None, help="Who is adding: a handle (default: your login name).")
@JSON_OPTION
@fail_cleanly
def admin_add(
    school_ref: str,
    email: str,
    request_ref: str | None,
    break_glass: bool,
    reason: str | None,
    operator: str | None,
    as_json: bool,
) -> None:
    """Add an admin to a school; prints their one-time setup link. The school's active admins are told.

    A school's first admin is added as asked. A school with an active admin needs its leave: --request ID
    of a live support approval for `add_admin`, or --break-glass --reason TEXT when none of its admins can
    sign in (announced to every admin and the data protection contact)."""
    settings = command_settings()
    if break_glass and not reason:
        raise CommandFailed("--break-glass needs --reason")
    request_id = request_uuid(request_ref) if request_ref is not None else None

    async def work(session: AsyncSession, _keyring: Keyring) -> dict[str, str]:
        found = await find_school(session, school_ref)
        created, link = await add_admin_with_leave(
            session,
            found,
            email,
            issuer=settings.issuer,
            operator=operator or default_operator(),
            request_id=request_id,
            break_glass_reason=reason if break_glass else None,
            now=utcnow(),
        )
        return {"id": str(created.id), "email": created.email, "school_id": str(found.id), "setup_link": link}

    created = run_in_transaction(settings, work)
    emit(
        as_json,
        created,
        [
            f"admin {created['email']}: send them this one-time setup link (valid 3 days):",
            created["setup_link"],
        ],
    )


@admin.command("list")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@fail_cleanly
def admin_list(school_ref: str) -> None:
    """List a school's admins and their state."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> list[str]:
        found = await find_school(session, school_ref)
        lines = []
        for row in await accounts.list_admins(session, found):
            if row.disabled_at:
                state = "disabled"
            elif row.locked_at:
                state = "locked"
            elif row.password_hash is None:
                state = "awaiting setup"
            else:
                state = "active"
            lines.append(f"{row.email}  {state}  {'TOTP' if row.totp_enrolled_at else 'no TOTP'}")
        return lines

    click.echo("\n".join(run_in_transaction(settings, work)) or "no admins")


@admin.command("disable")
@click.argument("email")
@fail_cleanly
def admin_disable(email: str) -> None:
    """Disable an admin: their sessions end and they can no longer sign in."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> None:
        found = await accounts.find_admin(session, email)
        await accounts.disable_admin(session, found, actor=events.OPERATOR)

    run_in_transaction(settings, work)
    click.echo(f"disabled {email.strip().lower()}")


@click.group()
def connector() -> None:
    """Connector keys for MIS sync."""


@connector.command("create-key")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@JSON_OPTION
@fail_cleanly
def connector_create_key(school_ref: str, as_json: bool) -> None:
    """Create a connector key for a school. It is shown once: store it in the connector's secrets."""
    settings = command_settings()

    async def work(session: AsyncSession, keyring: Keyring) -> dict[str, str]:
        found = await find_school(session, school_ref)
        row, token = await connector_keys.create_key(session, keyring, found.id, actor=events.OPERATOR)
        return {"school_id": str(found.id), "prefix": row.prefix, "key": token}

    created = run_in_transaction(settings, work)
    emit(
        as_json,
        created,
        [
            f"connector key for school {created['school_id']} (prefix {created['prefix']}):",
            created["key"],
            "It is shown once; revoke it with `gateway connector revoke-key PREFIX`.",
        ],
    )


@connector.command("revoke-key")
@click.argument("prefix")
@fail_cleanly
def connector_revoke_key(prefix: str) -> None:
    """Revoke a connector key by its prefix; its next request is refused."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> None:
        await connector_keys.revoke_key(session, prefix, actor=events.OPERATOR)

    run_in_transaction(settings, work)
    click.echo(f"revoked connector key {prefix}")


@connector.command("list-keys")
@click.option("--school", "school_ref", required=True, help="School id or URN.")
@fail_cleanly
def connector_list_keys(school_ref: str) -> None:
    """List a school's connector keys (prefix, created, last used, revoked)."""
    settings = command_settings()

    async def work(session: AsyncSession, _keyring: Keyring) -> list[str]:
        found = await find_school(session, school_ref)
        lines = []
        for row in await connector_keys.list_keys(session, found.id):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            lines.append(f"{row.prefix}  created {row.created_at:%Y-%m-%d %H:%M}  last used {used}  {state}")
        return lines

    click.echo("\n".join(run_in_transaction(settings, work)) or "no connector keys")


@click.group()
def keys() -> None:
    """Key management."""


@keys.command("rotate-master")
@click.option(
    "--new-key-env",
    default="GATEWAY_NEW_MASTER_KEY",
    show_default=True,
    help="Environment variable holding the new master key (base64 of 32 bytes).",
)
@fail_cleanly
def rotate_master(new_key_env: str) -> None:
    """Re-wrap every school data key and server secret under a new master key. Records are untouched;
    afterwards set GATEWAY_MASTER_KEY to the new key: the old one is no longer needed."""
    settings = command_settings()
    encoded = os.environ.get(new_key_env)
    if not encoded:
        raise CommandFailed(
            f"set {new_key_env} to the new master key, e.g. "
            'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
        )
    try:
        new_master = decode_master_key(encoded)
    except ValueError as exc:
        raise CommandFailed(f"{new_key_env}: {exc}") from None

    async def work(session: AsyncSession, keyring: Keyring) -> tuple[int, int]:
        if keyring.master_key == new_master:
            raise CommandFailed("the new master key is the current one")
        return await rotations.rotate_master_key(
            session, keyring.master_key, new_master, actor=events.OPERATOR, now=utcnow()
        )

    school_keys, secrets = run_in_transaction(settings, work)
    click.echo(
        f"re-wrapped {school_keys} school data keys and {secrets} server secrets under master key "
        f"{master_key_id(new_master)}; now set GATEWAY_MASTER_KEY to the new key and restart"
    )


@click.group()
def developer() -> None:
    """App developers and their keys for /developer/v1."""


@developer.command("create")
@click.option("--name", required=True, help="The developer or their organisation (up to 120 characters).")
@click.option("--email", required=True, help="Contact address; one developer per address.")
@JSON_OPTION
@fail_cleanly
def developer_create(name: str, email: str, as_json: bool) -> None:
    """Create a developer account and its first key. The key is shown once: pass it on securely."""
    settings = command_settings()

    async def work(session: AsyncSession, keyring: Keyring) -> dict[str, str]:
        created, row, token = await developers.create_developer(session, keyring, name=name, email=email)
        return {
            "id": str(created.id),
            "name": created.name,
            "email": created.email,
            "prefix": row.prefix,
            "key": token,
        }

    created = run_in_transaction(settings, work)
    emit(
        as_json,
        created,
        [
            f"developer {created['name']} <{created['email']}> (id {created['id']})",
            f"developer key (prefix {created['prefix']}):",
            created["key"],
            "It is shown once; the developer can replace it with POST /developer/v1/keys/rotate.",
        ],
    )


@keys.command("rotate-signing")
@JSON_OPTION
@fail_cleanly
def keys_rotate_signing(as_json: bool) -> None:
    """Activate a new access-token signing key; the old one stays published until its tokens expire."""
    settings = command_settings()

    async def work(session: AsyncSession, keyring: Keyring) -> dict[str, Any]:
        now = utcnow()
        created = await rotations.rotate_signing_key(
            session, keyring.master_key, actor=events.OPERATOR, now=now
        )
        published = await signing.published_rows(session, now=now)
        return {
            "kid": created.kid,
            "published": [
                {"kid": row.kid, "until": row.expires_at.isoformat() if row.expires_at else None}
                for row in published
            ],
        }

    rotated = run_in_transaction(settings, work)
    signing.forget_published_keys()
    lines = [f"new signing key {rotated['kid']} is active"]
    lines += [
        f"still published: {row['kid']} until {row['until']} (signs no more tokens)"
        for row in rotated["published"]
        if row["kid"] != rotated["kid"]
    ]
    emit(as_json, rotated, lines)
