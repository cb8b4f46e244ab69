"""document symbols per round and the document signer

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 01:45:00.000000

The số, ký hiệu of a round's consolidation report and comparison table, asked for at export
and remembered for the next export of the same round; and who signs the agency's documents,
as an administrator sets it in the app.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("consultations", sa.Column("report_symbol", sa.String(length=40)))
    op.add_column("consultations", sa.Column("comparison_symbol", sa.String(length=40)))
    op.create_table(
        "document_signers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("document_signers")
    # In place, not batch mode: rebuilding consultations on SQLite would cascade-delete the
    # rounds' responses and comments. SQLite drops a column in place since 3.35.
    op.drop_column("consultations", "comparison_symbol")
    op.drop_column("consultations", "report_symbol")
