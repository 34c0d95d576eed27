"""Erasure (SPEC §3.8): the database side of the retention rules in `gateway.retention`.

Modules: `models` (deletion requests and connector deletions, purge records, inactivity warnings),
`clock` (which day it is in England), `requests` (deleting a connector, asking for and cancelling a
school's deletion), `activity` (a school's last sign of life, for the 12-month rule), `school_purge` (a
whole school's data: rows deleted, data key shredded, grants and tokens revoked), `pupil_purge` (a former
pupil's records, tombstoned for apps' changes feeds), `plan` (what is due, by school, rule and day, and
doing it), `files` (no earlier page of a purged row left in SQLite's write-ahead log).

The scheduled run is `gateway.jobs.retention`; the commands are `gateway.cli.retention`.
"""
