"""The README's promises that code can check: the configuration table and the two quick-start commands."""

from __future__ import annotations

import re

from gateway.settings import Settings
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_configuration_table_matches_the_settings() -> None:
    rows = dict(re.findall(r"^\| `(GATEWAY_[A-Z_]+)` \| [^|]+ \| (.+) \|$", README, flags=re.MULTILINE))
    expected = {f"GATEWAY_{name.upper()}": field.description for name, field in Settings.model_fields.items()}
    assert rows == expected


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_second() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["scripts/demo", "scripts/test"]
    assert "exec ./scripts/test" in (REPO / ".ci" / "run").read_text()
