"""exports: export jobs and their sealed chunks

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("records_done", sa.BigInteger(), nullable=False),
        sa.Column("records_total", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("downloaded_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_exports_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index("ix_exports_school_created", ["school_id", "created_at"], unique=False)
        batch_op.create_index("ix_exports_state", ["state"], unique=False)
        batch_op.create_index(
            "uq_exports_active_school",
            ["school_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        )

    op.create_table(
        "export_chunks",
        sa.Column("export_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"], ["exports.id"], name=op.f("fk_export_chunks_export_id_exports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("export_id", "seq", name=op.f("pk_export_chunks")),
    )


def downgrade() -> None:
    op.drop_table("export_chunks")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("uq_exports_active_school")
        batch_op.drop_index("ix_exports_state")
        batch_op.drop_index("ix_exports_school_created")

    op.drop_table("exports")
