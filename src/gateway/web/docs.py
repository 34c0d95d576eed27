"""`/docs`: Swagger UI from a packaged copy (SPEC §8), under a CSP that allows no inline script.

Assets come from the `fastapi-offline` package; the start-up script is our own static file, and the
OAuth 2 redirect page's single inline script is allowed by its SHA-256 hash only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
OUR_ASSETS = Path(__file__).resolve().parent / "static"

DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} — API documentation</title>
  <link rel="icon" type="image/png" href="/docs/assets/favicon.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui" aria-label="API documentation"></main>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/static/docs-init.js"></script>
</body>
</html>
"""


def _script_hash_csp(html: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in scripts
    )
    return f"default-src 'none'; script-src {hashes}; frame-ancestors 'none'; base-uri 'none'"


def mount_docs(app: FastAPI, *, title: str) -> None:
    page = DOCS_HTML.format(title=title)
    redirect_html = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    redirect_csp = _script_hash_csp(redirect_html)
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"content-security-policy": DOCS_CSP})

    @router.get("/docs/oauth2-redirect")
    async def oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(redirect_html, headers={"content-security-policy": redirect_csp})

    app.include_router(router)
    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")
    app.mount("/docs/static", StaticFiles(directory=OUR_ASSETS), name="docs-static")
