"""What a schemathesis run sent and found, printed at the end of the test session (tests/http/conftest.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)  # operation label → cases sent
    failures: Counter[str] = field(default_factory=Counter)  # "ST101 Server error" → cases that failed it

    def sent(self, operation: str) -> None:
        self.cases[operation] += 1

    def failed(self, check: str) -> None:
        self.failures[check] += 1

    def summary(self) -> str:
        failures = ", ".join(f"{check}: {count}" for check, count in sorted(self.failures.items())) or "none"
        return (
            f"schemathesis: {len(self.cases)} operations, {sum(self.cases.values())} test cases, "
            f"failures by check: {failures}"
        )


TALLY = Tally()
