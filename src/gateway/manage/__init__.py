"""The school's API, `/manage/v1` (SPEC §7): the school principal (`auth`, `principal`), API keys, grants.

Endpoints take `manage.auth.PrincipalDep` (a `SchoolPrincipal`: the school and the audit actor).
"""
