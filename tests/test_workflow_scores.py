"""Periods, scores and totals through the database: columns, caps, locks, ranking."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from accounts.errors import Conflict, Forbidden, Invalid
from accounts.models import AuditEntry, Role
from app import db
from drafts.models import Clause, DraftState
from tests.fixtures.workflow import (
    DEADLINES,
    codes_to_keys,
    group,
    leaf,
    place,
    put_item,
    put_scores,
    sheet_of,
)
from workflow import operations
from workflow.models import (
    AdjustmentKind,
    Score,
    ScoreChange,
    ScoreSheet,
    ScoreStage,
    SheetDeadlineExtension,
)
from workflow.queries import (
    load_criteria,
    load_sheet_data,
    load_sheet_points,
    period_results,
    sheet_totals,
)

SELF, CLUSTER, VERIFIED = ScoreStage.SELF, ScoreStage.CLUSTER, ScoreStage.VERIFIED


def totals(sheet: ScoreSheet, stage: ScoreStage):  # type: ignore[no-untyped-def]
    table = load_criteria(sheet.period.criteria_version_id)
    return sheet_totals(table, load_sheet_data([sheet.id])[sheet.id], stage, sheet.period)


def inputs(
    sheet: ScoreSheet,
    values: dict[str, str],
    locks: dict[str, int] | None = None,
    note: str | None = None,
):  # type: ignore[no-untyped-def]
    keys = codes_to_keys(sheet.period)
    return [
        operations.ScoreInput(keys[code], value, (locks or {}).get(code, 0), note)
        for code, value in values.items()
    ]


def stored(sheet: ScoreSheet, stage: ScoreStage) -> dict[str, Decimal | None]:
    table = load_criteria(sheet.period.criteria_version_id)
    keys = {row.key: row.number or row.title for row in table.rows}  # as the table writes them
    rows = db.session.scalars(select(Score).where(Score.sheet_id == sheet.id, Score.stage == stage))
    return {keys[row.lineage]: row.value for row in rows}


# --- entering scores --------------------------------------------------------------------------


def test_decimal_commas_are_stored_exactly_and_totalled(org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    operations.save_scores(
        sheet,
        SELF,
        inputs(sheet, {"1.1": "9,5", "1.2": "15", "2": "30,25", "II": "40"}),
        org.staff2,
    )
    db.session.commit()
    assert sheet.state == "self_scoring"  # the first save started self-scoring
    assert stored(sheet, SELF) == {
        "1.1": Decimal("9.5"),
        "1.2": Decimal("15"),
        "2": Decimal("30.25"),
        "II": Decimal("40"),
    }
    result = totals(sheet, SELF)
    assert result.base == Decimal("94.75") and result.final == Decimal("94.75")
    assert result.groups[codes_to_keys(sheet.period)["I"]] == Decimal("54.75")
    assert result.missing == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11", "từ 0 đến 10"),
        ("-1", "từ 0 đến 10"),
        ("1.000", "không rõ nghĩa"),
        ("mười", "không phải là số điểm hợp lệ"),
    ],
)
def test_invalid_points_are_refused_and_nothing_is_saved(org, open_period, value, message):
    sheet = sheet_of(open_period(), org.r2)
    with pytest.raises(Invalid) as caught:
        operations.save_scores(sheet, SELF, inputs(sheet, {"1.2": "12", "1.1": value}), org.staff2)
    key = codes_to_keys(sheet.period)["1.1"]
    assert message in caught.value.details["errors"][key]
    db.session.rollback()
    assert stored(sheet, SELF) == {}
    assert db.session.get(ScoreSheet, sheet.id).state == "not_started"


def test_group_caps_hold_through_the_database(org, open_period, adopt_criteria):
    draft = adopt_criteria(
        [
            group("I", 20, leaf("1", 15), leaf("2", 15)),
            leaf("II", 10),
        ]
    )
    sheet = sheet_of(open_period(draft=draft), org.r2)
    operations.save_scores(
        sheet, SELF, inputs(sheet, {"1": "15", "2": "12,5", "II": "10"}), org.staff2
    )
    db.session.commit()
    result = totals(sheet, SELF)
    assert result.groups[codes_to_keys(sheet.period)["I"]] == Decimal("20")  # not 27,5
    assert (result.base, result.final) == (Decimal("30"), Decimal("30"))


def test_bonus_is_capped_and_deductions_subtract(org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    operations.save_scores(
        sheet, SELF, inputs(sheet, {"1.1": "10", "1.2": "15", "2": "35", "II": "40"}), org.staff2
    )
    bonus, deduction = AdjustmentKind.BONUS, AdjustmentKind.DEDUCTION
    operations.add_adjustment(sheet, bonus, "3", "Bằng khen của UBND tỉnh", org.staff2)
    operations.add_adjustment(sheet, bonus, "2,5", "Sáng kiến được công nhận", org.staff2)
    operations.add_adjustment(sheet, bonus, "1", "Giấy khen", org.staff2)
    operations.add_adjustment(sheet, deduction, "2", "Cán bộ bị khiển trách", org.staff2)
    operations.add_adjustment(sheet, deduction, "1,5", "Chậm gửi báo cáo quý III", org.staff2)
    db.session.commit()
    result = totals(sheet, SELF)
    # 3 + 2,5 + 1 = 6,5 of bonus, capped at the bonus row's 5 points.
    assert (result.base, result.bonus, result.deductions) == (
        Decimal("100"),
        Decimal("5"),
        Decimal("3.5"),
    )
    assert result.final == Decimal("101.5")
    # Every item is filed under the table's only row of its kind.
    rows = {
        row.kind.value: row.key
        for row in load_criteria(sheet.period.criteria_version_id).adjustment_rows
    }
    assert {(a.kind.value, a.lineage) for a in sheet.adjustments} == {
        ("bonus", rows["bonus"]),
        ("deduction", rows["deduction"]),
    }

    with pytest.raises(Invalid):
        operations.add_adjustment(sheet, bonus, "2", "   ", org.staff2)
    with pytest.raises(Invalid):
        operations.add_adjustment(sheet, deduction, "0", "Không có", org.staff2)
    with pytest.raises(Invalid, match="từ 0 đến 5"):
        operations.add_adjustment(sheet, bonus, "6", "Hai bằng khen", org.staff2)


def test_the_period_bonus_cap_is_lower_than_the_table(org, open_period):
    sheet = sheet_of(open_period(bonus_cap=Decimal("2")), org.r2)
    operations.add_adjustment(sheet, AdjustmentKind.BONUS, "4", "Sáng kiến", org.staff2)
    db.session.commit()
    assert totals(sheet, SELF).bonus == Decimal("2")


# --- three columns, never overwritten ---------------------------------------------------------


def test_three_columns_are_kept_apart_with_their_history(org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    operations.save_scores(
        sheet, SELF, inputs(sheet, {"1.1": "10", "1.2": "15", "2": "35", "II": "40"}), org.staff2
    )
    operations.apply_sheet_action(sheet, "submit", org.head2)
    db.session.commit()

    # The unit can no longer change its self-scores; the Cụm cannot touch them either.
    with pytest.raises(Forbidden):
        operations.save_scores(sheet, SELF, inputs(sheet, {"1.1": "9"}, {"1.1": 1}), org.head2)
    with pytest.raises(Forbidden):
        operations.save_scores(sheet, SELF, inputs(sheet, {"1.1": "9"}, {"1.1": 1}), org.head1)
    # A change without a reason is refused; the value the Cụm agrees with is not stored.
    changed = inputs(sheet, {"1.1": "8", "1.2": "15", "2": "33", "II": "38"})
    with pytest.raises(Invalid) as caught:
        operations.save_scores(sheet, CLUSTER, changed, org.head1)
    assert "Cần ghi lý do điều chỉnh tiêu chí I.1.1 (cột trước: 10; nay: 8)" in caught.value.message
    db.session.rollback()
    operations.save_scores(
        sheet,
        CLUSTER,
        inputs(
            sheet, {"1.1": "8", "1.2": "15", "2": "33", "II": "38"}, note="Thiếu số liệu quý IV"
        ),
        org.head1,
    )
    operations.apply_sheet_action(sheet, "review", org.head1)
    db.session.commit()

    # The office adjusts one criterion and confirms the rest in one click.
    operations.save_scores(
        sheet, VERIFIED, inputs(sheet, {"2": "34"}, note="Đối chiếu sổ thụ lý"), org.verifier
    )
    filled = operations.confirm_previous_scores(sheet, org.verifier)
    db.session.commit()
    assert filled == 3
    assert stored(sheet, SELF) == {"1.1": 10, "1.2": 15, "2": 35, "II": 40}
    # A value sent with a note is stored even when unchanged: the note is the Cụm's.
    assert stored(sheet, CLUSTER) == {"1.1": 8, "1.2": 15, "2": 33, "II": 38}
    assert stored(sheet, VERIFIED) == {"1.1": 8, "1.2": 15, "2": 34, "II": 38}
    assert [totals(sheet, stage).final for stage in (SELF, CLUSTER, VERIFIED)] == [100, 94, 95]

    key = codes_to_keys(period)["1.1"]
    history = db.session.scalars(
        select(ScoreChange).where(ScoreChange.lineage == key).order_by(ScoreChange.id)
    ).all()
    assert [(c.stage, c.old_value, c.new_value, c.actor_id) for c in history] == [
        (SELF, None, 10, org.staff2.id),
        (CLUSTER, None, 8, org.head1.id),
        (VERIFIED, None, 8, org.verifier.id),
    ]
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sheet.confirm_scores"))
        .one()
        .actor_id
        == org.verifier.id
    )


def test_a_stale_save_is_a_conflict_and_keeps_the_other_save(org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    # Both loaded the sheet before any score existed (lock version 0).
    operations.save_scores(sheet, SELF, inputs(sheet, {"1.1": "9"}), org.staff2)
    db.session.commit()
    with pytest.raises(Conflict) as caught:
        operations.save_scores(sheet, SELF, inputs(sheet, {"1.1": "8"}), org.head2)
    assert caught.value.status == 409
    assert caught.value.details["conflicts"] == [codes_to_keys(sheet.period)["1.1"]]
    db.session.rollback()
    assert stored(sheet, SELF) == {"1.1": Decimal("9")}

    # Sending the value already stored is no conflict; the current lock version saves.
    operations.save_scores(sheet, SELF, inputs(sheet, {"1.1": "9"}), org.head2)
    current = db.session.scalars(select(Score).where(Score.sheet_id == sheet.id)).one()
    operations.save_scores(
        sheet, SELF, inputs(sheet, {"1.1": "8"}, {"1.1": current.lock_version}), org.head2
    )
    db.session.commit()
    assert stored(sheet, SELF) == {"1.1": Decimal("8")}


# --- ranking and classification ---------------------------------------------------------------


def test_ranking_breaks_ties_by_group_one_then_flags_a_vote(org, open_period):
    period = open_period()
    scores = {
        org.r1: {"1.1": "10", "1.2": "15", "2": "35", "II": "36"},  # 96, group I 60
        org.r2: {"1.1": "10", "1.2": "15", "2": "31", "II": "40"},  # 96, group I 56
        org.r3: {"1.1": "10", "1.2": "15", "2": "31", "II": "40"},  # the same as KV2
    }
    for unit, values in scores.items():
        put_scores(sheet_of(period, unit), VERIFIED, values)
    rows = {row.sheet.unit.short_name: row for row in period_results(period).rows}
    assert [rows[u].ranked.group_rank for u in ("KV1", "KV2", "KV3")] == [1, 2, 2]
    assert [rows[u].ranked.needs_vote for u in ("KV1", "KV2", "KV3")] == [False, True, True]
    assert rows["KV1"].classified.band.label == "Xuất sắc, đề nghị Cờ thi đua"
    assert rows["KV2"].classified.band.label == "Tập thể lao động xuất sắc"

    operations.disqualify(
        sheet_of(period, org.r1),
        period.disqualifiers[0],
        "Quyết định kỷ luật số 12/QĐ",
        org.council,
    )
    db.session.commit()
    rows = {row.sheet.unit.short_name: row for row in period_results(period).rows}
    assert rows["KV1"].ranked.group_rank == 1  # position kept, title capped
    assert rows["KV1"].classified.capped
    assert rows["KV1"].classified.band.label == "Hoàn thành nhiệm vụ"


def test_units_without_a_complete_final_column_are_not_ranked(org, open_period):
    period = open_period()
    put_scores(sheet_of(period, org.r1), VERIFIED)
    put_scores(sheet_of(period, org.r2), VERIFIED, {"1.1": "10"})
    rows = {row.sheet.unit.short_name: row for row in period_results(period).rows}
    assert rows["KV1"].ranked.overall_rank == 1
    assert rows["KV2"].ranked is None and not rows["KV2"].complete


def _points_read_two_ways(period) -> None:  # type: ignore[no-untyped-def]
    """The lean reader used by results against the ORM rows: same values, same totals."""
    table = load_criteria(period.criteria_version_id)
    ids = [sheet.id for sheet in period.sheets]
    rows, points = load_sheet_data(ids), load_sheet_points(ids)
    for sheet_id in ids:
        assert points[sheet_id].items == rows[sheet_id].items
        for stage in (SELF, CLUSTER, VERIFIED):
            entered = {k: v for k, v in rows[sheet_id].own(stage).items() if v is not None}
            lean = points[sheet_id].own(stage)
            # repr: the same Decimal digits (2,50 stays 2.50), not merely equal numbers
            assert sorted(map(repr, lean.items())) == sorted(map(repr, entered.items()))
            assert repr(sheet_totals(table, points[sheet_id], stage, period)) == repr(
                sheet_totals(table, rows[sheet_id], stage, period)
            )


def test_results_read_the_same_points_as_the_sheet_rows(org, open_period):
    period = open_period()
    put_scores(sheet_of(period, org.r1), SELF, {"1.1": "9,5", "1.2": "15", "2": "0", "II": None})
    put_scores(sheet_of(period, org.r1), CLUSTER, {"1.1": "9,25", "II": "40"})
    put_item(sheet_of(period, org.r1), "bonus", {CLUSTER: "3"})
    put_scores(sheet_of(period, org.r2), VERIFIED, {"1.1": "10", "1.2": "12,5", "2": "35"})
    put_scores(sheet_of(period, org.r2), VERIFIED, {"II": "39,75"})
    put_item(sheet_of(period, org.r2), "deduction", {VERIFIED: "1"})
    sheet = sheet_of(period, org.r3)
    operations.add_adjustment(sheet, AdjustmentKind.BONUS, "2,5", "Sáng kiến", org.staff3)
    operations.add_adjustment(sheet, AdjustmentKind.DEDUCTION, "0,5", "Chậm báo cáo", org.staff3)
    db.session.commit()

    _points_read_two_ways(period)
    results = {row.sheet.unit.short_name: row for row in period_results(period).rows}
    assert not results["KV1"].columns[VERIFIED].shown
    assert results["KV3"].columns[SELF].shown
    assert results["KV3"].columns[SELF].totals.final == Decimal(2)


def test_a_lineage_holding_a_comma_is_still_read_exactly(org, open_period):
    period = open_period()
    put_scores(sheet_of(period, org.r1), VERIFIED, {"1.1": "9,5", "1.2": "15", "2": "35"})
    put_scores(sheet_of(period, org.r2), VERIFIED)
    key = codes_to_keys(period)["1.1"]
    # Lineages are uuid hex, but a draft's editor may send any text back.
    for model in (Clause, Score):
        db.session.execute(update(model).where(model.lineage == key).values(lineage="1,1,x,2"))
    db.session.commit()

    _points_read_two_ways(period)
    rows = {row.sheet.unit.short_name: row for row in period_results(period).rows}
    assert rows["KV1"].totals[VERIFIED].final == Decimal("59.5")
    assert rows["KV2"].final.final == Decimal("100")


def test_disqualification_needs_a_listed_condition_and_the_right_people(org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    with pytest.raises(Forbidden):
        operations.disqualify(sheet, sheet.period.disqualifiers[0], "", org.head1)
    with pytest.raises(Invalid):
        operations.disqualify(sheet, "Lý do bất kỳ", "", org.verifier)
    operations.disqualify(sheet, sheet.period.disqualifiers[1], "Vụ việc tháng 5", org.verifier)
    operations.clear_disqualification(sheet, "Đã xem xét lại", org.council)
    db.session.commit()
    assert not sheet.disqualified
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("sheet.%qualif%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["sheet.disqualify", "sheet.clear_disqualification"]


# --- opening periods --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff1", "head1", "council", "drafter"])
def test_only_the_office_or_an_admin_opens_a_period(org, open_period, who):
    with pytest.raises(Forbidden):
        open_period(actor=getattr(org, who))


def test_an_admin_opens_a_period_with_the_default_steps(org, open_period):
    period = open_period(actor=org.admin)
    assert period.steps_config == ["self", "cluster", "office", "council"]
    assert {row.step_key: row.due_at for row in period.deadlines} == DEADLINES
    assert [s.unit.short_name for s in period.sheets] == ["KV1", "KV2", "KV3"]
    assert {s.group_id for s in period.sheets} == {org.cluster.id}
    assert all(s.state == "not_started" and s.due_at == DEADLINES["self"] for s in period.sheets)
    # The default bands, stored in points of this 100-point table.
    assert period.bands_config["bands"][0]["min_points"] == "95"
    assert period.bands_for(Decimal(100)).bands[0].label == "Xuất sắc, đề nghị Cờ thi đua"


def test_steps_are_data(org, open_period):
    period = open_period(steps=["self", "office", "council"])
    sheet = sheet_of(period, org.r2)
    assert period.steps_config == ["self", "office", "council"]
    assert period.stages == (SELF, VERIFIED)
    assert period.machine().states == (
        "not_started",
        "self_scoring",
        "submitted",
        "verified",
        "approved",
    )
    place(sheet, "submitted")
    assert sheet.can_apply(org.verifier, "verify")
    assert not sheet.can_apply(org.head1, "review")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadlines": {"self": DEADLINES["self"]}}, "Cần đặt hạn cho bước"),
        (
            {"deadlines": {**DEADLINES, "office": datetime(2026, 11, 1, tzinfo=UTC)}},
            "không được sớm hơn",
        ),
        ({"units": []}, "ít nhất một đơn vị"),
        ({"steps": ["cluster", "office"]}, "tự chấm"),
        ({"name": "  "}, "tên kỳ chấm điểm"),
    ],
)
def test_opening_validates_its_data(org, open_period, change, message):
    with pytest.raises(Invalid) as caught:
        open_period(**change)
    assert message in caught.value.message


def test_only_an_adopted_table_opens_a_period_and_names_are_unique(
    org, open_period, adopted_criteria
):
    open_period()
    with pytest.raises(Conflict):
        open_period()
    adopted_criteria.state = DraftState.CONSULTING
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        open_period(name="6 tháng đầu năm 2026")
    assert "đã được ban hành" in caught.value.message


# --- deadlines --------------------------------------------------------------------------------


def test_the_office_extends_one_sheets_deadline(org, open_period, fill_all):
    period = open_period()
    sheet, other = sheet_of(period, org.r2), sheet_of(period, org.r3)
    new_due = datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)
    with pytest.raises(Forbidden):
        operations.extend_deadline(sheet, new_due, "Ốm đau", org.head1)
    with pytest.raises(Invalid):
        operations.extend_deadline(
            sheet, datetime(2026, 11, 1, tzinfo=UTC), "Sớm hơn", org.verifier
        )
    operations.extend_deadline(sheet, new_due, "Đơn vị đề nghị do trùng đợt kiểm tra", org.verifier)
    db.session.commit()
    assert (sheet.due_at, other.due_at) == (new_due, DEADLINES["self"])
    extension = db.session.scalars(select(SheetDeadlineExtension)).one()
    assert (extension.previous_due_at, extension.step_key) == (DEADLINES["self"], "self")
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sheet.extend_deadline"))
        .one()
        .object_id
        == sheet.id
    )

    # The extension belongs to the self-scoring step; the next step has its own deadline.
    fill_all([sheet])
    place(sheet, "self_scoring")
    operations.apply_sheet_action(sheet, "submit", org.head2)
    assert sheet.due_at == DEADLINES["cluster"]


def test_holders_and_supervisors_follow_the_step(org, open_period):
    from workflow.models import holders_of, supervisors_of

    sheet = sheet_of(open_period(), org.r2)
    assert {u.username for u in holders_of(sheet)} == {"head2", "staff2"}
    assert {u.username for u in supervisors_of(sheet)} == {"head2", "head1"}
    place(sheet, "submitted")
    assert [u.username for u in holders_of(sheet)] == ["head1"]
    assert [u.username for u in supervisors_of(sheet)] == ["verifier"]
    place(sheet, "cluster_scored")
    assert [u.username for u in holders_of(sheet)] == ["verifier"]
    place(sheet, "verified")
    assert [u.username for u in holders_of(sheet)] == ["council"]
    place(sheet, "approved")
    assert holders_of(sheet) == [] and supervisors_of(sheet) == []


def test_only_unit_members_upload_while_self_scoring(org, open_period, create_user):
    sheet = sheet_of(open_period(), org.r2)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    evidence = operations.upload_evidence(sheet, None, "Báo cáo.pdf", pdf, org.staff2)
    db.session.commit()
    assert evidence.content_type == "application/pdf"
    for outsider in (org.head1, org.verifier, create_user(Role.UNIT_STAFF, unit=org.r3)):
        with pytest.raises(Forbidden):
            operations.upload_evidence(sheet, None, "Báo cáo.pdf", pdf, outsider)
