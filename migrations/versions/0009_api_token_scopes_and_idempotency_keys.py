"""API token scopes and expiry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 04:30:00.000000

Tokens get scopes (read, comment, score, admin) and an expiry date. Tokens made before
this upgrade could do everything their user may, so they keep all four scopes; they
expire 90 days after the upgrade, like a new token made that day, so that scoped tokens
replace them.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EXISTING_TOKENS_SCOPES = "read comment score admin"
EXISTING_TOKENS_DAYS = 90


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scopes",
                sa.String(length=100),
                nullable=False,
                server_default=EXISTING_TOKENS_SCOPES,
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(
        tokens.update().values(
            expires_at=datetime.now(UTC) + timedelta(days=EXISTING_TOKENS_DAYS)
        )
    )
    # New tokens always name their scopes; the default was only for the rows above.
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("scopes", server_default=None)


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
