"""versions keep what the import read outside the clause tree

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 05:50:00.000000

An imported version keeps the document's name, its preamble, the parser's warnings and the
paragraphs left out with their reasons, so they can be read after the preview. Versions made
before have none: empty values.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = (
    ("source_title", sa.Text(), ""),
    ("source_preamble", sa.JSON(), "[]"),
    ("import_warnings", sa.JSON(), "[]"),
    ("left_out", sa.JSON(), "[]"),
)


def upgrade():
    # NOT NULL with a default for the rows already there: SQLite adds such a column in place,
    # where a batch rebuild of `versions` would trip over the rows that refer to it.
    for name, type_, default in COLUMNS:
        op.add_column(
            "versions",
            sa.Column(name, type_, nullable=False, server_default=sa.text(f"'{default}'")),
        )
    if op.get_bind().dialect.name != "sqlite":
        for name, _type, _default in COLUMNS:
            op.alter_column("versions", name, server_default=None)


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would fail on the rows that refer to
    # `versions`.
    for name, _type, _default in reversed(COLUMNS):
        op.execute(f"ALTER TABLE versions DROP COLUMN {name}")
