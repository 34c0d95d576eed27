"""Admin account use cases (SPEC §1, §4, §5): create, set password, log in, lock out, second factor, reset.

Failures that must be remembered — a wrong password counting towards lockout — are written by the
service and answered without raising, so the request transaction commits them. Audit events are
recorded here, at named events, never in routers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.errors import PasswordRejected
from gateway.accounts.links import LinkPurpose, check_link, issue_link, link_url, redeem_link
from gateway.accounts.models import Admin, RecoveryCode
from gateway.accounts.sessions import Stage, end_all_sessions
from gateway.audit import events
from gateway.audit.events import EventType
from gateway.audit.service import record_event
from gateway.auth.passwords import PasswordHashing, check_password_policy
from gateway.auth.totp import (
    hash_recovery_code,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
    normalise_totp_code,
    verify_totp,
)
from gateway.db.base import utcnow
from gateway.db.guarded import changed_rows
from gateway.email.addresses import address_problem
from gateway.email.outbox import enqueue
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.keys.envelope import DecryptionFailed, open_sealed, seal
from gateway.keys.keyring import Keyring
from gateway.schools.models import School

MAX_FAILED_ATTEMPTS = 10
MAX_EMAIL_LENGTH = 254
TOTP_SECRETS = "totp-secrets"
RECOVERY_CODES = "recovery-codes"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def lookup_email(email: str) -> str | None:
    """The form an address is stored in, or None for input that cannot be one (too long, control bytes)."""
    if len(email) > MAX_EMAIL_LENGTH or any(ord(c) < 32 or c == "\x7f" for c in email):
        return None
    return normalise_email(email)


def check_email(email: str) -> str:
    """An address we can store and send to (the outbox's own rules), lower-cased."""
    normalised = normalise_email(email)
    if address_problem(normalised) is not None:
        raise InvalidInput(
            "Give a valid email address.", errors=[{"detail": "not an email address", "pointer": "#/email"}]
        )
    return normalised


async def create_admin(
    session: AsyncSession, school: School, email: str, *, issuer: str
) -> tuple[Admin, str]:
    """A new admin without a password, and the one-time setup link the operator passes on."""
    address = check_email(email)
    if await session.scalar(select(Admin.id).where(Admin.email == address)) is not None:
        raise Conflict("An admin with this email already exists.")
    admin = Admin(school_id=school.id, email=address)
    session.add(admin)
    await session.flush()
    token = await issue_link(session, admin, LinkPurpose.SETUP)
    return admin, link_url(issuer, LinkPurpose.SETUP, token)


async def add_admin(
    session: AsyncSession,
    school: School,
    email: str,
    *,
    issuer: str,
    actor: str,
    because: Mapping[str, str] | None = None,
) -> tuple[Admin, str]:
    """`create_admin` as an operator (or another admin) does it: an `admin.added` event in the school's log,
    and when the school already has active admins, a mail to each of them saying who was added, when and
    by whom, so an admin slipped in is noticed by the people it would be hidden from. No link in it.
    `because` names what allowed it (a support request's id) in the event."""
    existing = await active_admins(session, school)
    admin, link = await create_admin(session, school, email, issuer=issuer)
    added_at = utcnow()
    await record_event(
        session,
        school_id=school.id,
        event_type=EventType.ADMIN_ADDED,
        actor=actor,
        details={"admin_id": str(admin.id), **(because or {})},
        occurred_at=added_at,
    )
    by = "the gateway's operator" if actor == events.OPERATOR else "another admin of your school"
    for colleague in existing:
        await enqueue(
            session,
            to=colleague.email,
            subject=f"A new admin was added to {school.name}",
            body=f"{admin.email} was added as an admin of {school.name} on "
            f"{added_at:%d %B %Y at %H:%M} UTC by {by}.\n\n"
            "They can approve and revoke apps' access to your school's data once they have set a password. "
            "If you did not expect this, contact the gateway's operator.\n\n"
            "The addition is recorded in your school's authorisation log.",
        )
    return admin, link


async def active_admins(session: AsyncSession, school: School) -> list[Admin]:
    """The school's admins who have set a password and are not disabled."""
    return list(
        await session.scalars(
            select(Admin)
            .where(
                Admin.school_id == school.id, Admin.disabled_at.is_(None), Admin.password_hash.is_not(None)
            )
            .order_by(Admin.email)
        )
    )


async def mail_active_admins(
    session: AsyncSession, school: School, *, subject: str, body: str, leaving_out: uuid.UUID | None = None
) -> int:
    """Queue the same mail to each of the school's active admins (but `leaving_out`); how many."""
    admins = [admin for admin in await active_admins(session, school) if admin.id != leaving_out]
    for admin in admins:
        await enqueue(session, to=admin.email, subject=subject, body=body)
    return len(admins)


async def find_admin(session: AsyncSession, email: str) -> Admin:
    address = lookup_email(email)
    admin = await session.scalar(select(Admin).where(Admin.email == address)) if address else None
    if admin is None:
        raise NotFound("No admin with this email.")
    return admin


async def list_admins(session: AsyncSession, school: School) -> list[Admin]:
    return list(
        await session.scalars(select(Admin).where(Admin.school_id == school.id).order_by(Admin.email))
    )


async def disable_admin(session: AsyncSession, admin: Admin, *, actor: str) -> None:
    """End the admin's sessions and refuse their sign-ins; disabling them is an event in their school's log
    (disabling again changes nothing and records nothing)."""
    newly = admin.disabled_at is None
    admin.disabled_at = admin.disabled_at or utcnow()
    await end_all_sessions(session, admin)
    await session.flush()
    if newly:
        await record_event(
            session,
            school_id=admin.school_id,
            event_type=EventType.ADMIN_DISABLED,
            actor=actor,
            details={"admin_id": str(admin.id)},
            occurred_at=admin.disabled_at,
        )


# --- passwords and links --------------------------------------------------------------------------------


def password_problems(password: str, email: str) -> list[dict[str, str]]:
    return [
        {"detail": problem.message, "pointer": "#/password", "code": problem.code}
        for problem in check_password_policy(password, email=email)
    ]


async def set_password(session: AsyncSession, hashing: PasswordHashing, admin: Admin, password: str) -> None:
    problems = password_problems(password, admin.email)
    if problems:
        raise PasswordRejected("Choose a different password.", errors=problems)
    admin.password_hash = await asyncio.to_thread(hashing.hash, password)
    admin.password_changed_at = utcnow()
    await session.flush()


async def complete_link(
    session: AsyncSession, hashing: PasswordHashing, token: str, purpose: LinkPurpose, password: str
) -> Admin:
    """Set a password through a setup or reset link. A rejected password leaves the link usable."""
    problems = password_problems(password, (await check_link(session, token, purpose)).email)
    if problems:  # refused before the link is used, so the admin can try again with it
        raise PasswordRejected("Choose a different password.", errors=problems)
    admin = await redeem_link(session, token, purpose)
    await set_password(session, hashing, admin, password)
    admin.failed_attempts, admin.locked_at = 0, None
    await end_all_sessions(session, admin)
    if purpose is LinkPurpose.RESET:
        await record_event(
            session,
            school_id=admin.school_id,
            event_type=EventType.ADMIN_PASSWORD_RESET,
            actor=events.admin(admin.id),
        )
    return admin


async def mail_reset_link(session: AsyncSession, admin: Admin, *, issuer: str, reason: str) -> None:
    """Queue a mail with a new reset link. Callers decide whether the admin should have one now, and note
    it in `Admin.reset_mailed_at` (see `accounts.reset_requests`)."""
    url = link_url(issuer, LinkPurpose.RESET, await issue_link(session, admin, LinkPurpose.RESET))
    await enqueue(
        session,
        to=admin.email,
        subject="Reset your gateway password",
        body=f"{reason}\n\nChoose a new password within the hour:\n{url}\n\n"
        "If you did not ask for this, you can ignore this email.",
    )


# --- login ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    admin: Admin
    next_stage: Stage


async def password_login(
    session: AsyncSession, hashing: PasswordHashing, *, email: str, password: str, issuer: str
) -> LoginOutcome | None:
    """The first step of login. None for every kind of failure, after the same amount of work."""
    admin = None
    address = lookup_email(email)
    if address and len(password) <= 512:
        admin = await session.scalar(select(Admin).where(Admin.email == address))
    if (
        admin is None
        or admin.password_hash is None
        or admin.disabled_at is not None
        or admin.locked_at is not None
    ):
        await asyncio.to_thread(hashing.dummy_verify, password[:512])  # the same work as a real check
        return None
    check = await asyncio.to_thread(hashing.verify, admin.password_hash, password)
    if not check.ok:
        await record_failure(session, admin, issuer=issuer)
        return None
    if check.needs_rehash:
        admin.password_hash = await asyncio.to_thread(hashing.hash, password)
    school = await session.get(School, admin.school_id)
    if admin.totp_enrolled_at is not None:
        stage = Stage.SECOND_FACTOR
    elif school is not None and school.require_totp:
        stage = Stage.ENROL
    else:
        stage = Stage.FULL
    if stage is Stage.FULL:
        await login_succeeded(session, admin)
    return LoginOutcome(admin, stage)


async def login_succeeded(session: AsyncSession, admin: Admin) -> None:
    admin.failed_attempts = 0
    admin.last_login_at = utcnow()
    await record_event(
        session, school_id=admin.school_id, event_type=EventType.ADMIN_LOGIN, actor=events.admin(admin.id)
    )


async def record_failure(session: AsyncSession, admin: Admin, *, issuer: str) -> None:
    """Count a failed attempt in one guarded UPDATE, so parallel attempts cannot exceed the limit."""
    now = utcnow()
    row = (
        await session.execute(
            update(Admin)
            .where(Admin.id == admin.id, Admin.locked_at.is_(None))
            .values(failed_attempts=Admin.failed_attempts + 1)
            .returning(Admin.failed_attempts)
        )
    ).first()
    if row is None:
        return
    attempts = int(row[0])
    await record_event(
        session,
        school_id=admin.school_id,
        event_type=EventType.ADMIN_LOGIN_FAILED,
        actor=events.admin(admin.id),
        details={"attempt": attempts},
    )
    if attempts >= MAX_FAILED_ATTEMPTS:
        locked = await changed_rows(
            session,
            update(Admin)
            .where(Admin.id == admin.id, Admin.locked_at.is_(None))
            .values(locked_at=now, reset_mailed_at=now),  # the lockout notice carries a reset link
            synchronize="auto",
        )
        if locked:
            await end_all_sessions(session, admin)
            await record_event(
                session,
                school_id=admin.school_id,
                event_type=EventType.ADMIN_LOCKED_OUT,
                actor=events.admin(admin.id),
                details={"attempts": attempts},
            )
            await mail_reset_link(
                session,
                admin,
                issuer=issuer,
                reason="Your gateway account was locked after 10 wrong attempts to sign in.",
            )
    await session.refresh(admin)


# --- second factor ------------------------------------------------------------------------------------------


async def _totp_key(session: AsyncSession, keyring: Keyring) -> bytes:
    return await keyring.secret(session, TOTP_SECRETS)


def _totp_context(admin_id: uuid.UUID) -> bytes:
    return f"totp|{admin_id}".encode()


async def start_totp_enrolment(session: AsyncSession, keyring: Keyring, admin: Admin) -> str:
    """A new secret, kept sealed until a code confirms the admin's authenticator has it."""
    if admin.totp_enrolled_at is not None:
        raise Conflict("A second factor is already set up.")
    secret = new_totp_secret()
    admin.totp_secret_sealed = seal(
        await _totp_key(session, keyring), secret.encode(), _totp_context(admin.id)
    )
    await session.flush()
    return secret


async def pending_totp_secret(session: AsyncSession, keyring: Keyring, admin: Admin) -> str | None:
    if admin.totp_secret_sealed is None:
        return None
    try:
        key = await _totp_key(session, keyring)
        return open_sealed(key, admin.totp_secret_sealed, _totp_context(admin.id)).decode()
    except DecryptionFailed:
        return None


async def _accept_totp(session: AsyncSession, keyring: Keyring, admin: Admin, code: str) -> bool:
    secret = await pending_totp_secret(session, keyring, admin)
    if secret is None:
        return False
    step = verify_totp(secret, code, last_used_step=admin.totp_last_step)
    if step is None:
        return False
    # Guarded: two requests with the same code cannot both pass (no replay inside the window).
    accepted = bool(
        await changed_rows(
            session,
            update(Admin)
            .where(Admin.id == admin.id)
            .where((Admin.totp_last_step.is_(None)) | (Admin.totp_last_step < step))
            .values(totp_last_step=step),
            synchronize="auto",
        )
    )
    if accepted:
        await session.refresh(admin)
    return accepted


async def confirm_totp_enrolment(
    session: AsyncSession, keyring: Keyring, admin: Admin, code: str
) -> list[str]:
    """Enrol when the code matches; returns ten recovery codes, shown once."""
    if admin.totp_enrolled_at is not None or not await _accept_totp(session, keyring, admin, code):
        raise InvalidInput(
            "That code does not match. Check the time on your device and try the next code.",
            errors=[{"detail": "wrong code", "pointer": "#/code"}],
        )
    admin.totp_enrolled_at = utcnow()
    codes = new_recovery_codes()
    key = await keyring.secret(session, RECOVERY_CODES)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.admin_id == admin.id))
    session.add_all(RecoveryCode(admin_id=admin.id, code_hash=hash_recovery_code(key, c)) for c in codes)
    await record_event(
        session,
        school_id=admin.school_id,
        event_type=EventType.ADMIN_TOTP_ENROLLED,
        actor=events.admin(admin.id),
    )
    await session.flush()
    return codes


async def second_factor(
    session: AsyncSession, keyring: Keyring, admin: Admin, code: str, *, issuer: str
) -> bool:
    """A TOTP code or an unused recovery code. Wrong codes count towards lockout like wrong passwords."""
    if not await _code_accepted(session, keyring, admin, code):
        await record_failure(session, admin, issuer=issuer)
        return False
    await login_succeeded(session, admin)
    return True


async def confirm_identity(
    session: AsyncSession,
    hashing: PasswordHashing,
    keyring: Keyring,
    admin: Admin,
    *,
    password: str,
    code: str,
    issuer: str,
) -> bool:
    """A signed-in admin proves it is still them before something that cannot be undone: their password,
    and a TOTP or recovery code when they have an authenticator app. A failure counts towards lockout."""
    confirmed = (
        admin.password_hash is not None
        and len(password) <= 512
        and (await asyncio.to_thread(hashing.verify, admin.password_hash, password)).ok
    )
    if confirmed and admin.totp_enrolled_at is not None:
        confirmed = await _code_accepted(session, keyring, admin, code)
    if not confirmed:
        await record_failure(session, admin, issuer=issuer)
    return confirmed


async def _code_accepted(session: AsyncSession, keyring: Keyring, admin: Admin, code: str) -> bool:
    accepted = False
    if len(code) <= 40:
        if normalise_totp_code(code) is not None:
            accepted = await _accept_totp(session, keyring, admin, code)
        elif normalise_recovery_code(code):
            key = await keyring.secret(session, RECOVERY_CODES)
            used = await changed_rows(
                session,
                update(RecoveryCode)
                .where(
                    RecoveryCode.admin_id == admin.id,
                    RecoveryCode.used_at.is_(None),
                    RecoveryCode.code_hash == hash_recovery_code(key, code),
                )
                .values(used_at=utcnow()),
                synchronize="auto",
            )
            accepted = bool(used)
    return accepted
