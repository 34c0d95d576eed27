"""A whole school's purge: its data and keys gone, grants and tokens revoked; the log and a record stay."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.access_log.models import DataAccess
from gateway.accounts.models import Admin
from gateway.audit.models import AuditEvent
from gateway.audit.service import verify
from gateway.connector.models import ConnectorKey
from gateway.consent.models import Grant
from gateway.db.base import utcnow
from gateway.erasure.models import PurgeRecord
from gateway.erasure.requests import pending_deletions, request_deletion
from gateway.erasure.school_purge import purge_school
from gateway.exports.models import Export
from gateway.exports.service import start_export
from gateway.keys.keyring import Keyring, KeyShredded
from gateway.keys.models import SchoolKey
from gateway.manage.models import SchoolApiKey
from gateway.mis.models import GroupMembership, MisRecordRow
from gateway.schools.models import School
from gateway.webhooks.models import WebhookMessage
from tests.support.accounts import make_account
from tests.support.connector_keys import issue_connector_key
from tests.support.leavers import load_leavers_school
from tests.support.school_keys import issue_key
from tests.support.world import World


async def count(session: AsyncSession, model: type, school_id: uuid.UUID) -> int:
    column = model.school_id  # type: ignore[attr-defined]
    return int(await session.scalar(select(func.count()).select_from(model).where(column == school_id)) or 0)


async def school_with_everything(
    session: AsyncSession, keyring: Keyring, world: World, name: str
) -> tuple[School, Grant]:
    school = await world.school(name)
    await load_leavers_school(session, keyring, school)
    owner = await make_account(session, f"head@{name.split()[0].lower()}.example.org", school=school)
    await issue_key(session, keyring, owner)
    await issue_connector_key(session, keyring, school)
    app = await world.app()
    app.webhook_url = "https://planner.example.com/hooks"
    grant = await world.grant(school, app)
    return school, grant


@pytest.fixture
async def everything(session: AsyncSession, keyring: Keyring, world: World) -> tuple[School, Grant]:
    return await school_with_everything(session, keyring, world, "Leaving Synthetic Academy")


async def test_a_deletion_request_leaves_only_the_log_the_grants_history_and_a_purge_record(
    session: AsyncSession, keyring: Keyring, world: World, everything: tuple[School, Grant]
) -> None:
    school, grant = everything
    neighbour, neighbours_grant = await school_with_everything(
        session, keyring, world, "Staying Synthetic Academy"
    )
    key_id = await session.scalar(select(SchoolKey.id).where(SchoolKey.school_id == school.id))
    assert key_id is not None
    await request_deletion(session, school, actor="operator", now=utcnow())
    await start_export(session, school.id, actor="operator", now=utcnow())

    purged = await purge_school(
        session, keyring, school, rule="deletion_requested", actor="system", now=utcnow()
    )
    await session.commit()

    for model in (
        MisRecordRow,
        GroupMembership,
        SchoolKey,
        Admin,
        SchoolApiKey,
        ConnectorKey,
        DataAccess,
        Export,
    ):
        assert await count(session, model, school.id) == 0, model.__name__
    with pytest.raises(KeyShredded):
        await Keyring(keyring.master_key).key(session, school.id, key_id)
    stored = await session.get(Grant, grant.id, populate_existing=True)
    assert stored is not None
    assert stored.revoked_at is not None
    assert stored.revoked_by == "system"
    assert await pending_deletions(session, school.id) == []

    assert purged.counts["grants_revoked"] == 1
    assert purged.counts["mis_records"] == 19  # 8 pupils, 2 groups, 3 contacts, 4 links, 2 summaries
    assert purged.counts["data_keys"] == 1
    assert purged.counts["admins"] == 1
    record = await session.scalar(select(PurgeRecord).where(PurgeRecord.school_id == school.id))
    assert record is not None
    assert (record.rule, record.scope, record.pupils) == ("deletion_requested", "school", 8)
    logged = list(
        await session.scalars(
            select(AuditEvent.event_type).where(AuditEvent.school_id == school.id).order_by(AuditEvent.seq)
        )
    )
    assert logged[-3:] == ["deletion.requested", "grant.revoked", "data.purged"]
    [report] = await verify(session, school.id)
    assert report.broken is None
    told = await session.scalars(
        select(WebhookMessage.event_type).where(WebhookMessage.app_id == grant.app_id)
    )
    assert sorted(told) == ["grant.revoked", "school.data_purged"]

    # The neighbour is untouched.
    assert await count(session, MisRecordRow, neighbour.id) == 19
    assert await count(session, Admin, neighbour.id) == 1
    assert await count(session, SchoolKey, neighbour.id) == 1
    still = await session.get(Grant, neighbours_grant.id, populate_existing=True)
    assert still is not None
    assert still.revoked_at is None


async def test_a_deleted_connector_purges_the_mis_data_and_the_school_stays(
    session: AsyncSession, keyring: Keyring, everything: tuple[School, Grant]
) -> None:
    school, grant = everything
    session.add(
        DataAccess(
            school_id=school.id,
            app_id=grant.app_id,
            client_id="planner",
            grant_id=grant.id,
            resource="students",
            fields="id first_name",
            record_count=3,
        )
    )
    await session.flush()
    purged = await purge_school(
        session, keyring, school, rule="connector_deleted", actor="system", now=utcnow()
    )

    assert await count(session, MisRecordRow, school.id) == 0
    assert await count(session, SchoolKey, school.id) == 0
    assert await count(session, Admin, school.id) == 1  # admins still sign in, read the log, reconnect
    assert await count(session, SchoolApiKey, school.id) == 1
    assert await count(session, DataAccess, school.id) == 1  # what was shared stays provable
    assert "admins" not in purged.counts
    assert purged.record.scope == "school"


async def test_purging_twice_finds_nothing_the_second_time(
    session: AsyncSession, keyring: Keyring, everything: tuple[School, Grant]
) -> None:
    school, _grant = everything
    await purge_school(session, keyring, school, rule="inactive", actor="system", now=utcnow())
    again = await purge_school(session, keyring, school, rule="inactive", actor="system", now=utcnow())
    assert again.record.rows == 0
    assert again.counts["grants_revoked"] == 0
    assert again.apps_told == 0


async def test_new_data_after_a_purge_gets_a_new_key_even_in_a_process_that_cached_the_old_one(
    session: AsyncSession, keyring: Keyring, everything: tuple[School, Grant]
) -> None:
    school, _grant = everything
    other_process = Keyring(keyring.master_key)
    old_id, _ = await other_process.active_key(session, school.id)
    await purge_school(session, keyring, school, rule="connector_deleted", actor="system", now=utcnow())
    new_id, _ = await other_process.active_key(session, school.id)
    assert new_id != old_id
    assert await session.scalar(select(SchoolKey.id).where(SchoolKey.school_id == school.id)) == new_id
