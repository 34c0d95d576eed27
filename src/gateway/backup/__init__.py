"""Whole-database backups for the operator (SPEC §9 `gateway backup create|restore`).

`archive` writes and reads a backup and its manifest; `check` proves a restored database whole.
"""
