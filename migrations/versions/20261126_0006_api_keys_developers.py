"""school API keys; developers and developer keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Keys are stored as HMAC-SHA-256 of their secret (32 bytes), found by their unique prefix.
def upgrade() -> None:
    op.create_table(
        "school_api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_by_admin_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_admin_id"],
            ["admins.id"],
            name=op.f("fk_school_api_keys_created_by_admin_id_admins"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_api_keys_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_school_api_keys_prefix")),
    )
    with op.batch_alter_table("school_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_api_keys_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_school_api_keys_created_by_admin_id"), ["created_by_admin_id"], unique=False
        )

    op.create_table(
        "developers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developers")),
        sa.UniqueConstraint("email", name=op.f("uq_developers_email")),
    )

    op.create_table(
        "developer_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_developer_keys_developer_id_developers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developer_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_developer_keys_prefix")),
    )
    with op.batch_alter_table("developer_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_developer_keys_developer_id"), ["developer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("developer_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_developer_keys_developer_id"))
    op.drop_table("developer_keys")
    op.drop_table("developers")
    with op.batch_alter_table("school_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_api_keys_created_by_admin_id"))
        batch_op.drop_index(batch_op.f("ix_school_api_keys_school_id"))
    op.drop_table("school_api_keys")
