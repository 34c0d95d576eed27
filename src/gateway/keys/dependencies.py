"""The process's keyring as a request dependency (set on the app at start-up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.keys.keyring import Keyring


def keyring(request: Request) -> Keyring:
    ring: Keyring = request.app.state.keyring
    return ring


KeyringDep = Annotated[Keyring, Depends(keyring)]
