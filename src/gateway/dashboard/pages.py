"""Placeholder router; filled in by the data API issue's work in progress (this line is replaced)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
