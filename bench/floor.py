"""The bare framework floor: a Starlette app answering fixed JSON, nothing else (no middleware, no
database). `python -m bench.speed` serves it with uvicorn (1 worker, uvloop and httptools, no access log)
beside the gateway, so every gateway figure is read as a fraction of what the framework alone does on the
same machine in the same run."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ok(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", ok)])
