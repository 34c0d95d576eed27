"""What the school's GET pages (`dashboard.history`, `dashboard.pupils`) share: the signed-in admin's
school, a strict reading of the query string, and the 400 page for a query these pages never make.

Filters are checked by hand, so anything unexpected (an unknown or repeated parameter, an overlong or
unprintable value, a malformed day) answers a page rather than an error meant for API clients.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Final

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.accounts.models import AdminSession
from gateway.accounts.page_session import signed_in_or_sign_in
from gateway.web.templates import render

__all__ = ["BadQuery", "bad_query_page", "day", "page_query", "signed_in_school"]

_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadQuery(Exception):
    """The query string is not one these pages make."""


def page_query(request: Request, allowed: Mapping[str, int]) -> dict[str, str]:
    """Each allowed parameter at most once, within its length, printable; empty values dropped."""
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed or name in found or len(value) > allowed[name]:
            raise BadQuery
        if any(ord(char) < 32 or 0xD800 <= ord(char) <= 0xDFFF for char in value):
            raise BadQuery
        found[name] = value
    return {name: value for name, value in found.items() if value}


def day(value: str | None) -> date | None:
    if value is None:
        return None
    if not _DAY.fullmatch(value):
        raise BadQuery
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery from None


def bad_query_page(request: Request, record: AdminSession, back: str) -> Response:
    return render(
        request,
        "message.html",
        title="These filters cannot be used",
        message="The address holds a filter or a page link this page does not recognise. Start again from "
        "the page itself.",
        link={"href": back, "text": "Start again"},
        csrf_token=record.csrf_token,
        status_code=400,
    )


async def signed_in_school(
    request: Request, session: AsyncSession
) -> tuple[AdminSession, uuid.UUID] | Response:
    """The fully signed-in admin's session and school, or the redirect to sign in and come back."""
    opened = await signed_in_or_sign_in(request, session)
    if isinstance(opened, Response):
        return opened
    record, admin = opened
    return record, admin.school_id
