"""Migration 0007 moves bonus and deduction points into the one model without losing a
value: scores of the table's bonus rows and the sheets' bonus/deduction lines become
items whose points are scores, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app, db
from workflow.models import ScoreAdjustment, ScoreChange, ScoreSheet, ScoringPeriod
from workflow.queries import load_criteria, load_sheet_data, sheet_columns

D = Decimal
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def insert(conn: sa.Connection, table_name: str, /, **values: Any) -> int:
    """A row with every required column filled (reflected as the schema stands)."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key or column.nullable or column.server_default is not None:
            continue
        try:
            python = column.type.python_type
        except NotImplementedError:
            python = str
        if python is bool:
            row[column.name] = True
        elif python is int:
            row[column.name] = 1
        elif python is datetime:
            row[column.name] = NOW
        elif python is date:
            row[column.name] = date(2026, 1, 1)
        elif python is Decimal:
            row[column.name] = D(0)
        else:
            row[column.name] = f"{column.name}-{next(_numbers)}"
    row.update(values)
    return conn.execute(table.insert().values(**row)).inserted_primary_key[0]


def legacy_data(conn: sa.Connection) -> dict[str, Any]:
    year = insert(conn, "emulation_years", year=2026)
    units = {name: insert(conn, "units", kind="regional", active=True) for name in "ABC"}
    user = insert(conn, "users", unit_id=units["A"], notify_mode="off", active=True)
    draft = insert(conn, "drafts", kind="criteria", state="adopted",
                   drafting_unit_id=units["A"], created_by_id=user)  # fmt: skip
    version = insert(conn, "versions", draft_id=draft, number=1, status="published", note="",
                     created_by_id=user, lock_version=1)  # fmt: skip
    conn.execute(sa.text("UPDATE drafts SET adopted_version_id = :v"), {"v": version})
    seq = itertools.count()

    def clause(kind: str, number: str, title: str, points: str | None, parent: int | None = None):  # type: ignore[no-untyped-def]
        lineage = f"l{next(_numbers):031d}"
        insert(conn, "clauses", version_id=version, parent_id=parent, seq=next(seq), depth=0,
               kind=kind, number=number, title=title, text="", guidance="", lineage=lineage,
               max_points=None if points is None else D(points))  # fmt: skip
        found = conn.execute(sa.text("SELECT id FROM clauses WHERE lineage = :l"), {"l": lineage})
        return found.scalar_one(), lineage

    group, _ = clause("criterion", "I", "Nhóm I", "60")
    _, one = clause("criterion", "1", "Tiêu chí 1", "30", group)
    _, two = clause("criterion", "2", "Tiêu chí 2", "30", group)
    _, second = clause("criterion", "II", "Nhóm II", "40")
    _, bonus_row = clause("bonus", "", "Điểm thưởng", "5")
    clause("deduction", "", "Điểm trừ", None)
    period = insert(
        conn, "scoring_periods", name="Năm 2026", year_id=year, criteria_draft_id=draft,
        criteria_version_id=version, steps_config=["self", "cluster", "office", "council"],
        step_reviewers={"cluster": "group", "office": "office", "council": "council"},
        bands_config={}, disqualifiers=[], created_at=NOW,
    )  # fmt: skip
    sheets = {
        name: insert(conn, "score_sheets", period_id=period, unit_id=unit, state="verified",
                     disqualification_note="", lock_version=1, evidence_missing=False)
        for name, unit in units.items()
    }  # fmt: skip

    def score(sheet: str, lineage: str, stage: str, value: str, note: str = "") -> None:
        insert(conn, "scores", sheet_id=sheets[sheet], lineage=lineage, stage=stage,
               value=D(value), note=note, updated_by_id=user, updated_at=NOW,
               lock_version=1)  # fmt: skip

    def line(sheet: str, kind: str, stage: str, points: str, reason: str) -> None:
        insert(conn, "score_sheet_lines", sheet_id=sheets[sheet], kind=kind, stage=stage,
               points=D(points), reason=reason, created_by_id=user, created_at=NOW)  # fmt: skip

    criteria = {"A": ("30", "25", "38"), "B": ("30", "30", "40"), "C": ("20", "20", "30")}
    for sheet, values in criteria.items():
        for stage in ("self", "cluster", "verified"):
            for lineage, value in zip((one, two, second), values, strict=True):
                score(sheet, lineage, stage, value)
    # A: the bonus row's score, self-scored only (the defect: later columns had none).
    score("A", bonus_row, "self", "2.5", "Bằng khen của UBND tỉnh")
    insert(conn, "score_changes", sheet_id=sheets["A"], lineage=bonus_row, stage="self",
           old_value=None, new_value=D("2.5"), note="Bằng khen của UBND tỉnh",
           actor_id=user, at=NOW)  # fmt: skip
    insert(conn, "score_evidence", sheet_id=sheets["A"], lineage=bonus_row, filename="bk.pdf",
           content_type="application/pdf", size=10, uploaded_at=NOW)  # fmt: skip
    # B: a line the Cụm repeated (what "confirm" copied) and one of its own.
    line("B", "bonus", "self", "1", "Sáng kiến")
    line("B", "bonus", "cluster", "1", "Sáng kiến")
    line("B", "deduction", "cluster", "0.5", "Chậm báo cáo")
    # C: the Cụm listed its own lines without the unit's: it had dropped it.
    line("C", "bonus", "self", "2", "Giấy khen")
    line("C", "deduction", "cluster", "1", "Kỷ luật khiển trách")
    return {"sheets": sheets, "bonus_row": bonus_row, "user": user}


def test_0007_moves_every_bonus_and_deduction_into_items(fresh_database_url):
    fresh = create_app(
        {"SQLALCHEMY_DATABASE_URI": fresh_database_url, "SECRET_KEY": "x",
         "CELERY_BROKER_URL": "memory://"}
    )  # fmt: skip
    with fresh.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as conn:
            legacy = legacy_data(conn)
        upgrade()

        sheets = {name: db.session.get(ScoreSheet, sheet_id)
                  for name, sheet_id in legacy["sheets"].items()}  # fmt: skip
        period = db.session.scalars(sa.select(ScoringPeriod)).one()
        assert period.state == "scoring" and period.lock_version == 1
        table = load_criteria(period.criteria_version_id)
        data = load_sheet_data([sheet.id for sheet in sheets.values()])

        def finals(name: str) -> list[Decimal]:
            columns = sheet_columns(table, data[sheets[name].id], period)
            return [column.totals.final for column in columns.values()]

        def items(name: str) -> list[tuple[str, str, str | None, dict[str, Decimal]]]:
            found = []
            stored = data[sheets[name].id]
            for item in stored.adjustments:
                own = {
                    stage.value: value
                    for stage in period.stages
                    if (value := stored.value(stage, item.key)) is not None
                }
                found.append((item.kind.value, item.reason, item.lineage, own))
            return found

        bonus_row = legacy["bonus_row"]
        assert items("A") == [("bonus", "Bằng khen của UBND tỉnh", bonus_row, {"self": D("2.5")})]
        assert finals("A") == [D("95.5")] * 3  # was 95,5 then 93 and 93
        assert items("B") == [
            ("bonus", "Sáng kiến", bonus_row, {"self": D(1), "cluster": D(1)}),
            ("deduction", "Chậm báo cáo", items("B")[1][2], {"cluster": D("0.5")}),
        ]
        assert finals("B") == [D(101), D("100.5"), D("100.5")]
        assert items("C")[0][3] == {"self": D(2), "cluster": D(0)}  # the Cụm had dropped it
        assert finals("C") == [D(72), D(69), D(69)]

        # The bonus row's history and evidence follow its item.
        key = data[sheets["A"].id].adjustments[0].key
        changes = db.session.scalars(sa.select(ScoreChange).where(ScoreChange.lineage == key))
        assert [(c.new_value, c.note) for c in changes] == [(D("2.5"), "Bằng khen của UBND tỉnh")]
        assert [e.lineage for e in sheets["A"].evidence] == [key]
        # The lines are gone; the review flags (stored False above) were recomputed.
        assert "score_sheet_lines" not in sa.inspect(db.engine).get_table_names()
        assert sheets["B"].evidence_missing
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreAdjustment)) == 5

        db.session.remove()
        downgrade(revision="0008")
        with db.engine.connect() as conn:
            lines = conn.execute(sa.text(
                "SELECT sheet_id, kind, stage, points, reason FROM score_sheet_lines "
                "ORDER BY sheet_id, stage, kind"
            )).all()  # fmt: skip
        ids = legacy["sheets"]
        assert sorted((row[0], row[1], row[2], D(row[3]), row[4]) for row in lines) == sorted([
            (ids["A"], "bonus", "self", D("2.5"), "Bằng khen của UBND tỉnh"),
            (ids["B"], "bonus", "self", D(1), "Sáng kiến"),
            (ids["B"], "bonus", "cluster", D(1), "Sáng kiến"),
            (ids["B"], "deduction", "cluster", D("0.5"), "Chậm báo cáo"),
            (ids["C"], "bonus", "self", D(2), "Giấy khen"),
            (ids["C"], "deduction", "cluster", D(1), "Kỷ luật khiển trách"),
        ])  # fmt: skip
        db.engine.dispose()
