"""`SettingsDep`: the app's settings, for a router that needs one of them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.settings import Settings


async def app_settings(request: Request) -> Settings:
    """Async: FastAPI would run a plain function in its thread pool."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
