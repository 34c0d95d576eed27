"""The school's admins hear of every support request, and of an admin added by break-glass."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.service import list_admins, mail_active_admins
from gateway.email.outbox import enqueue
from gateway.schools.models import School
from gateway.support.models import SupportRequest

_PURPOSES = {
    "read": "read these records: {resources}",
    "add_admin": "add an admin to your school",
    "export": "export a copy of all of your school's data",
}


async def announce_request(session: AsyncSession, school: School, row: SupportRequest, *, issuer: str) -> int:
    """Mail every active admin who asks, why, for what and how long, and where to answer; how many."""
    what = _PURPOSES[row.purpose].format(resources=", ".join(row.resource_list))
    body = (
        f"{row.operator}, of the gateway's support staff, asks to {what}, for {row.hours} hour(s) from your "
        f"approval.\n\nTheir reason: {row.reason}\n\nNobody at the gateway can see your school's data "
        "unless an admin allows it. To allow it (you need an authenticator app), shorten it or decline it: "
        f"{issuer}/dashboard/support\n\nEvery read is recorded in your school's authorisation log."
    )
    return await mail_active_admins(
        session, school, subject=f"Support access to {school.name}'s data requested", body=body
    )


async def announce_break_glass(
    session: AsyncSession, school: School, *, added: str, reason: str, extra: list[str]
) -> int:
    """Mail every admin (disabled and locked ones too: they are the ones who could not sign in) and the
    school's data protection contacts in `extra` that an admin was added without the school's leave."""
    body = (
        f"The gateway's operator added {added} as an admin of {school.name} without an approval from the "
        f"school, because its admins could not sign in (break glass).\n\nThe reason given: {reason}\n\n"
        "If your school did not ask for this, contact the gateway's operator at once. The addition is "
        "recorded in your school's authorisation log."
    )
    admins = {admin.email for admin in await list_admins(session, school)} - {added}
    addresses = sorted(admins | set(extra))
    for address in addresses:
        await enqueue(
            session, to=address, subject=f"An admin was added to {school.name} (break glass)", body=body
        )
    return len(addresses)
