"""one model for bonus and deduction points; publication of a period's results

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-04 04:00:00.000000

Bonus and deduction points could be entered in two places: as the score of a bonus or
deduction row of the criteria table, and as a separate line on the sheet. Each stage
read only its own, so a bonus nobody re-entered at the Cụm or office stage counted 0
there. From now on they are one model: a `score_adjustments` row says what the item
is (kind, reason, the table's row it is filed under), and its points in each column
are `scores` rows keyed by the item's key, which later columns carry over.

The move keeps every stored value:

* a bonus or deduction row's scores become one item per sheet and row; the score
  rows, their history and their evidence are re-keyed to the item (same values,
  notes, authors and lock versions);
* each line becomes the points of an item in its column. A line that a later column
  repeats (same kind, reason and points: what "confirm" copied) is the same item
  there. A column that had lines of its own but not an earlier column's item had
  decided without it: the item gets 0 points there, so that column's total does not
  change. A column with no lines at all now holds the earlier column's items: the
  defect this fixes;
* the review flags are recomputed, since an item's self-score needs evidence too.

Periods get a state (scoring → published), changed through their transition table,
with an append-only `scoring_period_transitions` log and a lock version.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

STAGE_ORDER = ("self", "cluster", "verified")
RULE_STAGES = {"group": "cluster", "office": "verified"}

# The same rule as workflow.models.review_flags_update (see 0003).
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

clauses = sa.table(
    "clauses",
    sa.column("id"),
    sa.column("version_id"),
    sa.column("parent_id"),
    sa.column("kind"),
    sa.column("title"),
    sa.column("lineage"),
)
periods = sa.table(
    "scoring_periods",
    sa.column("id"),
    sa.column("criteria_version_id"),
    sa.column("steps_config", sa.JSON()),
    sa.column("step_reviewers", sa.JSON()),
)
sheets = sa.table("score_sheets", sa.column("id"), sa.column("period_id"))
scores = sa.table(
    "scores",
    sa.column("id"),
    sa.column("sheet_id"),
    sa.column("lineage"),
    sa.column("stage"),
    sa.column("value"),
    sa.column("note"),
    sa.column("updated_by_id"),
    sa.column("updated_at"),
    sa.column("lock_version"),
)
changes = sa.table(
    "score_changes",
    sa.column("sheet_id"),
    sa.column("lineage"),
    sa.column("stage"),
    sa.column("old_value"),
    sa.column("new_value"),
    sa.column("note"),
    sa.column("actor_id"),
    sa.column("at"),
)
evidence = sa.table("score_evidence", sa.column("sheet_id"), sa.column("lineage"))
lines = sa.table(
    "score_sheet_lines",
    sa.column("id"),
    sa.column("sheet_id"),
    sa.column("kind"),
    sa.column("stage"),
    sa.column("points"),
    sa.column("reason"),
    sa.column("created_by_id"),
    sa.column("created_at"),
)
adjustments = sa.table(
    "score_adjustments",
    sa.column("id"),
    sa.column("sheet_id"),
    sa.column("key"),
    sa.column("kind"),
    sa.column("lineage"),
    sa.column("reason"),
    sa.column("stage"),
    sa.column("created_by_id"),
    sa.column("created_at"),
)


def _key() -> str:
    return "adj-" + secrets.token_hex(14)


def _stages(steps: Any, reviewers: Any) -> list[str]:
    """A period's score columns in step order (as ScoringPeriod.stages)."""
    found = []
    for step in steps or []:
        key = step if isinstance(step, str) else step.get("key")
        if key == "self":
            found.append("self")
        elif (reviewers or {}).get(key) in RULE_STAGES:
            found.append(RULE_STAGES[reviewers[key]])
    rest = [stage for stage in STAGE_ORDER if stage not in found]
    return found + rest  # a stray column of another stage still keeps its place


def upgrade():
    op.add_column(
        "scoring_periods",
        sa.Column("state", sa.String(length=20), nullable=False, server_default="scoring"),
    )
    op.add_column("scoring_periods", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.add_column(
        "scoring_periods",
        sa.Column("lock_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "scoring_period_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_scoring_period_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["scoring_periods.id"],
            name=op.f("fk_scoring_period_transitions_period_id_scoring_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_period_transitions")),
    )
    op.create_index(
        op.f("ix_scoring_period_transitions_period_id"),
        "scoring_period_transitions",
        ["period_id"],
    )
    op.create_table(
        "score_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("bonus", "deduction", name="adjustmentkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("lineage", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("self", "cluster", "verified", name="scorestage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_score_adjustments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["score_sheets.id"],
            name=op.f("fk_score_adjustments_sheet_id_score_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_adjustments")),
        sa.UniqueConstraint("key", name=op.f("uq_score_adjustments_key")),
    )
    op.create_index(op.f("ix_score_adjustments_sheet_id"), "score_adjustments", ["sheet_id"])

    conn = op.get_bind()
    rows_of = _adjustment_rows(conn)
    _move_row_scores(conn, rows_of)
    _move_lines(conn, rows_of)
    op.drop_index(op.f("ix_score_sheet_lines_sheet_id"), table_name="score_sheet_lines")
    op.drop_table("score_sheet_lines")
    op.execute(FILL_REVIEW_FLAGS)


def _adjustment_rows(conn: Any) -> dict[int, dict[str, tuple[str, str]]]:
    """Per criteria version used by a period: its bonus and deduction leaf rows, as
    lineage -> (kind, title). A row's kind is its top-level row's (as load_criteria)."""
    used = sa.select(periods.c.criteria_version_id)
    found = conn.execute(
        sa.select(
            clauses.c.id,
            clauses.c.version_id,
            clauses.c.parent_id,
            clauses.c.kind,
            clauses.c.title,
            clauses.c.lineage,
        ).where(
            clauses.c.version_id.in_(used),
            clauses.c.kind.in_(["criterion", "bonus", "deduction"]),
        )
    ).all()
    by_id = {row.id: row for row in found}
    parents = {row.parent_id for row in found}
    result: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in found:
        if row.id in parents:
            continue  # a group: never scored
        top = row
        while top.parent_id in by_id:
            top = by_id[top.parent_id]
        if top.kind in ("bonus", "deduction"):
            result[row.version_id][row.lineage] = (top.kind, row.title or "")
    return result


def _move_row_scores(conn: Any, rows_of: dict[int, dict[str, tuple[str, str]]]) -> None:
    """Scores of bonus and deduction leaf rows become one item per sheet and row."""
    found = conn.execute(
        sa.select(
            scores.c.sheet_id,
            scores.c.lineage,
            scores.c.stage,
            scores.c.note,
            scores.c.updated_by_id,
            scores.c.updated_at,
            periods.c.criteria_version_id,
        )
        .select_from(
            scores.join(sheets, sheets.c.id == scores.c.sheet_id).join(
                periods, periods.c.id == sheets.c.period_id
            )
        )
        .order_by(scores.c.sheet_id, scores.c.lineage, scores.c.id)
    ).all()
    grouped: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for row in found:
        if row.lineage in rows_of.get(row.criteria_version_id, {}):
            grouped[(row.sheet_id, row.lineage)].append(row)
    for (sheet_id, lineage), rows in grouped.items():
        rows.sort(key=lambda row: STAGE_ORDER.index(row.stage))
        first = rows[0]
        kind, title = rows_of[first.criteria_version_id][lineage]
        reason = next((row.note.strip() for row in rows if (row.note or "").strip()), "")
        key = _key()
        conn.execute(
            adjustments.insert().values(
                sheet_id=sheet_id,
                key=key,
                kind=kind,
                lineage=lineage,
                reason=reason or title.strip() or kind,
                stage=first.stage,
                created_by_id=first.updated_by_id,
                created_at=first.updated_at,
            )
        )
        for table in (scores, changes, evidence):
            conn.execute(
                table.update()
                .where(table.c.sheet_id == sheet_id, table.c.lineage == lineage)
                .values(lineage=key)
            )


def _move_lines(conn: Any, rows_of: dict[int, dict[str, tuple[str, str]]]) -> None:
    """Each line becomes an item's points in its column (see the module's notes)."""
    leaf_rows: dict[tuple[int, str], list[str]] = defaultdict(list)
    for version_id, rows in rows_of.items():
        for lineage, (kind, _title) in rows.items():
            leaf_rows[(version_id, kind)].append(lineage)
    period_rows = conn.execute(
        sa.select(
            sheets.c.id,
            periods.c.criteria_version_id,
            periods.c.steps_config,
            periods.c.step_reviewers,
        ).select_from(sheets.join(periods, periods.c.id == sheets.c.period_id))
    ).all()
    sheet_info = {row.id: row for row in period_rows}
    by_sheet: dict[int, list[Any]] = defaultdict(list)
    for line in conn.execute(sa.select(lines).order_by(lines.c.id)).all():
        by_sheet[line.sheet_id].append(line)

    for sheet_id, sheet_lines in by_sheet.items():
        info = sheet_info[sheet_id]
        order = _stages(info.steps_config, info.step_reviewers)
        sheet_lines.sort(key=lambda line: (order.index(line.stage), line.id))
        # Each item: its identity and the column -> the line that gave it points there.
        items: list[dict[str, Any]] = []
        for line in sheet_lines:
            match = next(
                (
                    item
                    for item in items
                    if item["kind"] == line.kind
                    and item["reason"] == line.reason
                    and item["points"] == line.points
                    and line.stage not in item["values"]
                    and order.index(item["stage"]) < order.index(line.stage)
                ),
                None,
            )
            if match is None:
                filed = leaf_rows.get((info.criteria_version_id, line.kind), [])
                match = {
                    "key": _key(),
                    "kind": line.kind,
                    "reason": line.reason,
                    "points": line.points,
                    "stage": line.stage,
                    "lineage": filed[0] if len(filed) == 1 else None,
                    "created_by_id": line.created_by_id,
                    "created_at": line.created_at,
                    "values": {},
                }
                items.append(match)
            match["values"][line.stage] = line
        with_lines = {line.stage for line in sheet_lines}
        for item in items:
            conn.execute(
                adjustments.insert().values(
                    sheet_id=sheet_id,
                    key=item["key"],
                    kind=item["kind"],
                    lineage=item["lineage"],
                    reason=item["reason"],
                    stage=item["stage"],
                    created_by_id=item["created_by_id"],
                    created_at=item["created_at"],
                )
            )
            for stage, line in item["values"].items():
                _insert_points(conn, sheet_id, item["key"], stage, line.points, line.reason, line)
            for stage in order[order.index(item["stage"]) + 1 :]:
                if stage in with_lines and stage not in item["values"]:
                    note = "Cột này đã tự lập danh sách điểm thưởng, điểm trừ không có khoản này"
                    _insert_points(conn, sheet_id, item["key"], stage, 0, note, item)


def _insert_points(
    conn: Any, sheet_id: int, key: str, stage: str, points: Any, note: str, origin: Any
) -> None:
    by = origin["created_by_id"] if isinstance(origin, dict) else origin.created_by_id
    at = origin["created_at"] if isinstance(origin, dict) else origin.created_at
    conn.execute(
        scores.insert().values(
            sheet_id=sheet_id,
            lineage=key,
            stage=stage,
            value=points,
            note=note,
            updated_by_id=by,
            updated_at=at,
            lock_version=1,
        )
    )
    conn.execute(
        changes.insert().values(
            sheet_id=sheet_id,
            lineage=key,
            stage=stage,
            old_value=None,
            new_value=points,
            note=note,
            actor_id=by,
            at=at,
        )
    )


def downgrade():
    op.create_table(
        "score_sheet_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("bonus", "deduction", name="linekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum("self", "cluster", "verified", name="scorestage", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("points", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_score_sheet_lines_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["score_sheets.id"],
            name=op.f("fk_score_sheet_lines_sheet_id_score_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_sheet_lines")),
    )
    op.create_index(op.f("ix_score_sheet_lines_sheet_id"), "score_sheet_lines", ["sheet_id"])
    conn = op.get_bind()
    # Every column's own points of an item become a line of that column, as before.
    rows = conn.execute(
        sa.select(
            adjustments.c.sheet_id,
            adjustments.c.key,
            adjustments.c.kind,
            adjustments.c.reason,
            scores.c.stage,
            scores.c.value,
            scores.c.updated_by_id,
            scores.c.updated_at,
        )
        .select_from(
            adjustments.join(
                scores,
                sa.and_(
                    scores.c.sheet_id == adjustments.c.sheet_id,
                    scores.c.lineage == adjustments.c.key,
                ),
            )
        )
        .where(scores.c.value.is_not(None), scores.c.value > 0)
        .order_by(adjustments.c.id, scores.c.id)
    ).all()
    for row in rows:
        conn.execute(
            lines.insert().values(
                sheet_id=row.sheet_id,
                kind=row.kind,
                stage=row.stage,
                points=row.value,
                reason=row.reason,
                created_by_id=row.updated_by_id,
                created_at=row.updated_at,
            )
        )
    keys = sa.select(adjustments.c.key)
    conn.execute(scores.delete().where(scores.c.lineage.in_(keys)))
    conn.execute(changes.delete().where(changes.c.lineage.in_(keys)))
    conn.execute(evidence.update().where(evidence.c.lineage.in_(keys)).values(lineage=None))
    op.drop_index(op.f("ix_score_adjustments_sheet_id"), table_name="score_adjustments")
    op.drop_table("score_adjustments")
    op.drop_index(
        op.f("ix_scoring_period_transitions_period_id"), table_name="scoring_period_transitions"
    )
    op.drop_table("scoring_period_transitions")
    op.drop_column("scoring_periods", "lock_version")
    op.drop_column("scoring_periods", "published_at")
    op.drop_column("scoring_periods", "state")
    op.execute(FILL_REVIEW_FLAGS)
