"""Account errors. Login failures never say which part was wrong (no account enumeration)."""

from __future__ import annotations

from gateway.errors import Problem


class LinkInvalid(Problem):
    status, slug, title = 400, "link-invalid", "Link not valid"

    def __init__(self) -> None:
        super().__init__("This link is not valid: it may have been used already or have expired.")


class PasswordRejected(Problem):
    status, slug, title = 422, "password-rejected", "Password not accepted"


class SessionInvalid(Problem):
    status, slug, title = 401, "session-invalid", "Sign in again"

    def __init__(self) -> None:
        super().__init__("Your session has ended. Sign in again.")


class CsrfRejected(Problem):
    status, slug, title = 403, "csrf-rejected", "Form expired"

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site. Go back, reload and try again."
        )


class TooManyAttempts(Problem):
    status, slug, title = 429, "too-many-attempts", "Too many attempts"
