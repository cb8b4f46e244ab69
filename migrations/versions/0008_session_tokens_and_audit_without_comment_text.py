"""session tokens; audit rows without comment text

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-04 02:10:00.000000

Every user gets the token their session cookies name them by (a new one signs them out
everywhere). Audit rows of comments kept the comment's text, which the audit readers may
not be allowed to see: the text is replaced by the comment's id and a digest.
"""

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
audit_entries = sa.table(
    "audit_entries",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("summary", sa.Text),
    sa.column("details", sa.JSON),
)
COMMENT_ACTIONS = ("comment.create", "comment.edit", "comment.delete")


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def scrub_comment_audit(conn: sa.Connection) -> None:
    """Keep the unit, the comment's id and a digest of any full text the row held."""
    rows = conn.execute(
        sa.select(
            audit_entries.c.id,
            audit_entries.c.action,
            audit_entries.c.object_id,
            audit_entries.c.summary,
            audit_entries.c.details,
        ).where(audit_entries.c.action.in_(COMMENT_ACTIONS))
    ).all()
    for row in rows:
        unit = (row.summary or "").split(": ", 1)[0]
        details = dict(row.details or {})
        if "text" in details:
            details["digest"] = _digest(str(details.pop("text") or ""))
        if "old" in details:
            details["old_digest"] = _digest(str(details.pop("old") or ""))
        conn.execute(
            audit_entries.update()
            .where(audit_entries.c.id == row.id)
            .values(summary=f"{unit}: ý kiến #{row.object_id}", details=details)
        )


def upgrade():
    # NOT NULL with a default, then the real values: SQLite adds such a column in place,
    # where a batch rebuild of `users` would trip over the rows that refer to it.
    op.add_column(
        "users",
        sa.Column("session_token", sa.String(length=64), nullable=False, server_default=""),
    )
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    if conn.dialect.name != "sqlite":
        op.alter_column("users", "session_token", server_default=None)
    op.create_index("ix_users_session_token", "users", ["session_token"], unique=True)
    scrub_comment_audit(conn)


def downgrade():
    # The scrubbed text is gone for good; only the column goes back.
    op.drop_index("ix_users_session_token", table_name="users")
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would fail on the rows that refer
    # to `users`.
    op.execute("ALTER TABLE users DROP COLUMN session_token")
