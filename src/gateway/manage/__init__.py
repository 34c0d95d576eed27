"""The school's API, `/manage/v1` (SPEC §7): school API keys now; grants, log and exports build on it.

Later manage endpoints take `PrincipalDep` (a `SchoolPrincipal`: the school and the audit actor).
"""

from gateway.manage.auth import PrincipalDep, current_school_principal
from gateway.manage.principal import SchoolPrincipal

__all__ = ["PrincipalDep", "SchoolPrincipal", "current_school_principal"]
