"""Comments imported from a unit's file: proposed wording, the source file, unit files

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 08:45:00.000000

A comment may carry the unit's new wording for its clause (proposed_text) and the file
it was imported from (attachment_id). The round's attachments also hold the files units
answer with (response_id), each kept once per content (sha256).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consultation_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("uploaded_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_consultation_attachments_response_id"), ["response_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_consultation_attachments_response_id_sha256"), ["response_id", "sha256"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_consultation_attachments_response_id_unit_responses"),
            "unit_responses",
            ["response_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_consultation_attachments_uploaded_by_id_users"),
            "users",
            ["uploaded_by_id"],
            ["id"],
        )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_comments_attachment_id"), ["attachment_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_attachment_id_consultation_attachments"),
            "consultation_attachments",
            ["attachment_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_comments_attachment_id_consultation_attachments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_comments_attachment_id"))
        batch_op.drop_column("attachment_id")
        batch_op.drop_column("proposed_text")
    with op.batch_alter_table("consultation_attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_consultation_attachments_uploaded_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_consultation_attachments_response_id_unit_responses"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("uq_consultation_attachments_response_id_sha256"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_consultation_attachments_response_id"))
        batch_op.drop_column("uploaded_by_id")
        batch_op.drop_column("sha256")
        batch_op.drop_column("response_id")
