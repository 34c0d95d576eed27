"""`/developer/v1/apps`: register and manage apps (SPEC §3.1, §9). Thin: parse, one service call, a schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response

from gateway.apps import service
from gateway.apps.schemas import AppCreated, AppIn, AppList, AppOut, AppPatch, SecretRotated
from gateway.apps.validation import AppDraft
from gateway.db.session import SessionDep
from gateway.developers.auth import DeveloperDep
from gateway.errors import InvalidInput, field_error, problem_responses
from gateway.http.json_body import json_api_router
from gateway.http.settings_dep import SettingsDep
from gateway.keys.dependencies import KeyringDep

router = json_api_router(prefix="/developer/v1/apps", tags=["developer"])

_AUTH = {401: "Missing, wrong or revoked developer key"}
_BODY = {
    400: "Body is not JSON (`malformed-json`: not UTF-8, not JSON, or nested more than 64 deep), or a value "
    "holds a character that cannot be stored, such as NUL (`unstorable-value`)",
    415: "Body is not JSON",
}
_ID = {400: "The client_id holds a character that cannot be stored, such as NUL (`unstorable-value`)"}
_NO_BODY = {415: "A request body that is not JSON (this call takes none)"}
_MISSING = {404: "No app with this client_id among the caller's apps"}
ClientId = Annotated[str, Path(min_length=1, description="The app's `client_id`, `gw_app_…`.")]
_NULLABLE = frozenset({"webhook_url"})


@router.post(
    "",
    summary="Register an app (its client secret is shown once)",
    status_code=201,
    response_model=AppCreated,
    responses=problem_responses({**_AUTH, **_BODY, 422: "Invalid fields, each named by a JSON pointer"}),
)
async def register_app(
    body: AppIn, caller: DeveloperDep, session: SessionDep, ring: KeyringDep, settings: SettingsDep
) -> AppCreated:
    draft = AppDraft(**body.model_dump())
    app, secret, webhook_secret = await service.register(
        session, ring, caller.developer.id, draft, webhook_loopback_http=settings.webhooks_may_use_http
    )
    return AppCreated(**AppOut.of(app).model_dump(), client_secret=secret, webhook_secret=webhook_secret)


@router.get("", summary="List the caller's apps", response_model=AppList, responses=problem_responses(_AUTH))
async def list_apps(caller: DeveloperDep, session: SessionDep) -> AppList:
    return AppList(apps=[AppOut.of(app) for app in await service.list_apps(session, caller.developer.id)])


@router.get(
    "/{client_id}",
    summary="One of the caller's apps (never its secret)",
    response_model=AppOut,
    responses=problem_responses({**_AUTH, **_ID, **_MISSING}),
)
async def get_app(client_id: ClientId, caller: DeveloperDep, session: SessionDep) -> AppOut:
    return AppOut.of(await service.get_app(session, caller.developer.id, client_id))


@router.patch(
    "/{client_id}",
    summary="Change some of an app's fields (validated as on registration)",
    response_model=AppOut,
    responses=problem_responses(
        {
            **_AUTH,
            **_BODY,
            **_MISSING,
            409: "Switching between a public (`none`) and a confidential client",
            422: "Invalid fields, each named by a JSON pointer",
        }
    ),
)
async def update_app(
    client_id: ClientId, body: AppPatch, caller: DeveloperDep, session: SessionDep, settings: SettingsDep
) -> AppOut:
    changes = body.model_dump(include=body.model_fields_set)
    nulls = sorted(name for name, value in changes.items() if value is None and name not in _NULLABLE)
    if nulls:
        raise InvalidInput(
            "The request has invalid fields.",
            errors=[field_error("must not be null", pointer=f"#/{name}") for name in nulls],
        )
    return AppOut.of(
        await service.update_app(
            session,
            caller.developer.id,
            client_id,
            changes,
            webhook_loopback_http=settings.webhooks_may_use_http,
        )
    )


@router.delete(
    "/{client_id}",
    summary="Delete an app",
    status_code=204,
    response_class=Response,
    responses=problem_responses({**_AUTH, **_ID, **_MISSING}),
)
async def delete_app(client_id: ClientId, caller: DeveloperDep, session: SessionDep) -> Response:
    await service.delete_app(session, caller.developer.id, client_id)
    return Response(status_code=204)


@router.post(
    "/{client_id}/secret",
    summary="Rotate the client secret (the new one is shown once; the old one works for 24 hours more)",
    description=(
        "Issues a new client secret. The secret it replaces keeps working for 24 hours so running "
        "deployments can switch over; after that only the new one does. Rotating again within those 24 "
        "hours retires the oldest secret at once."
    ),
    status_code=201,
    response_model=SecretRotated,
    responses=problem_responses(
        {
            **_AUTH,
            **_ID,
            **_MISSING,
            **_NO_BODY,
            409: "A public client has no secret; or a concurrent rotation",
        }
    ),
)
async def rotate_secret(
    client_id: ClientId, caller: DeveloperDep, session: SessionDep, ring: KeyringDep
) -> SecretRotated:
    app, secret = await service.rotate_secret(session, ring, caller.developer.id, client_id)
    assert app.previous_secret_expires_at is not None
    return SecretRotated(
        client_id=app.client_id,
        client_secret=secret,
        previous_secret_expires_at=app.previous_secret_expires_at,
    )
