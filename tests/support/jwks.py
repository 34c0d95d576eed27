"""What a published signing key may hold: the public members of an EC P-256 JWK, and nothing private."""

from __future__ import annotations

PUBLIC_MEMBERS = {"kty", "crv", "x", "y", "kid", "use", "alg"}
