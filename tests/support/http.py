"""What HTTP tests send: the test app's issuer, and bearer and form headers."""

from __future__ import annotations

TEST_ISSUER = "http://127.0.0.1:8000"  # the `app` fixture's settings say so; the `client` fixture's base URL
FORM = {"content-type": "application/x-www-form-urlencoded"}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
