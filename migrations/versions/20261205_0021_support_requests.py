"""support requests: a named operator's time-boxed access to named resources, and the school's answer

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 05:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("requested_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("expires_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_support_requests_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_requests")),
    )
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.create_index("ix_support_requests_school", ["school_id", "requested_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_support_requests_school")
    op.drop_table("support_requests")
