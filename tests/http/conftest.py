"""A database of its own for the tests that call every operation of the OpenAPI document (schemathesis,
hostile input): they commit what they send, so they never share the run's database, where every other
test rolls back. Its rate limits are out of reach, so the thousands of requests these tests make meet the
handlers rather than 429.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.keys.keyring import Keyring
from gateway.settings import Settings
from tests.support.credentials import Credentials, issue_credentials
from tests.support.databases import MigratedDatabase, migrated_database
from tests.support.http import TEST_ISSUER
from tests.support.tally import TALLY

UNREACHABLE_LIMIT = "1000000/minute"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The schemathesis counts (operations, cases, failures by check), when its tests ran."""
    if TALLY.cases:
        terminalreporter.write_line(TALLY.summary())


@pytest.fixture(scope="session")
async def fuzz_database(run_dir: Path) -> AsyncIterator[MigratedDatabase]:
    async with migrated_database(run_dir, pool_size=2) as database:
        yield database


@pytest.fixture(scope="session")
def fuzz_settings(fuzz_database: MigratedDatabase, master_key_b64: str, run_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=fuzz_database.url,
        master_key=master_key_b64,
        issuer=TEST_ISSUER,
        data_dir=run_dir,
        db_pool_size=2,
        token_rate_limit=UNREACHABLE_LIMIT,
        client_auth_failure_limit=UNREACHABLE_LIMIT,
        api_rate_limit=UNREACHABLE_LIMIT,
    )


@pytest.fixture(scope="session")
async def fuzz_credentials(fuzz_database: MigratedDatabase, master_key_b64: str) -> Credentials:
    """The credentials every operation is called with (destructive ones get their own)."""
    async with fuzz_database.sessions() as session:
        return await issue_credentials(
            session,
            Keyring(base64.b64decode(master_key_b64)),
            issuer=TEST_ISSUER,
            email="head@fuzz.example.org",
        )
