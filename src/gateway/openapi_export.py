"""The exported OpenAPI document (SPEC §8): written deterministically, checked against the served one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

DEFAULT_PATH = Path("openapi/openapi.json")


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def served_schema(app: FastAPI) -> str:
    return render_schema(app.openapi())


def drift(app: FastAPI, path: Path) -> bool:
    """True when the file on disk differs from what the app serves."""
    return not path.exists() or path.read_text(encoding="utf-8") != served_schema(app)
