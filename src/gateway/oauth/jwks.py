"""`GET /.well-known/jwks.json`: the public keys that verify access tokens (RFC 7517 §5, RFC 9068 §4)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from gateway.db.base import utcnow
from gateway.db.session import SessionDep
from gateway.keys.dependencies import KeyringDep
from gateway.keys.signing import ensure_signing_key, forget_published_keys, published_keys

router = APIRouter(tags=["oauth"])

CACHE_CONTROL = "public, max-age=300"


class PublicJwk(BaseModel):
    kty: str = Field(description="Key type: always `EC`.")
    crv: str = Field(description="Curve: always `P-256`.")
    x: str
    y: str
    kid: str = Field(description="Key id (RFC 7638 thumbprint), as in the access token's header.")
    use: str = Field(description="Always `sig`.")
    alg: str = Field(description="Always `ES256`.")


class Jwks(BaseModel):
    keys: list[PublicJwk] = Field(
        description="The active key and retired keys whose tokens may still be valid. On an unknown kid, "
        "fetch again before refusing the token."
    )


@router.get(
    "/.well-known/jwks.json",
    summary="The JSON Web Key Set that verifies access tokens",
    response_model=Jwks,
)
async def jwks(response: Response, session: SessionDep, keyring: KeyringDep) -> Jwks:
    now = utcnow()
    keys = await published_keys(session, now=now)
    if not keys:  # publish the first key before the first token needs it
        await ensure_signing_key(session, keyring.master_key, now=now)
        forget_published_keys()
        keys = await published_keys(session, now=now)
    response.headers["cache-control"] = CACHE_CONTROL
    return Jwks(keys=[PublicJwk.model_validate(key) for key in keys])
