"""`/`: what the gateway is, where a school admin signs in, and where developers read the API (issue 13).

A plain page with no session work: it reads no cookie and writes nothing, so it answers the same to anyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.web.templates import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    return render(
        request, "home.html", title="School data, shared only with consent", notice=None, problems=[]
    )
