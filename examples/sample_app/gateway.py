"""Talking to the gateway as an app: discovery (RFC 8414), authorization code with PKCE (RFC 6749 §4.1,
RFC 7636 S256), refresh, revocation (RFC 7009), client credentials, and the API with a bearer token.

Everything OAuth goes through Authlib's `AsyncOAuth2Client` (httpx). One instance of `GatewayClient` serves
one person at a time: it is a demo, and keeps the school's token in memory only.
"""

from __future__ import annotations

import hmac
import secrets
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

from examples.sample_app.credentials import DemoCredentials

with warnings.catch_warnings():
    # Authlib prefers the `httpx2` package and warns when it falls back to httpx; both work.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import OAuthError as AuthlibOAuthError

CLIENT_AUTH = "client_secret_basic"
METADATA_PATH = "/.well-known/oauth-authorization-server"
PENDING_LIFETIME = 600.0  # seconds an authorization request may take (login, consent)
MAX_PENDING = 20


class FlowError(Exception):
    """Something the person should be told, in words; never carries a token or secret."""


@dataclass
class Pending:
    code_verifier: str
    created: float


@dataclass
class Session:
    """The one school connection this demo holds (in memory): the school's token, and which school."""

    token: dict[str, Any] | None = None
    school_id: str | None = None
    pending: dict[str, Pending] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def describe_token(token: dict[str, Any] | None) -> dict[str, Any]:
    """What is safe to show or print about a token response: never the tokens themselves."""
    if not token:
        return {}
    expires_at = token.get("expires_at")
    return {
        "scope": token.get("scope", ""),
        "token_type": token.get("token_type", ""),
        "expires_in": max(0, int(expires_at - time.time())) if isinstance(expires_at, int | float) else None,
        "has_refresh_token": bool(token.get("refresh_token")),
    }


class GatewayClient:
    def __init__(
        self, credentials: DemoCredentials, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.credentials = credentials
        self._transport = transport
        self._metadata: dict[str, Any] | None = None
        self.session = Session()
        self.oauth = self._client()
        self.http = httpx.AsyncClient(transport=transport, timeout=10.0)  # metadata and API calls

    def _client(self, **kwargs: Any) -> Any:
        return AsyncOAuth2Client(
            client_id=self.credentials.client_id,
            client_secret=self.credentials.client_secret,
            token_endpoint_auth_method=CLIENT_AUTH,
            revocation_endpoint_auth_method=CLIENT_AUTH,
            redirect_uri=self.credentials.redirect_uri,
            code_challenge_method="S256",
            transport=self._transport,
            timeout=10.0,
            **kwargs,
        )

    async def aclose(self) -> None:
        await self.oauth.aclose()
        await self.http.aclose()

    # --- Discovery -----------------------------------------------------------------------------------

    async def metadata(self) -> dict[str, Any]:
        """RFC 8414 metadata, fetched once; its `issuer` must be the one we were given (§3.3)."""
        if self._metadata is None:
            try:
                response = await self.http.get(self.credentials.issuer + METADATA_PATH)
            except httpx.HTTPError as exc:
                raise FlowError(
                    f"the gateway at {self.credentials.issuer} is not answering ({exc})"
                ) from None
            if response.status_code != 200:
                raise FlowError(f"the gateway's metadata answered {response.status_code}")
            metadata: dict[str, Any] = response.json()
            if metadata.get("issuer") != self.credentials.issuer:
                raise FlowError("the metadata names another issuer: refusing to continue (RFC 8414 §3.3)")
            self._metadata = metadata
        return self._metadata

    async def _endpoint(self, name: str) -> str:
        url = (await self.metadata()).get(name)
        if not isinstance(url, str):
            raise FlowError(f"the gateway's metadata has no {name}")
        return url

    # --- Authorization code with PKCE -------------------------------------------------------------

    async def authorization_url(self) -> str:
        """Where to send the admin: a fresh state and code verifier are kept for the callback."""
        endpoint = await self._endpoint("authorization_endpoint")
        self._forget_stale_requests()
        state, verifier = secrets.token_urlsafe(32), generate_token(64)
        url, _ = self.oauth.create_authorization_url(
            endpoint,
            state=state,
            code_verifier=verifier,
            scope=self.credentials.scope,
            school_id=self.credentials.school_id,
        )
        self.session.pending[state] = Pending(verifier, time.monotonic())
        return str(url)

    def _forget_stale_requests(self) -> None:
        now = time.monotonic()
        pending = self.session.pending
        for state in [s for s, p in pending.items() if now - p.created > PENDING_LIFETIME]:
            del pending[state]
        while len(pending) >= MAX_PENDING:
            del pending[next(iter(pending))]

    def _take_pending(self, state: str | None) -> Pending:
        if state:
            for known in list(self.session.pending):
                if hmac.compare_digest(known.encode(), state.encode()):
                    return self.session.pending.pop(known)
        raise FlowError("the state does not match a request this app made: ignoring the callback")

    async def finish_authorization(self, params: dict[str, str]) -> dict[str, Any]:
        """Check the callback (state, then `iss` per RFC 9207), then exchange the code."""
        pending = self._take_pending(params.get("state"))
        metadata = await self.metadata()
        issuer = params.get("iss")
        if (issuer is not None or metadata.get("authorization_response_iss_parameter_supported")) and (
            issuer != self.credentials.issuer
        ):
            raise FlowError("the callback's `iss` is not our gateway (RFC 9207): ignoring it")
        if "error" in params:
            description = params.get("error_description", "")
            raise FlowError(f"the school did not authorise the app: {params['error']} {description}".strip())
        code = params.get("code")
        if not code:
            raise FlowError("the callback has no code")
        token_endpoint = await self._endpoint("token_endpoint")
        try:
            token: dict[str, Any] = await self.oauth.fetch_token(
                token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
        except (AuthlibOAuthError, httpx.HTTPError, ValueError) as exc:
            raise FlowError(f"the token endpoint refused the code: {_reason(exc)}") from None
        self.session.token = dict(token)
        self.session.school_id = self.credentials.school_id  # the school the authorize request named
        return self.session.token

    async def refresh(self) -> dict[str, Any]:
        token = self._school_token()
        if not token.get("refresh_token"):
            raise FlowError("this token came without a refresh token")
        try:
            refreshed: dict[str, Any] = await self.oauth.refresh_token(
                await self._endpoint("token_endpoint"), refresh_token=token["refresh_token"]
            )
        except (AuthlibOAuthError, httpx.HTTPError, ValueError) as exc:
            raise FlowError(f"the refresh was refused: {_reason(exc)}") from None
        self.session.token = dict(refreshed)
        return self.session.token

    async def revoke(self) -> None:
        """RFC 7009: revoke the refresh token (the gateway ends its whole family with it)."""
        token = self._school_token()
        hint, value = (
            ("refresh_token", token["refresh_token"])
            if token.get("refresh_token")
            else ("access_token", token["access_token"])
        )
        try:
            response = await self.oauth.revoke_token(
                await self._endpoint("revocation_endpoint"), token=value, token_type_hint=hint
            )
        except httpx.HTTPError as exc:
            raise FlowError(f"the revocation request failed: {_reason(exc)}") from None
        if response.status_code != 200:
            raise FlowError(f"the revocation endpoint answered {response.status_code}")

    def _school_token(self) -> dict[str, Any]:
        if not self.session.token:
            raise FlowError("no school is connected yet: use “Connect a school” first")
        return self.session.token

    # --- Calling the API ------------------------------------------------------------------------------

    async def app_token(self) -> dict[str, Any]:
        """An app-level token (client_credentials) for `/api/v1/app/…`, on a client of its own."""
        async with self._client() as client:
            try:
                token: dict[str, Any] = await client.fetch_token(
                    await self._endpoint("token_endpoint"), grant_type="client_credentials"
                )
            except (AuthlibOAuthError, httpx.HTTPError, ValueError) as exc:
                raise FlowError(f"the client_credentials grant was refused: {_reason(exc)}") from None
        return token

    async def call(self, path: str, access_token: str, *, method: str = "GET") -> ApiResult:
        url = f"{self.credentials.issuer}/api/v1{path}"
        headers = {"authorization": f"Bearer {access_token}", "accept": "application/json"}
        try:
            response = await self.http.request(method, url, headers=headers)
        except httpx.HTTPError as exc:
            raise FlowError(f"the call to {path} failed: {_reason(exc)}") from None
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text[:200]
        return ApiResult(response.status_code, body)

    async def granted_schools(self) -> ApiResult:
        return await self.call("/app/schools", (await self.app_token())["access_token"])

    async def students(self, limit: int = 5) -> ApiResult:
        return await self.call(f"/students?limit={limit}", self._school_token()["access_token"])

    async def disconnect(self) -> ApiResult:
        result = await self.call("/app/disconnect", self._school_token()["access_token"], method="POST")
        if result.ok:
            self.session.token = None
        return result


def _reason(exc: Exception) -> str:
    """An error in words, without anything a response could have echoed (tokens never are)."""
    if isinstance(exc, AuthlibOAuthError):
        return str(getattr(exc, "error", "") or "error")
    return type(exc).__name__


def student_rows(body: Any, *, limit: int = 5) -> list[dict[str, Any]]:
    """The records of a data API list response, whichever envelope it uses."""
    if isinstance(body, dict):
        for key in ("data", "students", "items", "records"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        return []
    return [row for row in body if isinstance(row, dict)][:limit]
