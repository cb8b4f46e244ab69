"""background jobs: long imports and exports with progress and a kept result

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 05:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "background_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "draft_import",
                "consolidation_docx",
                "consolidation_xlsx",
                "comparison_docx",
                "results_xlsx",
                "results_pdf",
                name="jobkind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued", "running", "done", "failed", name="jobstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=300), nullable=False),
        sa.Column("result_path", sa.String(length=300), nullable=False),
        sa.Column("result_name", sa.String(length=300), nullable=False),
        sa.Column("result_mimetype", sa.String(length=120), nullable=False),
        sa.Column("result_data", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_background_jobs_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_jobs")),
    )
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_background_jobs_owner_created", ["owner_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_background_jobs_state_started", ["state", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_background_jobs_state_started")
        batch_op.drop_index("ix_background_jobs_owner_created")
    op.drop_table("background_jobs")
