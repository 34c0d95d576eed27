"""incidents: incidents and the schools they touched; each school's settings (data protection contact)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 04:56:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detected_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_from", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_to", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("school_filter", sa.Text(), nullable=True),
        sa.Column("app_filter", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("closed_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('open', 'closed')", name=op.f("ck_incidents_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_table(
        "incident_schools",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("apps", sa.Text(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.Column("data_accesses", sa.Integer(), nullable=False),
        sa.Column("support_reads", sa.Integer(), nullable=False),
        sa.Column("sync_runs", sa.Integer(), nullable=False),
        sa.Column("key_events", sa.Integer(), nullable=False),
        sa.Column("notified_at", gateway.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_admins", sa.Integer(), nullable=False),
        sa.Column("notified_dpo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_schools_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_incident_schools_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "school_id", name=op.f("pk_incident_schools")),
    )
    with op.batch_alter_table("incident_schools", schema=None) as batch_op:
        batch_op.create_index("ix_incident_schools_school", ["school_id", "notified_at"], unique=False)

    op.create_table(
        "school_settings",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("dpo_name", sa.String(length=200), nullable=True),
        sa.Column("dpo_email", sa.String(length=254), nullable=True),
        sa.Column("email_on_more_access", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("updated_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_school_settings_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school_settings")),
    )


def downgrade() -> None:
    op.drop_table("school_settings")
    with op.batch_alter_table("incident_schools", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_schools_school")

    op.drop_table("incident_schools")
    op.drop_table("incidents")
