"""The master key that wraps every school's data key (SPEC §3.8)."""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from gateway.settings import Environment, Settings, SettingsError, decode_master_key

log = logging.getLogger(__name__)

DEV_KEY_FILENAME = "master.key"


def resolve_master_key(settings: Settings) -> bytes:
    """The configured key, or in development a key generated once into a 0600 file beside the database."""
    if settings.master_key is not None:
        return decode_master_key(settings.master_key.get_secret_value())
    if settings.environment is Environment.PRODUCTION:
        raise SettingsError("GATEWAY_MASTER_KEY is required when GATEWAY_ENVIRONMENT=production")
    return _development_key(settings.data_dir / DEV_KEY_FILENAME)


def _development_key(path: Path) -> bytes:
    if path.exists():
        try:
            return decode_master_key(path.read_text())
        except ValueError as exc:
            raise SettingsError(f"GATEWAY_MASTER_KEY: the development key file {path} {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.b64encode(secrets.token_bytes(32)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return decode_master_key(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(encoded + "\n")
    log.warning(
        "generated a development master key; set GATEWAY_MASTER_KEY in production",
        extra={"path": str(path)},
    )
    return decode_master_key(encoded)
