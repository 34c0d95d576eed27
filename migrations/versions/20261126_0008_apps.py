"""apps (OAuth clients) registered by developers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Client secrets are HMAC-SHA-256 (32 bytes); the previous one is kept for the rotation overlap.
def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("developer_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("privacy_policy_url", sa.String(length=2000), nullable=False),
        sa.Column("support_url", sa.String(length=2000), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("required_scopes", sa.Text(), nullable=False),
        sa.Column("optional_scopes", sa.Text(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(length=32), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("client_secret_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("previous_secret_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("previous_secret_expires_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')",
            name=op.f("ck_apps_token_endpoint_auth_method"),
        ),
        sa.CheckConstraint(
            "(token_endpoint_auth_method = 'none') = (client_secret_hash IS NULL)",
            name=op.f("ck_apps_secret_iff_confidential"),
        ),
        sa.ForeignKeyConstraint(
            ["developer_id"],
            ["developers.id"],
            name=op.f("fk_apps_developer_id_developers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("client_id", name=op.f("uq_apps_client_id")),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apps_developer_id"), ["developer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apps_developer_id"))
    op.drop_table("apps")
