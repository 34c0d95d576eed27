"""An app's webhooks for its developer (issue 14, item 5; SPEC §9), under `/developer/v1/apps/{client_id}`:
`/webhook` (the endpoint's state), `/webhook-deliveries` (the delivery log, one message, redeliver),
`/ping`, `/webhook-secret` (rotate). Thin: the developer key, one service call, a schema."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import Depends, Path, Query

from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.developers.auth import DeveloperDep
from gateway.errors import problem_responses
from gateway.http.cursors import (
    CURSOR_SECRET,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    cursor_refused,
    open_cursor,
    seal_cursor,
)
from gateway.http.json_body import json_api_router
from gateway.http.query import query_allowlist
from gateway.keys.dependencies import KeyringDep
from gateway.webhooks import developer
from gateway.webhooks.schemas import (
    WebhookEndpointOut,
    WebhookMessageDetail,
    WebhookMessageList,
    WebhookMessageOut,
    WebhookSecretRotated,
)
from gateway.webhooks.secrets import OVERLAP

router = json_api_router(prefix="/developer/v1/apps/{client_id}", tags=["developer"])

CURSOR_KIND: Final = "webhook-messages"
_AUTH = {401: "Missing, wrong or revoked developer key"}
_QUERY = {
    400: "An unknown or repeated query parameter, or a character that cannot be stored, such as NUL, in the "
    "path (`unstorable-value`)"
}
_MISSING = {404: "No app with this client_id among the caller's apps"}
_NO_BODY = {415: "A request body that is not JSON (this call takes none)"}
ClientId = Annotated[str, Path(min_length=1, max_length=32, description="The app's `client_id`, `gw_app_…`.")]
MessageId = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=r"^msg_[0-9a-f]+$", description="The message's `webhook-id`."),
]


@router.get(
    "/webhook",
    summary="The app's webhook endpoint: URL, enabled or not, failing since, live secrets",
    response_model=WebhookEndpointOut,
    responses=problem_responses({**_AUTH, **_QUERY, **_MISSING, 422: "Malformed client_id"}),
)
async def read_endpoint(
    client_id: ClientId,
    caller: DeveloperDep,
    session: SessionDep,
    _query: Annotated[None, Depends(query_allowlist())],
) -> WebhookEndpointOut:
    return WebhookEndpointOut.of(
        await developer.endpoint_state(session, caller.developer.id, client_id, utcnow())
    )


def _position(opened: dict[str, Any]) -> tuple[datetime, str]:
    created, message_id = opened.get("t"), opened.get("i")
    if not isinstance(created, str) or not isinstance(message_id, str):
        raise InvalidCursor
    try:
        return datetime.fromisoformat(created), message_id
    except ValueError:
        raise InvalidCursor from None


@router.get(
    "/webhook-deliveries",
    summary="The delivery log: each message, its attempts, last status and next try",
    response_model=WebhookMessageList,
    responses=problem_responses(
        {
            **_AUTH,
            **_MISSING,
            400: "Unknown or repeated query parameter, or a cursor not from this log",
            422: "`limit` outside 1 to 200",
        }
    ),
)
async def list_messages(
    client_id: ClientId,
    caller: DeveloperDep,
    session: SessionDep,
    ring: KeyringDep,
    _query: Annotated[None, Depends(query_allowlist("limit", "cursor"))],
    limit: Annotated[int, Query(ge=1, le=developer.MAX_PAGE, description="Messages per page.")] = 50,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="`next_cursor`.")
    ] = None,
) -> WebhookMessageList:
    key = await ring.secret(session, CURSOR_SECRET)
    made_for = {"c": client_id, "d": str(caller.developer.id)}
    after = None
    if cursor is not None:
        try:
            after = _position(open_cursor(key, cursor, kind=CURSOR_KIND, **made_for))
        except InvalidCursor:
            raise cursor_refused(" for this app") from None
    rows = await developer.messages(session, caller.developer.id, client_id, limit=limit + 1, after=after)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = seal_cursor(
            key, {"t": last.created_at.isoformat(), "i": last.id}, kind=CURSOR_KIND, **made_for
        )
    return WebhookMessageList(messages=[WebhookMessageOut.of(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/webhook-deliveries/{message_id}",
    summary="One message, with the JSON body sent",
    response_model=WebhookMessageDetail,
    responses=problem_responses(
        {
            **_AUTH,
            **_QUERY,
            404: "No such app among the caller's, or no such message of it",
            422: "Malformed id",
        }
    ),
)
async def read_message(
    client_id: ClientId,
    message_id: MessageId,
    caller: DeveloperDep,
    session: SessionDep,
    _query: Annotated[None, Depends(query_allowlist())],
) -> WebhookMessageDetail:
    message = await developer.one_message(session, caller.developer.id, client_id, message_id)
    return WebhookMessageDetail(
        **WebhookMessageOut.of(message).model_dump(), payload=json.loads(message.payload)
    )


@router.post(
    "/webhook-deliveries/{message_id}/redeliver",
    summary="Send a message again now, with the same webhook-id (enables a disabled endpoint)",
    status_code=202,
    response_model=WebhookMessageOut,
    responses=problem_responses(
        {
            **_AUTH,
            **_QUERY,
            **_NO_BODY,
            404: "No such app among the caller's, or no such message of it",
            409: "The app has no webhook URL",
            422: "Malformed id",
        }
    ),
)
async def redeliver(
    client_id: ClientId,
    message_id: MessageId,
    caller: DeveloperDep,
    session: SessionDep,
    _query: Annotated[None, Depends(query_allowlist())],
) -> WebhookMessageOut:
    return WebhookMessageOut.of(
        await developer.redeliver(session, caller.developer.id, client_id, message_id, utcnow())
    )


@router.post(
    "/ping",
    summary="Queue a `ping` to the app's webhook URL (enables a disabled endpoint)",
    status_code=202,
    response_model=WebhookMessageOut,
    responses=problem_responses(
        {**_AUTH, **_QUERY, **_MISSING, **_NO_BODY, 409: "The app has no webhook URL", 422: "Malformed id"}
    ),
)
async def ping(
    client_id: ClientId,
    caller: DeveloperDep,
    session: SessionDep,
    _query: Annotated[None, Depends(query_allowlist())],
) -> WebhookMessageOut:
    return WebhookMessageOut.of(await developer.ping(session, caller.developer.id, client_id, utcnow()))


@router.post(
    "/webhook-secret",
    summary="Rotate the webhook signing secret (shown once; the old one signs for 24 hours more)",
    status_code=201,
    response_model=WebhookSecretRotated,
    responses=problem_responses({**_AUTH, **_QUERY, **_MISSING, **_NO_BODY, 422: "Malformed client_id"}),
)
async def rotate_secret(
    client_id: ClientId,
    caller: DeveloperDep,
    session: SessionDep,
    ring: KeyringDep,
    _query: Annotated[None, Depends(query_allowlist())],
) -> WebhookSecretRotated:
    now = utcnow()
    app, secret = await developer.rotate_secret(session, ring, caller.developer.id, client_id, now)
    return WebhookSecretRotated(
        client_id=app.client_id, webhook_secret=secret, previous_secret_retires_at=now + OVERLAP
    )
