"""The authorisation server's protocol edge (SPEC §3.2, §3.4, RFC 6749): `/oauth/…` and `/.well-known/…`.

Authorize, token (one module per grant type under `grant_types/`), revoke, introspect, metadata, JWKS,
the RFC 6750 bearer check of `/api/v1`, and the OAuth errors. Consent and grants live in `consent/`, the
token lifecycle in `tokens/`.
"""
