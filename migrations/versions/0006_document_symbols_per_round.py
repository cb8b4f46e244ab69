"""document symbols per round

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 01:45:00.000000

The số, ký hiệu of a round's consolidation report and comparison table, asked for at export
and remembered for the next export of the same round.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("report_symbol", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("comparison_symbol", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("comparison_symbol")
        batch.drop_column("report_symbol")
