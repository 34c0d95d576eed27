"""App developers (SPEC §1): accounts created by the operator, `/developer/v1` with a developer key."""
