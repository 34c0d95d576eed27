"""Migrations build the schema: upgrade, downgrade, upgrade again, and agree with the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from gateway.db import migrations
from gateway.db.engine import create_engine
from gateway.models import metadata
from gateway.settings import Settings
from tests.support.databases import throwaway_database


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_downgrade_upgrade_and_no_drift(tmp_path: Path) -> None:
    async with throwaway_database(tmp_path) as url:
        engine = create_engine(Settings(database_url=url))
        try:
            assert await migrations.current_revision(engine) is None
            await migrations.upgrade(engine)
            assert await migrations.is_at_head(engine)
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == set(metadata.tables)
                assert await connection.run_sync(_diff) == []

            await migrations.downgrade(engine)
            assert await migrations.current_revision(engine) is None
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) == set()

            await migrations.upgrade(engine)
            await migrations.upgrade(engine)  # idempotent
            assert await migrations.is_at_head(engine)
            async with engine.connect() as connection:
                assert await connection.run_sync(_diff) == []
        finally:
            await engine.dispose()


def test_every_table_follows_the_naming_convention() -> None:
    for table in metadata.tables.values():
        assert table.primary_key.name == f"pk_{table.name}"
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
