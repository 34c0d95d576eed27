"""Support access (SPEC §3.9): the operator's staff read a school's records only while one of its admins has
approved a named, time-boxed request for named resources, and every read is in the school's log.

Modules: `models` (`support_requests`), `requests` (asking, approving, declining, shortening, withdrawing;
which approval is live), `reading` (the one operator path that opens a school's records), `schemas` and
`router` (`/manage/v1/support-requests`), `notices` (the admins' emails). The operator's commands are
`gateway.cli.support`; the dashboard page is `gateway.dashboard.support`.
"""
