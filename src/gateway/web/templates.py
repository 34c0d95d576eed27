"""Jinja2 pages: autoescaped, no inline script or style, so the default CSP holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), auto_reload=False
)


def error_page(
    request: Request, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """An error as a page; an ended session goes back to sign-in instead."""
    if status == 401:
        return HTMLResponse(status_code=303, headers={"location": "/login"})
    link = {"href": "/login", "text": "Go to sign in"}
    response = render(request, "message.html", title=title, message=detail, link=link, status_code=status)
    response.headers.update(headers or {})
    return response


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)
