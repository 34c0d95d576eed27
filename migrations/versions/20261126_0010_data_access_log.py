"""data access log: one row per data API response (fields and record count, never contents)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_access_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_data_access_log_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_access_log")),
    )
    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.create_index("ix_data_access_log_grant_time", ["grant_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_data_access_log_school_time", ["school_id", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_data_access_log_school_time")
        batch_op.drop_index("ix_data_access_log_grant_time")

    op.drop_table("data_access_log")
