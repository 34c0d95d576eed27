"""erasure: scheduled school deletions, purge records, inactivity warnings

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inactivity_warnings",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("last_activity_on", sa.Date(), nullable=False),
        sa.Column("warned_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_inactivity_warnings_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_inactivity_warnings")),
    )
    op.create_table(
        "purges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("purged_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_purges_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purges")),
    )
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.create_index("ix_purges_school", ["school_id", "purged_at"], unique=False)

    op.create_table(
        "school_deletions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("requested_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("cancelled_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=80), nullable=True),
        sa.Column("purged_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_deletions_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_deletions")),
    )
    with op.batch_alter_table("school_deletions", schema=None) as batch_op:
        batch_op.create_index("ix_school_deletions_school", ["school_id", "requested_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("school_deletions", schema=None) as batch_op:
        batch_op.drop_index("ix_school_deletions_school")

    op.drop_table("school_deletions")
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.drop_index("ix_purges_school")

    op.drop_table("purges")
    op.drop_table("inactivity_warnings")
