"""Liveness, readiness and metrics endpoints for operators (SPEC §8)."""
