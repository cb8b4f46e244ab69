"""stored deadlines and review flags for the reminder scan

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:10:00.000000

The scan finds what is due through indexes instead of reading every candidate:

* unit_responses.due_at: the unit's deadline, COALESCE(deadline_override, the round's
  closes_at), which no index could serve as an expression;
* consultations.closes_at gets an index (rounds that just closed);
* score_sheets.evidence_missing and score_sheets.score_gap summarise each sheet's
  scores and evidence (workflow.models.review_flags_update is the same rule).

Existing rows are filled here; the models keep the columns in step from then on.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FILL_DUE_AT = """
UPDATE unit_responses SET due_at = COALESCE(
    deadline_override,
    (SELECT c.closes_at FROM consultations c WHERE c.id = unit_responses.consultation_id)
)
"""

FILL_REVIEW_FLAGS = """
UPDATE score_sheets SET
    evidence_missing = EXISTS (
        SELECT 1 FROM scores own
        WHERE own.sheet_id = score_sheets.id AND own.stage = 'self' AND own.value IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM score_evidence e
              WHERE e.sheet_id = own.sheet_id AND (e.lineage IS NULL OR e.lineage = own.lineage)
          )
    ),
    score_gap = (
        SELECT MAX(ABS(own.value - review.value))
        FROM scores own
        JOIN scores review ON review.sheet_id = own.sheet_id AND review.lineage = own.lineage
        WHERE own.sheet_id = score_sheets.id AND own.stage = 'self' AND own.value IS NOT NULL
          AND review.stage IN ('cluster', 'verified') AND review.value IS NOT NULL
    )
"""


# Plain ALTER TABLE … ADD COLUMN and CREATE INDEX only: on SQLite a batch operation
# rebuilds the table, and dropping the old one with foreign keys on would cascade
# (unit_responses → comments, score_sheets → scores).
def upgrade():
    op.create_index(op.f("ix_consultations_closes_at"), "consultations", ["closes_at"])

    op.add_column("unit_responses", sa.Column("due_at", sa.DateTime(timezone=True)))
    op.execute(FILL_DUE_AT)
    op.create_index(op.f("ix_unit_responses_due_at"), "unit_responses", ["due_at"])

    op.add_column(
        "score_sheets",
        sa.Column("evidence_missing", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("score_sheets", sa.Column("score_gap", sa.Numeric(precision=10, scale=2)))
    op.execute(FILL_REVIEW_FLAGS)
    op.create_index(
        "ix_score_sheets_flag_evidence", "score_sheets", ["evidence_missing", "due_at", "state"]
    )
    op.create_index("ix_score_sheets_flag_gap", "score_sheets", ["score_gap", "due_at", "state"])


def downgrade():
    # SQLite drops a column in place (3.35+) once no index uses it.
    op.drop_index("ix_score_sheets_flag_gap", table_name="score_sheets")
    op.drop_index("ix_score_sheets_flag_evidence", table_name="score_sheets")
    op.drop_column("score_sheets", "score_gap")
    op.drop_column("score_sheets", "evidence_missing")

    op.drop_index(op.f("ix_unit_responses_due_at"), table_name="unit_responses")
    op.drop_column("unit_responses", "due_at")

    op.drop_index(op.f("ix_consultations_closes_at"), table_name="consultations")
