"""Schools with an admin and a school API key each, for `/manage/v1/access-log`."""

from __future__ import annotations

from tests.app_api.conftest import World, fresh_jwks_cache, keyring, world

__all__ = ["World", "fresh_jwks_cache", "keyring", "world"]
