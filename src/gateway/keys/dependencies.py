"""The process's keyring as a request dependency (set on the app at start-up).

Async although it only reads app state: FastAPI runs a sync dependency in its thread pool, a thread hop on
every request of the token endpoint and the data API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.keys.keyring import Keyring


async def keyring(request: Request) -> Keyring:
    ring: Keyring = request.app.state.keyring
    return ring


KeyringDep = Annotated[Keyring, Depends(keyring)]
