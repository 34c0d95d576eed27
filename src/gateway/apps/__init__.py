"""Registered apps (OAuth clients, SPEC §3.1): registration, validation, client secrets and their rotation."""
