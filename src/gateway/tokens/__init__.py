"""The token lifecycle (SPEC §3.4): codes and PKCE, refresh rotation, access-token minting and
verification, family revocation, and the one decision on whether a presented access token may be used.

Modules: `models` (what is stored), `codes`, `pkce`, `refresh`, `issuance`, `access_tokens` (pure RFC 9068),
`verification`, `state` (pure: is this token usable now?), `families`, `signing_key`, `hashing`, `expiry`
(which rows the scheduled purge deletes).
"""
