"""Demo scoring period on the demo criteria table (drafts.demo adopts it).

"Năm {year}" for every active unit, with a few sheets under way: KV1 submitted,
KV2 self-scoring with some scores, KV3 returned by the Cụm with a reason.
Running it twice changes nothing: an existing period is left as it is.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from accounts.clock import end_of_local_day
from accounts.models import Unit, User, active_units
from drafts.models import Draft, DraftKind, DraftState
from extensions import db
from workflow import operations
from workflow.models import ScoreSheet, ScoreStage, ScoringPeriod
from workflow.queries import load_criteria


def _user(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def _deadlines(year: int) -> dict[str, datetime]:
    # Year-end scoring in late November, the council in mid-December.
    return {
        "self": end_of_local_day(date(year, 11, 20)),
        "cluster": end_of_local_day(date(year, 11, 27)),
        "office": end_of_local_day(date(year, 12, 5)),
        "council": end_of_local_day(date(year, 12, 15)),
    }


def _fill(sheet: ScoreSheet, actor: User, share: str, count: int | None = None) -> None:
    """Self-score the first ``count`` criteria at ``share`` of their maximum."""
    table = load_criteria(sheet.period.criteria_version_id)
    leaves = [row for row in table.leaves if row.kind == "criterion"]
    entries = [
        operations.ScoreInput(
            row.key,
            # Rounded to half points, as units usually score.
            ((row.max_points or Decimal(0)) * Decimal(share) * 2).to_integral_value() / 2,
            note="Có báo cáo số liệu kèm theo" if index == 0 else None,
        )
        for index, row in enumerate(leaves[:count] if count is not None else leaves)
    ]
    operations.save_scores(sheet, ScoreStage.SELF, entries, actor)


def load_demo(units: dict[str, Unit], year: int) -> None:
    """Idempotent: running the demo twice changes nothing."""
    title = f"Bảng tiêu chí chấm điểm, xếp loại thi đua năm {year}"
    draft = db.session.scalars(
        select(Draft).where(
            Draft.title == title,
            Draft.kind == DraftKind.CRITERIA,
            Draft.state == DraftState.ADOPTED,
        )
    ).first()
    office, leader = _user("thamdinh"), _user("kv1.truong")
    if draft is None or office is None or leader is None:
        return
    name = f"Năm {year}"
    exists = db.session.scalar(
        select(ScoringPeriod.id).where(
            ScoringPeriod.criteria_draft_id == draft.id, ScoringPeriod.name == name
        )
    )
    if exists is not None:
        return
    period = operations.open_period(
        draft, name, active_units(), None, _deadlines(year), None, None, None, office, year=year
    )
    db.session.flush()
    sheets = {sheet.unit.short_name: sheet for sheet in period.sheets}
    people = {key: _user(key) for key in ("kv1.canbo", "kv1.truong", "kv2.canbo", "kv3.truong")}

    if "KV1" in sheets and people["kv1.canbo"] and people["kv1.truong"]:
        _fill(sheets["KV1"], people["kv1.canbo"], share="0.95")
        operations.apply_sheet_action(sheets["KV1"], "submit", people["kv1.truong"])
    if "KV2" in sheets and people["kv2.canbo"]:
        _fill(sheets["KV2"], people["kv2.canbo"], share="0.9", count=2)
    if "KV3" in sheets and people["kv3.truong"]:
        _fill(sheets["KV3"], people["kv3.truong"], share="0.85")
        operations.apply_sheet_action(sheets["KV3"], "submit", people["kv3.truong"])
        operations.apply_sheet_action(
            sheets["KV3"],
            "return",
            leader,
            "Tiêu chí 1.1 chưa có minh chứng (báo cáo thống kê tố giác, tin báo); "
            "đề nghị bổ sung và chấm lại.",
        )
    db.session.flush()
