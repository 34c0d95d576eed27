"""A school with records and an admin, and support requests made of it (tests.support.records)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.keys.keyring import Keyring
from tests.support.accounts import Account
from tests.support.data_api import write
from tests.support.records import group, students


@pytest.fixture
async def loaded(session: AsyncSession, keyring: Keyring, account: Account) -> Account:
    """`account`'s school with five pupils and a group."""
    await write(session, keyring, account.school, "students", students(5))
    await write(session, keyring, account.school, "groups", [group("reg-7a", ["stu-00000", "stu-00001"])])
    return account
