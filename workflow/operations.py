"""Verb-named operations on scoring periods and score sheets.

They change models, write the audit row and queue notifications; the caller
commits once. :func:`apply_sheet_action` is the only place a sheet's state
changes: every move goes through the period's transition table, writes a
``SheetTransition`` row and an audit entry, refreshes the sheet's deadline and
tells whoever holds the sheet next.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from accounts import audit
from accounts.clock import format_datetime, now, to_local
from accounts.errors import Conflict, Forbidden, Invalid, NotFound
from accounts.i18n import N_, Deferred, refusal
from accounts.models import EmulationYear, GroupMembership, Role, Unit, User
from accounts.operations import ensure_year, year_for_date
from drafts.models import Draft, DraftKind, DraftState
from drafts.operations import display_filename
from drafts.parsing import ParseError, sniff_office_file
from extensions import db
from notices.notify import notify
from workflow import scoring, sheetflow
from workflow.engine import Guard, TableError, TransitionRecord
from workflow.models import (
    ADJUSTMENT_KIND_LABELS,
    DEFAULT_REVIEWERS,
    PUBLISH,
    STAGE_NOUNS,
    AdjustmentKind,
    Evidence,
    PeriodDeadline,
    PeriodState,
    PeriodTransition,
    ReviewerRule,
    Score,
    ScoreAdjustment,
    ScoreChange,
    ScoreSheet,
    ScoreStage,
    ScoringPeriod,
    SheetDeadlineExtension,
    SheetTransition,
    bands_to_config,
    can_open_period,
    holders_of,
    period_machine,
)
from workflow.queries import (
    CriteriaTable,
    SheetData,
    load_criteria,
    load_sheet_data,
    period_results,
    sheet_columns,
    sheet_totals,
)

DEFAULT_STEP_KEYS: tuple[str, ...] = tuple(step.key for step in sheetflow.DEFAULT_STEPS)
DEFAULT_DISQUALIFIERS: tuple[str, ...] = (
    "Có cán bộ bị kỷ luật từ hình thức cảnh cáo trở lên",
    "Để xảy ra tham nhũng, lãng phí trong đơn vị",
    "Có vụ án bị hủy để điều tra, xét xử lại do lỗi chủ quan của Kiểm sát viên",
)


def sheet_url(sheet: ScoreSheet) -> str:
    return f"/scoring/sheets/{sheet.id}"


# --- periods ----------------------------------------------------------------------------------


def open_period(
    criteria_draft: Draft,
    name: str,
    units: Sequence[Unit],
    steps: Sequence[str | Mapping[str, str]] | None,
    deadlines: Mapping[str, datetime],
    bands: scoring.Bands | None,
    disqualifiers: Sequence[str] | None,
    bonus_cap: Decimal | None,
    actor: User,
    *,
    year: int | None = None,
    step_reviewers: Mapping[str, str] | None = None,
) -> ScoringPeriod:
    """Open a period on an adopted criteria table: one sheet per unit.

    ``steps`` is stored as data (``sheetflow.steps_from_config`` input; default
    self → cluster → office → council); ``deadlines`` maps every step key to an
    aware datetime. ``year`` is the emulation year whose Cụm/Khối group the
    units; by default the one containing the self-scoring deadline.
    """
    if not can_open_period(actor):
        raise Forbidden(_("Chỉ Thường trực Hội đồng hoặc quản trị viên được mở kỳ chấm điểm."))
    version = _adopted_version(criteria_draft)
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Cần nhập tên kỳ chấm điểm, ví dụ “Năm 2026”."))
    steps_config = list(steps) if steps else list(DEFAULT_STEP_KEYS)
    step_specs = _validated_steps(steps_config)
    reviewers = _validated_reviewers(step_specs, step_reviewers)
    due = _validated_deadlines(step_specs, deadlines)
    table = load_criteria(version.id)
    if not table.leaves:
        raise Invalid(_("Bảng tiêu chí chưa có tiêu chí nào để chấm."))
    total_max = _ensure_table_max(table)
    chosen_bands = _validated_bands(bands or scoring.default_bands(total_max), total_max)
    cap = _validated_bonus_cap(bonus_cap)
    chosen = _validated_units(units)
    emulation_year = _emulation_year(year, due[step_specs[0].key])
    clash = db.session.scalar(
        select(ScoringPeriod.id).where(
            ScoringPeriod.criteria_draft_id == criteria_draft.id, ScoringPeriod.name == name
        )
    )
    if clash is not None:
        raise Conflict(_("Bảng tiêu chí này đã có kỳ chấm điểm “%(name)s”.", name=name))

    period = ScoringPeriod(
        name=name,
        year=emulation_year,
        criteria_draft=criteria_draft,
        criteria_version=version,
        steps_config=steps_config,
        step_reviewers={key: rule.value for key, rule in reviewers.items()},
        bands_config=bands_to_config(chosen_bands),
        disqualifiers=_clean_list(
            disqualifiers if disqualifiers is not None else DEFAULT_DISQUALIFIERS
        ),
        bonus_cap=cap,
        created_by_id=actor.id,
        deadlines=[PeriodDeadline(step_key=key, due_at=value) for key, value in due.items()],
    )
    db.session.add(period)
    groups = _groups_of(emulation_year, chosen)
    first_due = due[step_specs[0].key]
    for unit in chosen:
        period.sheets.append(
            ScoreSheet(
                unit=unit,
                group_id=groups.get(unit.id),
                state=sheetflow.NOT_STARTED,
                due_at=first_due,
            )
        )
    db.session.flush()
    audit.record(
        "period.open",
        period,
        actor=actor,
        summary=f"Mở kỳ chấm điểm “{name}” cho {len(chosen)} đơn vị",
        details={
            "draft_id": criteria_draft.id,
            "version_id": version.id,
            "steps": steps_config,
            "units": [unit.id for unit in chosen],
        },
    )
    members = _unit_people([unit.id for unit in chosen])
    notify(
        members,
        kind="scoring.period_opened",
        title=Deferred(N_("Mở kỳ chấm điểm thi đua: %(name)s"), name=name),
        body=Deferred(N_("Hạn tự chấm điểm: %(due)s."), due=format_datetime(first_due)),
        url="/scoring/",
    )
    return period


def _adopted_version(draft: Draft):  # type: ignore[no-untyped-def]
    if (
        draft.kind != DraftKind.CRITERIA
        or draft.state != DraftState.ADOPTED
        or draft.adopted_version is None
    ):
        raise Invalid(_("Chỉ mở kỳ chấm điểm trên bảng tiêu chí đã được ban hành."))
    return draft.adopted_version


def _validated_steps(config: Sequence[str | Mapping[str, str]]) -> tuple[sheetflow.StepSpec, ...]:
    try:
        specs = sheetflow.steps_from_config(config)
        sheetflow.build_sheet_machine(
            specs,
            is_unit_staff=lambda *_: False,
            is_unit_head=lambda *_: False,
            is_reviewer_for_step=lambda *_: False,
        )
    except TableError as exc:
        raise Invalid(refusal(exc)) from exc
    return specs


def _validated_reviewers(
    steps: Sequence[sheetflow.StepSpec], given: Mapping[str, str] | None
) -> dict[str, ReviewerRule]:
    chosen = {**DEFAULT_REVIEWERS, **(given or {})}
    reviewers: dict[str, ReviewerRule] = {}
    for step in steps[1:]:
        try:
            reviewers[step.key] = ReviewerRule(chosen[step.key])
        except (KeyError, ValueError):
            raise Invalid(
                _("Bước “%(title)s” chưa có người xét duyệt hợp lệ.", title=step.title)
            ) from None
    scored = [rule for rule in reviewers.values() if rule != ReviewerRule.COUNCIL]
    if len(scored) != len(set(scored)):
        raise Invalid(_("Mỗi cột điểm (Cụm chấm, thẩm định) chỉ được gắn với một bước."))
    return reviewers


def _validated_deadlines(
    steps: Sequence[sheetflow.StepSpec], deadlines: Mapping[str, datetime]
) -> dict[str, datetime]:
    due: dict[str, datetime] = {}
    for step in steps:
        value = deadlines.get(step.key)
        if value is None:
            raise Invalid(_("Cần đặt hạn cho bước “%(title)s”.", title=step.title))
        if value.tzinfo is None:
            raise Invalid(_("Hạn của bước “%(title)s” phải có múi giờ.", title=step.title))
        due[step.key] = value
    ordered = list(due.values())
    for (key, value), previous in zip(list(due.items())[1:], ordered, strict=False):
        if value < previous:
            title = next(step.title for step in steps if step.key == key)
            raise Invalid(
                _("Hạn của bước “%(title)s” không được sớm hơn hạn của bước trước.", title=title)
            )
    return due


def _ensure_table_max(table: CriteriaTable) -> Decimal:
    try:
        total = table.total_max
    except scoring.ScoreError as exc:
        raise Invalid(exc.message) from exc
    if total <= 0:
        raise Invalid(_("Tổng điểm chuẩn của bảng tiêu chí phải lớn hơn 0."))
    return total


def _validated_bands(bands: scoring.Bands, total_max: Decimal) -> scoring.Bands:
    problems = scoring.band_problems(bands.bands, total_max)
    if problems:
        raise Invalid(
            " ".join(problem.text for problem in problems),
            details={"problems": [{"row": p.row, "message": p.text} for p in problems]},
        )
    return bands


def _validated_bonus_cap(cap: Decimal | None) -> Decimal | None:
    if cap is not None and cap < 0:
        raise Invalid(_("Mức điểm thưởng tối đa không được âm."))
    return cap


def _validated_units(units: Sequence[Unit]) -> list[Unit]:
    chosen = list({unit.id: unit for unit in units}.values())
    if not chosen:
        raise Invalid(_("Cần chọn ít nhất một đơn vị tham gia chấm điểm."))
    retired = [unit.short_name for unit in chosen if not unit.active]
    if retired:
        raise Invalid(_("Đơn vị đã ngừng hoạt động: %(names)s.", names=", ".join(retired)))
    return chosen


def _emulation_year(year: int | None, first_deadline: datetime) -> EmulationYear:
    if year is not None:
        return ensure_year(year)
    found = year_for_date(to_local(first_deadline).date())
    if found is None:
        raise Invalid(_("Chưa có năm thi đua chứa hạn tự chấm điểm; hãy chọn năm thi đua."))
    return found


def _groups_of(year: EmulationYear, units: Sequence[Unit]) -> dict[int, int]:
    rows = db.session.execute(
        select(GroupMembership.unit_id, GroupMembership.group_id).where(
            GroupMembership.year_id == year.id,
            GroupMembership.unit_id.in_([unit.id for unit in units]),
        )
    )
    return {unit_id: group_id for unit_id, group_id in rows}


def _clean_list(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item and item.strip()))


def _unit_people(unit_ids: Sequence[int]) -> list[User]:
    from accounts.models import UserRole

    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.unit_id.in_(unit_ids),
                User.active,
                UserRole.role.in_([Role.UNIT_HEAD, Role.UNIT_STAFF]),
            )
        ).unique()
    )


# --- the one place a sheet's state changes ----------------------------------------------------


def sheet_guards(period: ScoringPeriod) -> dict[str, Guard]:
    """Each step's action needs that step's column complete (the council only decides)."""
    guards: dict[str, Guard] = {}
    for step in period.steps:
        stage = period.stage_for_step(step.key)
        if stage is not None:
            guards[step.action] = _complete_guard(stage)
    return guards


def _complete_guard(stage: ScoreStage) -> Guard:
    def guard(sheet: ScoreSheet) -> str | None:
        table = load_criteria(sheet.period.criteria_version_id)
        data = load_sheet_data([sheet.id])[sheet.id]
        missing = table.codes(sheet_totals(table, data, stage, sheet.period).missing)
        if missing:
            return _(
                "Chưa đủ %(stage)s: còn thiếu %(count)d tiêu chí (%(codes)s).",
                stage=_(STAGE_NOUNS[stage]),
                count=len(missing),
                codes=", ".join(missing),
            )
        return None

    return guard


def apply_sheet_action(
    sheet: ScoreSheet, action: str, actor: User | None, note: str | None = None
) -> TransitionRecord:
    """Move the sheet along ``action`` or raise a ``workflow.engine.TransitionError``
    and change nothing. Writes a SheetTransition row and an audit entry."""
    period = sheet.period
    machine = period.machine(guards=sheet_guards(period))

    def record(entry: TransitionRecord) -> None:
        db.session.add(
            SheetTransition(
                sheet_id=sheet.id,
                actor_id=actor.id if actor is not None else None,
                action=entry.action,
                source=entry.source,
                target=entry.target,
                note=entry.note,
                at=now(),
            )
        )
        audit.record(
            f"sheet.{entry.action}",
            sheet,
            actor=actor,
            summary=f"{sheet.unit.short_name}: {machine.state_label(entry.source)} → "
            f"{machine.state_label(entry.target)}",
            details={"from": entry.source, "to": entry.target, "note": entry.note or ""},
        )

    entry = machine.apply(sheet, action, actor, note, record=record)
    _refresh_due(sheet)
    _notify_transition(sheet, entry, machine.action_label(action))
    return entry


def _refresh_due(sheet: ScoreSheet) -> None:
    step = sheet.current_step
    sheet.due_at = None if step is None else sheet.deadline_for(step.key)


def _notify_transition(sheet: ScoreSheet, entry: TransitionRecord, label: str) -> None:
    unit = sheet.unit.name
    if sheetflow.is_return_action(entry.action):
        title = Deferred(N_("Phiếu chấm điểm của %(unit)s bị trả lại để chỉnh sửa"), unit=unit)
    elif sheet.current_step is None:
        title = Deferred(N_("Phiếu chấm điểm của %(unit)s đã được công nhận"), unit=unit)
    else:
        title = Deferred(
            N_("Phiếu chấm điểm của %(unit)s: %(action)s"), unit=unit, action=Deferred(label)
        )
    recipients = holders_of(sheet) or _unit_people([sheet.unit_id])
    if entry.action == sheetflow.START or not recipients:
        return
    reason = Deferred(N_("Lý do: %(note)s"), note=entry.note) if entry.note else None
    due = Deferred(N_("Hạn xử lý: %(due)s."), due=format_datetime(sheet.due_at))
    body = Deferred(
        "%(reason)s%(gap)s%(due)s",
        reason=reason or "",
        gap="\n" if reason and sheet.due_at else "",
        due=due if sheet.due_at else "",
    )
    notify(recipients, kind=f"scoring.{entry.action}", title=title, body=body, url=sheet_url(sheet))


# --- scores -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    """One criterion's entry from a form or the API.

    ``lock_version`` is the version of the stored score the user edited (0: there
    was none). ``note`` None leaves the note as it is.
    """

    lineage: str
    value: str | Decimal | int | float | None
    lock_version: int = 0
    note: str | None = None


def _require_stage(sheet: ScoreSheet, stage: ScoreStage, actor: User) -> None:
    if not sheet.can_edit_stage(actor, stage):
        raise Forbidden(
            _(
                "Bạn không thể sửa %(value)s của phiếu này ở bước hiện tại.",
                value=_(STAGE_NOUNS[stage]),
            )
        )


def _auto_start(sheet: ScoreSheet, actor: User) -> None:
    # The first save of a self-score starts self-scoring, through the table like any move.
    if sheet.state == sheetflow.NOT_STARTED:
        apply_sheet_action(sheet, sheetflow.START, actor)


def save_scores(
    sheet: ScoreSheet, stage: ScoreStage, entries: Sequence[ScoreInput], actor: User
) -> list[Score]:
    """Save the changed values of one column, all or nothing.

    An entry is a criterion (its lineage) or a bonus or deduction item of the sheet
    (its key). A column holds the previous column's value until it stores its own, so
    an entry equal to the value it already holds changes nothing; an empty entry gives
    the value back to the previous column. At a review step a value that differs from
    the previous column's needs a reason in its note: who changed it and why stay on
    record (``ScoreChange``).

    Raises ``Invalid`` (details: {"errors": {key: message}}) for bad values or missing
    reasons, and ``Conflict`` (details: {"conflicts": [key, ...]}) when someone saved
    a value since the user loaded it.
    """
    _require_stage(sheet, stage, actor)
    period = sheet.period
    table = load_criteria(period.criteria_version_id)
    data = load_sheet_data([sheet.id])[sheet.id]
    parsed = _parse_entries(table, data, entries)
    earlier = previous_stage(sheet, stage)
    carried = sheet_columns(table, data, period)[earlier].held if earlier else {}
    changes = _stale_entries(data, stage, entries, parsed)
    _require_reasons(table, data, stage, entries, parsed, carried)
    _auto_start(sheet, actor)
    saved: list[Score] = []
    for entry in entries:
        row = data.scores.get((stage, entry.lineage))
        value = parsed[entry.lineage]
        note = entry.note.strip() if entry.note is not None else None
        if row is None:
            if (value is None or value == carried.get(entry.lineage)) and not note:
                continue  # the column already holds exactly this
        elif row.value == value and (note is None or note == row.note):
            continue
        saved.append(_write_score(sheet, data, stage, entry.lineage, value, note, actor))
    if saved:
        audit.record(
            "sheet.scores",
            sheet,
            actor=actor,
            summary=f"{sheet.unit.short_name}: lưu {len(saved)} {STAGE_NOUNS[stage]}",
            details={"stage": stage.value, "changes": changes},
        )
    return saved


def _parse_entries(
    table: CriteriaTable, data: SheetData, entries: Sequence[ScoreInput]
) -> dict[str, Decimal | None]:
    leaves = table.leaf_keys
    items = {item.key: item for item in data.adjustments}
    parsed: dict[str, Decimal | None] = {}
    errors: dict[str, str] = {}
    for entry in entries:
        if entry.lineage not in leaves and entry.lineage not in items:
            raise NotFound(_("Không có tiêu chí này trong bảng tiêu chí của kỳ chấm điểm."))
        try:
            value = scoring.parse_points(entry.value)
            if entry.lineage in leaves:
                scoring.validate_score(table.criterion(entry.lineage), value)
            else:
                _validate_item_points(table, items[entry.lineage], value)
        except scoring.ScoreError as exc:
            errors[entry.lineage] = exc.message
            continue
        parsed[entry.lineage] = value
    if errors:
        raise Invalid(
            _("Có điểm không hợp lệ: %(errors)s", errors=" ".join(errors.values())),
            details={"errors": errors},
        )
    return parsed


def _validate_item_points(
    table: CriteriaTable, item: ScoreAdjustment, value: Decimal | None
) -> None:
    """An item's points: a magnitude, never above the row it is filed under."""
    if value is None:
        return
    row = table.scorer.row(item.lineage) if item.lineage else None
    if row is not None:
        scoring.validate_score(replace(row, code=row.code or item.reason), value)
    elif value < 0:
        raise scoring.ScoreError(
            f"{ADJUSTMENT_KIND_LABELS[item.kind]} “{item.reason}” không được âm; "
            f"đã nhập {scoring.format_points(value)}."
        )


def entry_name(table: CriteriaTable, data: SheetData, key: str) -> str:
    """How messages name a criterion (its code) or an item (its kind and reason)."""
    row = table.by_key.get(key)
    if row is not None:
        return _("tiêu chí %(name)s", name=row.name)
    for item in data.adjustments:
        if item.key == key:
            return f"{_(ADJUSTMENT_KIND_LABELS[item.kind]).lower()} “{item.reason}”"
    return key


def _require_reasons(
    table: CriteriaTable,
    data: SheetData,
    stage: ScoreStage,
    entries: Sequence[ScoreInput],
    parsed: Mapping[str, Decimal | None],
    carried: Mapping[str, Decimal],
) -> None:
    """A review that changes an earlier column's value says why."""
    if stage == ScoreStage.SELF:
        return
    errors: dict[str, str] = {}
    for entry in entries:
        value, before = parsed[entry.lineage], carried.get(entry.lineage)
        if value is None or value == before:
            continue
        row = data.scores.get((stage, entry.lineage))
        note = entry.note if entry.note is not None else (row.note if row else "")
        if not (note or "").strip():
            errors[entry.lineage] = _(
                "Cần ghi lý do điều chỉnh %(entry)s (cột trước: %(before)s; nay: %(after)s).",
                entry=entry_name(table, data, entry.lineage),
                before=scoring.format_points(before) or _("trống"),
                after=scoring.format_points(value),
            )
    if errors:
        raise Invalid(" ".join(errors.values()), details={"errors": errors})


def _stale_entries(
    data: SheetData,
    stage: ScoreStage,
    entries: Sequence[ScoreInput],
    parsed: Mapping[str, Decimal | None],
) -> dict[str, list[str | None]]:
    conflicts: list[str] = []
    changes: dict[str, list[str | None]] = {}
    for entry in entries:
        row = data.scores.get((stage, entry.lineage))
        current_version = row.lock_version if row is not None else 0
        current_value = row.value if row is not None else None
        value = parsed[entry.lineage]
        if entry.lock_version != current_version and value != current_value:
            conflicts.append(entry.lineage)
        changes[entry.lineage] = [_text(current_value), _text(value)]
    if conflicts:
        raise Conflict(
            _(
                "Điểm của một số tiêu chí vừa được người khác cập nhật. Điểm bạn nhập vẫn được "
                "giữ trên trang; hãy xem lại giá trị hiện tại rồi lưu lại."
            ),
            details={"conflicts": conflicts},
        )
    return changes


def _text(value: Decimal | None) -> str | None:
    return None if value is None else scoring.format_points(value)


def _write_score(
    sheet: ScoreSheet,
    data: SheetData,
    stage: ScoreStage,
    lineage: str,
    value: Decimal | None,
    note: str | None,
    actor: User | None,
) -> Score:
    row = data.scores.get((stage, lineage))
    old = row.value if row is not None else None
    if row is None:
        row = Score(sheet_id=sheet.id, lineage=lineage, stage=stage, note="")
        db.session.add(row)
        data.scores[(stage, lineage)] = row
    row.value = value
    if note is not None:
        row.note = note
    row.updated_by_id = actor.id if actor is not None else None
    row.updated_at = now()
    db.session.add(
        ScoreChange(
            sheet_id=sheet.id,
            lineage=lineage,
            stage=stage,
            old_value=old,
            new_value=value,
            note=note or "",
            actor_id=actor.id if actor is not None else None,
            at=now(),
        )
    )
    return row


def previous_stage(sheet: ScoreSheet, stage: ScoreStage) -> ScoreStage | None:
    stages = sheet.period.stages
    index = stages.index(stage)
    return stages[index - 1] if index > 0 else None


def confirm_previous_scores(sheet: ScoreSheet, actor: User) -> int:
    """One click: the current column records, as its own, every value it holds from
    the previous column (the office confirms the Cụm's scores), bonus and deduction
    items included. Returns how many values were recorded."""
    stage = sheet.editable_stage
    if stage is None or stage == ScoreStage.SELF:
        raise Conflict(_("Phiếu không ở bước xét duyệt có chấm điểm."))
    _require_stage(sheet, stage, actor)
    source = previous_stage(sheet, stage)
    assert source is not None  # a review stage always follows the self-score
    period = sheet.period
    table = load_criteria(period.criteria_version_id)
    data = load_sheet_data([sheet.id])[sheet.id]
    held = sheet_columns(table, data, period)[source].held
    keys = [leaf.key for leaf in table.leaves] + [item.key for item in data.adjustments]
    filled = 0
    for key in keys:
        value = held.get(key)
        if value is None or data.value(stage, key) is not None:
            continue
        _write_score(sheet, data, stage, key, value, f"Thống nhất với {STAGE_NOUNS[source]}", actor)
        filled += 1
    audit.record(
        "sheet.confirm_scores",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: thống nhất {filled} điểm theo {STAGE_NOUNS[source]}",
        details={"stage": stage.value, "from": source.value, "filled": filled},
    )
    return filled


# --- bonus and deduction items ----------------------------------------------------------------


def add_adjustment(
    sheet: ScoreSheet,
    kind: AdjustmentKind,
    points: str | Decimal,
    reason: str,
    actor: User,
    *,
    row: str | None = None,
) -> ScoreAdjustment:
    """Propose a bonus or deduction item in the open column, filed under ``row`` (one
    of the table's rows of its kind; may be left out when the table has exactly one).
    Its points are a score of that column, so later columns carry them over."""
    stage = sheet.editable_stage
    if stage is None:
        raise Conflict(_("Phiếu đã hoàn tất, không thể thêm điểm thưởng hoặc điểm trừ."))
    _require_stage(sheet, stage, actor)
    label = ADJUSTMENT_KIND_LABELS[kind]
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Cần ghi lý do cho %(kind)s.", kind=_(label).lower()))
    try:
        value = scoring.parse_points(points)
    except scoring.ScoreError as exc:
        raise Invalid(exc.message) from exc
    if value is None or value <= 0:
        raise Invalid(_("Số %(kind)s phải lớn hơn 0.", kind=_(label).lower()))
    table = load_criteria(sheet.period.criteria_version_id)
    filed = _filed_row(table, kind, row)
    item = ScoreAdjustment(
        sheet_id=sheet.id,
        kind=kind,
        lineage=filed,
        reason=reason,
        stage=stage,
        created_by_id=actor.id,
        created_at=now(),
    )
    try:
        _validate_item_points(table, item, value)
    except scoring.ScoreError as exc:
        raise Invalid(exc.message) from exc
    _auto_start(sheet, actor)
    db.session.add(item)
    db.session.flush()
    data = load_sheet_data([sheet.id])[sheet.id]
    _write_score(sheet, data, stage, item.key, value, reason, actor)
    audit.record(
        f"sheet.add_{kind.value}",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: {label} {scoring.format_points(value)}"
        f" ({STAGE_NOUNS[stage]}): {reason}",
        details={
            "adjustment_id": item.id,
            "key": item.key,
            "row": filed,
            "stage": stage.value,
            "points": str(value),
            "reason": reason,
        },
    )
    return item


def _filed_row(table: CriteriaTable, kind: AdjustmentKind, row: str | None) -> str | None:
    rows = [r for r in table.adjustment_rows if r.kind.value == kind.value]
    if row:
        if row not in {r.key for r in rows}:
            raise Invalid(
                _(
                    "Không có dòng %(kind)s này trong bảng tiêu chí.",
                    kind=_(ADJUSTMENT_KIND_LABELS[kind]).lower(),
                )
            )
        return row
    if len(rows) > 1:
        raise Invalid(
            _(
                "Hãy chọn dòng %(kind)s của bảng tiêu chí (%(rows)s).",
                kind=_(ADJUSTMENT_KIND_LABELS[kind]).lower(),
                rows=", ".join(r.label for r in rows),
            )
        )
    return rows[0].key if rows else None


def remove_adjustment(item: ScoreAdjustment, actor: User) -> None:
    """Withdraw an item in the column it was proposed in. Once a later column has
    given it points of its own it stays: that column sets 0 with a reason instead."""
    sheet = item.sheet
    if not item.can_remove(actor):
        raise Forbidden(_("Chỉ người đề xuất khoản này được bỏ nó, khi cột điểm của họ còn mở."))
    data = load_sheet_data([sheet.id])[sheet.id]
    later = [
        stage
        for (stage, key), score in data.scores.items()
        if key == item.key and stage != item.stage and score.value is not None
    ]
    if later:
        raise Conflict(
            _(
                "Khoản này đã được chấm ở %(stage)s; không thể bỏ, hãy sửa số điểm kèm lý do.",
                stage=_(STAGE_NOUNS[later[0]]),
            )
        )
    own = data.scores.get((item.stage, item.key))
    if own is not None:
        _write_score(sheet, data, item.stage, item.key, None, f"Bỏ khoản: {item.reason}", actor)
    audit.record(
        f"sheet.remove_{item.kind.value}",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: bỏ {item.kind_label.lower()} “{item.reason}”",
        details={
            "adjustment_id": item.id,
            "key": item.key,
            "stage": item.stage.value,
            "points": str(own.value) if own is not None and own.value is not None else None,
            "reason": item.reason,
        },
    )
    for (_stage, key), score in list(data.scores.items()):
        if key == item.key:
            db.session.delete(score)
    db.session.delete(item)


# --- publication and classification bands ----------------------------------------------------


def _publish_guard(period: ScoringPeriod) -> str | None:
    pending = [sheet.unit.short_name for sheet in period.sheets if sheet.current_step is not None]
    if not period.sheets:
        return _("Kỳ chấm điểm chưa có phiếu nào.")
    if pending:
        return _(
            "Còn %(count)d phiếu chưa được Hội đồng công nhận: %(units)s.",
            count=len(pending),
            units=", ".join(sorted(pending)),
        )
    return None


def apply_period_action(
    period: ScoringPeriod, action: str, actor: User | None, note: str | None = None
) -> TransitionRecord:
    """Publish the results (once every sheet is approved) or withdraw the publication,
    through the period's transition table; writes a PeriodTransition row and an audit
    entry, or raises a ``workflow.engine.TransitionError`` and changes nothing. On
    publication every unit is told its own result, and the drafters and the office
    that the results are out."""
    machine = period_machine(_publish_guard)

    def record(entry: TransitionRecord) -> None:
        moment = now()
        db.session.add(
            PeriodTransition(
                period_id=period.id,
                actor_id=actor.id if actor is not None else None,
                action=entry.action,
                source=entry.source,
                target=entry.target,
                note=entry.note,
                at=moment,
            )
        )
        period.published_at = moment if entry.target == PeriodState.PUBLISHED else None
        audit.record(
            f"period.{entry.action}",
            period,
            actor=actor,
            summary=f"{period.name}: {machine.state_label(entry.source)} → "
            f"{machine.state_label(entry.target)}",
            details={"from": entry.source, "to": entry.target, "note": entry.note or ""},
        )

    entry = machine.apply(period, action, actor, note, record=record)
    if entry.action == PUBLISH:
        _notify_publication(period)
    return entry


def result_lines(row: Any, group_name: str | None) -> list[str]:
    """One unit's published result as the mail writes it (the results page's figures)."""
    lines = [f"Tổng điểm: {scoring.format_points(row.final.final)}"]
    if row.ranked is not None:
        where = f" trong {group_name}" if group_name else ""
        lines.append(f"Xếp hạng{where}: {row.ranked.group_rank}")
    if row.classified is not None:
        lines.append(f"Xếp loại: {row.classified.band.label}")
    return lines


def _notify_publication(period: ScoringPeriod) -> None:
    results = period_results(period)
    url = f"/scoring/periods/{period.id}/results"
    title = f"Công bố kết quả chấm điểm thi đua: {period.name}"
    people = _unit_people([row.sheet.unit_id for row in results.rows])
    by_unit: dict[int, list[User]] = {}
    for person in people:
        if person.unit_id is not None:
            by_unit.setdefault(person.unit_id, []).append(person)
    for row in results.rows:
        group = row.sheet.group.name if row.sheet.group else None
        notify(
            by_unit.get(row.sheet.unit_id, []),
            kind="scoring.publish",
            title=title,
            body="\n".join([row.sheet.unit.name, *result_lines(row, group)]),
            url=url,
        )
    readers = [
        user for role in (Role.DRAFTER, Role.OFFICE_VERIFIER) for user in _people_with_role(role)
    ]
    notify(
        list({user.id: user for user in readers}.values()),
        kind="scoring.publish",
        title=title,
        body=f"Kết quả của {len(results.rows)} đơn vị đã được công bố.",
        url=url,
    )


def _people_with_role(role: Role) -> list[User]:
    from accounts.models import UserRole

    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.active)
            .order_by(User.id)
        ).unique()
    )


def set_bands(period: ScoringPeriod, bands: Sequence[scoring.Band], actor: User) -> None:
    """Replace the period's classification bands (the office, before publication)."""
    if not period.can_edit_bands(actor):
        raise Forbidden(
            _("Chỉ Thường trực Hội đồng sửa mức xếp loại, và chỉ trước khi công bố kết quả.")
        )
    table = load_criteria(period.criteria_version_id)
    total_max = _ensure_table_max(table)
    try:
        checked = scoring.Bands(tuple(bands))
    except scoring.ScoreError:
        checked = None
    problems = scoring.band_problems(tuple(bands), total_max)
    if problems or checked is None:
        raise Invalid(
            " ".join(problem.text for problem in problems),
            details={"problems": [{"row": p.row, "message": p.text} for p in problems]},
        )
    before = period.bands_config
    period.bands_config = bands_to_config(checked)
    audit.record(
        "period.bands",
        period,
        actor=actor,
        summary=f"{period.name}: sửa mức xếp loại ({len(checked.bands)} mức)",
        details={"from": before, "to": period.bands_config},
    )


# --- evidence ---------------------------------------------------------------------------------

EVIDENCE_TYPES: Mapping[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jpg": "image/jpeg",
    "png": "image/png",
}
_EXTENSIONS = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "jpg": "jpg",
    "jpeg": "jpg",
    "png": "png",
}
_TYPE_MESSAGE = N_("Chỉ nhận minh chứng dạng PDF, DOCX, XLSX, JPG hoặc PNG.")


def sniff_evidence(data: bytes, filename: str) -> str:
    """The file's type from its content, which must agree with its extension."""
    extension = _EXTENSIONS.get(filename.rsplit(".", 1)[-1].lower() if "." in filename else "")
    if extension is None:
        raise Invalid(_(_TYPE_MESSAGE))
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "jpg"
    elif data.startswith(b"PK"):
        try:
            kind = sniff_office_file(data)
        except ParseError as exc:
            raise Invalid(refusal(exc)) from exc
    else:
        raise Invalid(_(_TYPE_MESSAGE))
    if kind != extension:
        raise Invalid(
            _(
                "Nội dung tệp là %(upper)s nhưng tên tệp có đuôi .%(extension)s; hãy kiểm tra "
                "lại tệp.",
                upper=kind.upper(),
                extension=extension,
            )
        )
    return kind


def _evidence_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "evidence"
    path.mkdir(parents=True, exist_ok=True)
    return path


def evidence_path(evidence: Evidence) -> Path:
    return _evidence_dir() / evidence.stored_name


def upload_evidence(
    sheet: ScoreSheet, lineage: str | None, filename: str, data: bytes, actor: User
) -> Evidence:
    if not sheet.can_upload_evidence(actor):
        raise Forbidden(_("Chỉ đơn vị được tải minh chứng lên khi đang tự chấm điểm."))
    limit = int(current_app.config["EVIDENCE_MAX_BYTES"])
    if len(data) > limit:
        raise Invalid(_("Tệp minh chứng vượt quá %(value)s MB.", value=limit // (1024 * 1024)))
    if not data:
        raise Invalid(_("Tệp minh chứng rỗng."))
    name = display_filename(filename)
    kind = sniff_evidence(data, name)
    if lineage is not None:
        # A criterion of the table, or one of the sheet's bonus or deduction items.
        table = load_criteria(sheet.period.criteria_version_id)
        if lineage not in table.by_key and lineage not in {a.key for a in sheet.adjustments}:
            raise NotFound(_("Không có tiêu chí này trong bảng tiêu chí của kỳ chấm điểm."))
    _auto_start(sheet, actor)
    stored = f"{secrets.token_hex(16)}.{kind}"
    (_evidence_dir() / stored).write_bytes(data)
    evidence = Evidence(
        sheet_id=sheet.id,
        lineage=lineage,
        filename=name,
        stored_name=stored,
        content_type=EVIDENCE_TYPES[kind],
        size=len(data),
        uploaded_by_id=actor.id,
        uploaded_at=now(),
    )
    db.session.add(evidence)
    db.session.flush()
    audit.record(
        "sheet.evidence_upload",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: tải lên minh chứng “{name}”",
        details={"evidence_id": evidence.id, "lineage": lineage, "size": len(data)},
    )
    return evidence


def delete_evidence(evidence: Evidence, actor: User) -> None:
    if not evidence.can_delete(actor):
        raise Forbidden(_("Bạn không thể xoá minh chứng này ở bước hiện tại."))
    sheet = evidence.sheet
    audit.record(
        "sheet.evidence_delete",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: xoá minh chứng “{evidence.filename}”",
        details={"evidence_id": evidence.id, "lineage": evidence.lineage},
    )
    path = evidence_path(evidence)
    db.session.delete(evidence)
    # The file goes only after a successful commit, so a rollback keeps it.
    _unlink_after_commit(path)


def _unlink_after_commit(path: Path) -> None:
    from sqlalchemy import event

    def unlink(_session: Any) -> None:
        path.unlink(missing_ok=True)

    event.listen(db.session(), "after_commit", unlink, once=True)


# --- deadlines and disqualification -----------------------------------------------------------


def extend_deadline(sheet: ScoreSheet, due_at: datetime, reason: str, actor: User) -> None:
    """Give one sheet more time for its current step."""
    if not sheet.can_extend_deadline(actor):
        raise Forbidden(
            _("Chỉ Thường trực Hội đồng được gia hạn, và chỉ khi phiếu còn bước chờ xử lý.")
        )
    step = sheet.current_step
    assert step is not None  # can_extend_deadline checked it
    if due_at.tzinfo is None:
        raise Invalid(_("Hạn mới phải có múi giờ."))
    previous = sheet.deadline_for(step.key)
    if previous is not None and due_at <= previous:
        raise Invalid(
            _(
                "Hạn mới phải sau hạn hiện tại (%(when)s).",
                when=format_datetime(previous),
            )
        )
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Cần ghi lý do gia hạn."))
    sheet.extensions.append(
        SheetDeadlineExtension(
            step_key=step.key,
            previous_due_at=previous,
            due_at=due_at,
            reason=reason,
            actor_id=actor.id,
            at=now(),
        )
    )
    sheet.due_at = due_at
    audit.record(
        "sheet.extend_deadline",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: gia hạn bước “{step.title}” "
        f"đến {format_datetime(due_at)}",
        details={
            "step": step.key,
            "from": previous.isoformat() if previous else None,
            "to": due_at.isoformat(),
            "reason": reason,
        },
    )
    notify(
        holders_of(sheet),
        kind="scoring.deadline_extended",
        title=Deferred(
            N_("Gia hạn bước “%(step)s” cho %(unit)s"),
            step=Deferred(step.title),
            unit=sheet.unit.name,
        ),
        body=Deferred(
            N_("Hạn mới: %(due)s. Lý do: %(reason)s"), due=format_datetime(due_at), reason=reason
        ),
        url=sheet_url(sheet),
    )


def disqualify(sheet: ScoreSheet, condition: str, note: str, actor: User) -> None:
    """Mark a disqualifying condition: the unit's classification is capped."""
    if not sheet.can_disqualify(actor):
        raise Forbidden(
            _("Chỉ Thường trực Hội đồng hoặc Hội đồng được xác định điều kiện loại trừ.")
        )
    condition = (condition or "").strip()
    if condition not in sheet.period.disqualifiers:
        raise Invalid(_("Điều kiện loại trừ không có trong danh sách của kỳ chấm điểm."))
    sheet.disqualifier = condition
    sheet.disqualification_note = (note or "").strip()
    audit.record(
        "sheet.disqualify",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: {condition}",
        details={"condition": condition, "note": sheet.disqualification_note},
    )


def clear_disqualification(sheet: ScoreSheet, note: str, actor: User) -> None:
    if not sheet.can_disqualify(actor):
        raise Forbidden(_("Chỉ Thường trực Hội đồng hoặc Hội đồng được bỏ điều kiện loại trừ."))
    if not sheet.disqualified:
        raise Conflict(_("Phiếu này không có điều kiện loại trừ."))
    previous = sheet.disqualifier
    sheet.disqualifier = None
    sheet.disqualification_note = ""
    audit.record(
        "sheet.clear_disqualification",
        sheet,
        actor=actor,
        summary=f"{sheet.unit.short_name}: bỏ điều kiện loại trừ “{previous}”",
        details={"condition": previous, "note": (note or "").strip()},
    )
