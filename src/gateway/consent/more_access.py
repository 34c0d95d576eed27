"""An app asks a school for more than its live grant there holds: the school's other admins are told
(issue 16, item 3), unless the school turned that off (`schools.settings`, `email_on_more_access`).

"Asks for more access" here means: an authorization request of an app that already holds a live grant at
the school names scopes the grant does not hold (incremental consent, SPEC §3), and an admin of the school
opens its consent page for the first time (`decisions.load`, where `request.created` is recorded). That is
the moment the request becomes the school's: before it, the request names no school (anyone can start an
authorization); a first connection is not "more" and every admin sees the new app on the dashboard once
approved. A narrower or equal request asks for nothing more, and nobody is emailed. The admin who opened
it is not emailed; the others learn who did and what was asked, and that nothing is shared until an admin
approves it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import Admin
from gateway.accounts.service import mail_active_admins
from gateway.apps.models import App
from gateway.schools.models import School
from gateway.schools.settings import settings_of
from gateway.scopes import CATALOGUE


async def announce_more_access(
    session: AsyncSession, school: School, app: App, opener: Admin, asked: Iterable[str]
) -> int:
    """Email the school's other active admins what `app` asks for beyond its grant; how many were emailed."""
    titles = [CATALOGUE[name].title for name in sorted(asked) if name in CATALOGUE]
    if not titles or not (await settings_of(session, school.id)).email_on_more_access:
        return 0
    body = (
        f"{app.name} asks to see more of {school.name}'s data than it can now:\n\n"
        + "".join(f"- {title}\n" for title in titles)
        + f"\n{opener.email} opened the request. Nothing more is shared unless an admin approves it; "
        "any admin can narrow or revoke the app's access at any time on the dashboard.\n\n"
        "Your school asked to be told of such requests; an admin can turn this off in the school settings.\n"
    )
    return await mail_active_admins(
        session,
        school,
        subject=f"{app.name} asks for more access to {school.name}'s data",
        body=body,
        leaving_out=opener.id,
    )
