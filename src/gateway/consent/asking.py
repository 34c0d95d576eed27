"""Which app a live authorization request comes from, for the sign-in page on the way to `/consent/<id>`.

Only public names, read from the database by the request id: nothing in the query names the app, and a
request that is unknown, expired or answered names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.apps.models import App
from gateway.consent.requests import RequestGone, open_pending
from gateway.developers.models import Developer

CONSENT_PREFIX = "/consent/"


@dataclass(frozen=True, slots=True)
class AskingApp:
    app_name: str
    developer_name: str


async def asking_app(session: AsyncSession, next_path: str | None, *, now: datetime) -> AskingApp | None:
    """The app behind `next_path` when it is a live request's consent page (`/consent/<id>`), else None."""
    if next_path is None or not next_path.startswith(CONSENT_PREFIX):
        return None
    try:
        pending = await open_pending(session, next_path.removeprefix(CONSENT_PREFIX), now=now)
    except RequestGone:
        return None
    app = await session.get(App, pending.app_id)
    if app is None:
        return None
    developer = await session.get(Developer, app.developer_id)
    return AskingApp(app.name, developer.name if developer is not None else "")
