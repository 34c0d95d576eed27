"""data access pupils: which pupils each data API response carried (sets stored once per school)

Responses served before this revision name no pupils (`pupil_set` is null for them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gateway.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_access_pupil_sets",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", gateway.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_data_access_pupil_sets_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "digest", name=op.f("pk_data_access_pupil_sets")),
    )
    op.create_table(
        "data_access_pupils",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id", "digest"],
            ["data_access_pupil_sets.school_id", "data_access_pupil_sets.digest"],
            name=op.f("fk_data_access_pupils_school_id_data_access_pupil_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "digest", "student_id", name=op.f("pk_data_access_pupils")),
    )
    with op.batch_alter_table("data_access_pupils", schema=None) as batch_op:
        batch_op.create_index("ix_data_access_pupils_student", ["school_id", "student_id"], unique=False)

    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pupil_set", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_data_access_log_pupil_set", ["pupil_set", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_data_access_log_pupil_set")
        batch_op.drop_column("pupil_set")

    with op.batch_alter_table("data_access_pupils", schema=None) as batch_op:
        batch_op.drop_index("ix_data_access_pupils_student")

    op.drop_table("data_access_pupils")
    op.drop_table("data_access_pupil_sets")
