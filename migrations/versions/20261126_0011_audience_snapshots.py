"""data API changes feed: audience snapshots (pupil and contact ids an app was last shown)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_api_audience_snapshots",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_data_api_audience_snapshots_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "digest", name=op.f("pk_data_api_audience_snapshots")),
    )
    with op.batch_alter_table("data_api_audience_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_api_audience_snapshots_school_time", ["school_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("data_api_audience_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_data_api_audience_snapshots_school_time")

    op.drop_table("data_api_audience_snapshots")
