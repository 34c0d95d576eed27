"""Consent and grants (SPEC §2, §3.2, §3.3, §3.6): what a school lets an app see, and how it decides.

Modules: `models` (requests, grants, sensitive approvals), `audience` (the one reading of a grant's
audience), `rules` (pure: consent decisions and narrowings), `choices` (groups and pupils to choose from),
`requests` (authorization requests kept for the consent page), `decisions` (load, approve, deny),
`repository` (the grant SQL), `grants` (read, narrow, revoke), `pages` (the consent page).
"""
