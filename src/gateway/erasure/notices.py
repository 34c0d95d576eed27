"""Telling a school's admins that its data is to be deleted, or no longer is: a deletion asked by one admin
(or the operator) is seen by all of them, so one who did not expect it can cancel it in time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.service import mail_active_admins
from gateway.erasure.models import SchoolDeletion
from gateway.schools.models import School


def _by(actor: str) -> str:
    if actor.startswith("admin:"):
        return "an admin of your school"
    if actor.startswith("api_key:"):
        return "one of your school's API keys"
    return "the gateway's operator"


async def announce_deletion(
    session: AsyncSession, school: School, deletion: SchoolDeletion, *, issuer: str
) -> int:
    """Mail every active admin what was scheduled, by whom, when it happens and how to stop it (a deletion
    request) or that it cannot be stopped (a deleted connector); how many were mailed."""
    due = f"{deletion.due_on:%A %-d %B %Y}"
    if deletion.rule == "deletion_requested":
        subject = f"{school.name}'s data will be deleted on {due}"
        body = (
            f"{_by(deletion.actor).capitalize()} asked for all of {school.name}'s data held by the gateway "
            f"to be deleted. It will be deleted by the end of {due}: pupils' records, every app's access, "
            "the admins' accounts and the record of what apps read. The authorisation log stays.\n\n"
            f"If this is not what your school wants, cancel it before then: {issuer}/dashboard/deletion\n"
        )
    else:
        subject = f"{school.name}'s MIS connector was deleted"
        body = (
            f"{_by(deletion.actor).capitalize()} deleted {school.name}'s MIS connector: the MIS can no "
            f"longer send data to the gateway. The school's MIS data will be deleted by the end of {due}, "
            "and every app's access with it. This cannot be undone; after that day a new connector can be "
            "set up.\n\n"
            f"See {issuer}/dashboard/deletion\n"
        )
    return await mail_active_admins(session, school, subject=subject, body=body)


async def announce_cancellation(session: AsyncSession, school: School, *, issuer: str) -> int:
    return await mail_active_admins(
        session,
        school,
        subject=f"{school.name}'s data will not be deleted",
        body=f"The request to delete {school.name}'s data was cancelled; nothing will be deleted.\n\n"
        f"See {issuer}/dashboard/deletion\n",
    )
