"""Parallel wrong passwords on PostgreSQL: the guarded counter locks at exactly ten, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.accounts import service
from gateway.accounts.models import Admin
from gateway.audit.models import AuditEvent
from gateway.auth.passwords import CHEAP_TEST_PARAMETERS, PasswordHashing
from gateway.email.models import OutboxMessage
from tests.support.accounts import ISSUER, PASSWORD
from tests.support.databases import migrated_database

EMAIL = "parallel@synthetic-school.example.org"


@pytest.mark.postgres_only
async def test_fifteen_parallel_wrong_passwords_lock_at_ten(tmp_path: Path) -> None:
    hashing = PasswordHashing(CHEAP_TEST_PARAMETERS)
    async with migrated_database(tmp_path, pool_size=20) as database:
        sessions = database.sessions
        school = await database.school("820001", "Parallel Academy")
        async with sessions() as session, session.begin():
            admin, _link = await service.create_admin(session, school, EMAIL, issuer=ISSUER)
            await service.set_password(session, hashing, admin, PASSWORD)

        async def attempt(number: int) -> None:
            async with sessions() as session, session.begin():
                outcome = await service.password_login(
                    session, hashing, email=EMAIL, password=f"Wrong-Guess-{number}", issuer=ISSUER
                )
                assert outcome is None

        await asyncio.gather(*(attempt(n) for n in range(15)))

        async with sessions() as session:
            stored = await session.scalar(select(Admin).where(Admin.email == EMAIL))
            assert stored is not None
            assert stored.failed_attempts == 10
            assert stored.locked_at is not None
            kinds = list(await session.scalars(select(AuditEvent.event_type).order_by(AuditEvent.seq)))
            assert kinds.count("admin.login_failed") == 10
            assert kinds.count("admin.locked_out") == 1
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        async with sessions() as session, session.begin():
            right = await service.password_login(
                session, hashing, email=EMAIL, password=PASSWORD, issuer=ISSUER
            )
            assert right is None  # the eleventh, with the right password, is still refused
