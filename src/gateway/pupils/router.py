"""`GET /manage/v1/students/{id}/disclosures`: one pupil's disclosures, for a subject access request.

A school API key or an admin session. A pupil id the school's MIS never sent (another school's included)
answers 404.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.errors import NotFound, problem_responses
from gateway.http.cursors import (
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    cursor_refused,
)
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.manage.auth import PrincipalDep
from gateway.pupils import disclosures
from gateway.pupils.schemas import AppAccessOut, DisclosureOut, PupilDisclosures

router = APIRouter(prefix="/manage/v1/students", tags=["manage"])

DEFAULT_LIMIT: Final = 100
CURSOR_KIND: Final = "pupil-disclosures"

StudentId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The pupil's id, as the MIS sent it (`id` in `/api/v1/students`).",
    ),
]


@router.get(
    "/{student_id}/disclosures",
    summary="One pupil's disclosures: which apps can see them now, which responses carried them",
    description=(
        "For a subject access request. `current_access`: every app whose live grant covers the pupil today "
        "(the grant's audience holds them) and unlocks a field about them, with those fields, since when "
        "and who approved. `disclosures`: every data API response that carried the pupil (their record, a "
        "per-pupil record such as an attendance mark, or a group listing them), newest first, with the app, "
        "the field names sent and the record count, never the contents. Deleted and excluded pupils keep "
        "their history. Paginate with `cursor`."
    ),
    response_model=PupilDisclosures,
    responses=problem_responses(
        {
            400: "Unknown or repeated query parameter, or a cursor not handed out for this pupil",
            401: "Missing, wrong or revoked school API key, or no fully signed-in admin session",
            404: "No pupil with this id at the school (another school's pupils are never found)",
            422: "Malformed pupil id, or `limit` outside 1 to 500",
        }
    ),
)
async def pupil_disclosures(
    student_id: StudentId,
    principal: PrincipalDep,
    _query: Annotated[None, Depends(query_allowlist("limit", "cursor"))],
    session: SessionDep,
    ring: KeyringDep,
    request: Request,
    response: Response,
    limit: Annotated[
        int, Query(ge=1, le=disclosures.MAX_PAGE, description="Responses per page.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            description="`next_cursor` of the page before. Opaque and signed: only valid for this pupil.",
        ),
    ] = None,
) -> PupilDisclosures:
    school_id = principal.school_id
    if not await disclosures.student_known(session, school_id, student_id):
        raise NotFound("No pupil with this id at the school.")
    try:
        page = await disclosures.disclosure_page(
            session, ring, school_id, student_id, cursor=cursor, limit=limit, kind=CURSOR_KIND
        )
    except InvalidCursor:
        raise cursor_refused(" for this pupil") from None
    if page.next_cursor is not None:
        link = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["link"] = f'<{link}>; rel="next"'
    now = await disclosures.current_access(session, ring, school_id, student_id, utcnow().date())
    return PupilDisclosures(
        student_id=student_id,
        current_access=[AppAccessOut.of(access) for access in now],
        disclosures=[DisclosureOut.of(item) for item in page.items],
        next_cursor=page.next_cursor,
    )
