"""index comments by response and source

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:30:00.000000

The tracker counts every invited unit's comments by source on each view; with this
index the counts are read from the index alone instead of from every comment row. It
replaces the index on response_id alone, which is its first column.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_comments_response_source", "comments", ["response_id", "source"])
    op.drop_index("ix_comments_response_id", table_name="comments")


def downgrade():
    op.create_index("ix_comments_response_id", "comments", ["response_id"])
    op.drop_index("ix_comments_response_source", table_name="comments")
