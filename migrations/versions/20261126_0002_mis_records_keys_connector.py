"""mis records, keys, connector

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:02:01.551719
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("wrapped_value", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.create_table(
        "connector_batches",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_connector_batches_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "idempotency_key", name=op.f("pk_connector_batches")),
    )
    op.create_table(
        "connector_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_connector_keys_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_connector_keys_prefix")),
    )
    with op.batch_alter_table("connector_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connector_keys_school_id"), ["school_id"], unique=False)

    op.create_table(
        "group_memberships",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_group_memberships_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "school_id", "group_id", "role", "member_id", name=op.f("pk_group_memberships")
        ),
    )
    with op.batch_alter_table("group_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_group_memberships_member", ["school_id", "member_id"], unique=False)

    op.create_table(
        "mis_records",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("year_code", sa.String(length=3), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_sync_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_mis_records_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("school_id", "resource", "record_id", name=op.f("pk_mis_records")),
    )
    with op.batch_alter_table("mis_records", schema=None) as batch_op:
        batch_op.create_index("ix_mis_records_changes", ["school_id", "resource", "change_seq"], unique=False)
        batch_op.create_index("ix_mis_records_student", ["school_id", "student_id"], unique=False)

    op.create_table(
        "school_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_keys_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_keys")),
    )
    with op.batch_alter_table("school_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_keys_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "uq_school_keys_active",
            ["school_id"],
            unique=True,
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active"),
        )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tombstoned", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_sync_runs_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_runs_school_id"), ["school_id"], unique=False)

    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("change_seq")

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_school_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("school_keys", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_school_keys_active", postgresql_where=sa.text("active"), sqlite_where=sa.text("active")
        )
        batch_op.drop_index(batch_op.f("ix_school_keys_school_id"))

    op.drop_table("school_keys")
    with op.batch_alter_table("mis_records", schema=None) as batch_op:
        batch_op.drop_index("ix_mis_records_student")
        batch_op.drop_index("ix_mis_records_changes")

    op.drop_table("mis_records")
    with op.batch_alter_table("group_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_group_memberships_member")

    op.drop_table("group_memberships")
    with op.batch_alter_table("connector_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_keys_school_id"))

    op.drop_table("connector_keys")
    op.drop_table("connector_batches")
    op.drop_table("server_secrets")
