"""Forms of the scoring pages.

The score table has one input per criterion, so it is read from the request by
:func:`score_inputs` rather than declared field by field; its CSRF token comes
from :class:`ScoresForm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from accounts.forms import MultiCheckboxField
from workflow import scoring, sheetflow
from workflow.models import ADJUSTMENT_KIND_LABELS, AdjustmentKind, ScoreStage
from workflow.operations import DEFAULT_DISQUALIFIERS, ScoreInput

REVIEW_STEPS = [step for step in sheetflow.DEFAULT_STEPS[1:]]


class OpenPeriodForm(FlaskForm):
    draft = SelectField(_l("Bảng tiêu chí đã ban hành"), coerce=int)
    name = StringField(
        _l("Tên kỳ chấm điểm"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Ví dụ: Năm 2026; 6 tháng đầu năm 2026"),
    )
    year = SelectField(_l("Năm thi đua (Cụm, Khối theo năm này)"), coerce=int)
    scope = RadioField(
        _l("Đơn vị tham gia"),
        choices=[
            ("all", _l("Tất cả đơn vị đang hoạt động")),
            ("groups", _l("Các đơn vị thuộc Cụm, Khối được chọn")),
        ],
        default="all",
    )
    groups = MultiCheckboxField(_l("Cụm, Khối"), coerce=int)
    review_steps = MultiCheckboxField(
        _l("Các bước xét duyệt (sau bước tự chấm)"),
        choices=lambda: [(step.key, gettext(step.title)) for step in REVIEW_STEPS],
        default=[step.key for step in REVIEW_STEPS],
    )
    due_self = DateField(_l("Hạn tự chấm điểm"), validators=[DataRequired()])
    due_cluster = DateField(_l("Hạn Cụm chấm"), validators=[Optional()])
    due_office = DateField(_l("Hạn thẩm định"), validators=[Optional()])
    due_council = DateField(_l("Hạn Hội đồng xét, công nhận"), validators=[Optional()])
    bonus_cap = StringField(
        _l("Điểm thưởng tối đa (để trống: theo bảng tiêu chí)"),
        validators=[Optional(), Length(max=20)],
    )
    disqualifiers = TextAreaField(
        _l("Điều kiện loại trừ (mỗi dòng một điều kiện)"),
        default="\n".join(DEFAULT_DISQUALIFIERS),
    )

    def validate_bonus_cap(self, field: Any) -> None:
        try:
            scoring.parse_points(field.data)
        except scoring.ScoreError as exc:
            raise ValidationError(exc.message) from exc

    def step_keys(self) -> list[str]:
        chosen = set(self.review_steps.data or [])
        return [sheetflow.SELF_STEP_KEY] + [s.key for s in REVIEW_STEPS if s.key in chosen]

    def parsed_bonus_cap(self) -> Decimal | None:
        return scoring.parse_points(self.bonus_cap.data)

    def parsed_disqualifiers(self) -> list[str]:
        return [
            line.strip() for line in (self.disqualifiers.data or "").splitlines() if line.strip()
        ]


# --- classification bands: a table of rows, one per level ---------------------------------------


class BandRowForm(Form):
    """One level of the classification: its name, minimum points and conditions."""

    key = HiddenField()
    name = StringField(_l("Tên mức xếp loại"), validators=[Length(max=200)])
    min_points = StringField(_l("Điểm tối thiểu"), validators=[Length(max=20)])
    first_in_group_only = BooleanField(_l("Chỉ đơn vị đứng đầu Cụm, Khối"))
    no_disqualifier = BooleanField(_l("Không vi phạm điều kiện loại trừ"))


class BandsForm(FlaskForm):
    """The bands as a table: rows are added ("add") and removed ("remove" = the row's
    number) by submit buttons, so the page works without JavaScript."""

    bands = FieldList(FormField(BandRowForm), min_entries=1)

    def load(self, bands: scoring.Bands) -> None:
        """Fill the rows from stored bands (on GET)."""
        while self.bands.entries:
            self.bands.pop_entry()
        for band in bands.bands:
            self.bands.append_entry(
                {
                    "key": band.key,
                    "name": band.label,
                    "min_points": scoring.format_points(band.min_points),
                    "first_in_group_only": band.first_in_group_only,
                    "no_disqualifier": band.no_disqualifier,
                }
            )

    def rows(self) -> list[dict[str, Any]]:
        return [dict(entry.data) for entry in self.bands.entries]

    def parsed(self, total_max: Decimal) -> list[scoring.Band] | None:
        """The bands, or None with each problem shown beside its row (translated)."""
        bands: list[scoring.Band] = []
        where: list[int] = []  # the entry each band came from
        ok = True
        used = {entry.data["key"] for entry in self.bands.entries if entry.data["key"]}
        for number, entry in enumerate(self.bands.entries, start=1):
            data = entry.data
            if not (data["name"] or "").strip() and not (data["min_points"] or "").strip():
                continue  # a row added and left empty
            try:
                minimum = scoring.parse_points(data["min_points"])
            except scoring.ScoreError:
                entry.form.min_points.errors = [
                    gettext(
                        "Điểm tối thiểu “%(value)s” không phải là số; dùng dấu phẩy, ví dụ 92,5.",
                        value=data["min_points"],
                    )
                ]
                ok = False
                continue
            if minimum is None:
                entry.form.min_points.errors = [gettext("Cần nhập điểm tối thiểu.")]
                ok = False
                continue
            key = data["key"] or _new_key(used, number)
            used.add(key)
            where.append(number - 1)
            bands.append(
                scoring.Band(
                    key,
                    (data["name"] or "").strip(),
                    minimum,
                    bool(data["first_in_group_only"]),
                    bool(data["no_disqualifier"]),
                )
            )
        if not ok:
            return None
        problems = scoring.band_problems(bands, total_max)
        for problem in problems:
            message = gettext(problem.message, **problem.params)
            if problem.row is None:
                self.form_errors.append(message)
            else:
                row = self.bands.entries[where[problem.row]].form
                row.name.errors = [*row.name.errors, message]
        return None if problems else bands


def _new_key(used: set[str], number: int) -> str:
    key = f"band-{number}"
    while key in used:
        number += 1
        key = f"band-{number}"
    return key


class ActionForm(FlaskForm):
    note = TextAreaField(_l("Ghi chú, lý do"), validators=[Optional(), Length(max=4000)])


class ExtendDeadlineForm(FlaskForm):
    due_date = DateField(_l("Hạn mới"), validators=[DataRequired()])
    reason = StringField(_l("Lý do gia hạn"), validators=[DataRequired(), Length(max=1000)])


class AdjustmentForm(FlaskForm):
    """A bonus or deduction item: its kind and row (one select of the table's rows),
    points and reason."""

    row = SelectField(_l("Loại"))
    points = StringField(_l("Số điểm"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(
        _l("Lý do (ví dụ: Bằng khen của UBND tỉnh)"),
        validators=[DataRequired(), Length(max=2000)],
    )


def adjustment_choices(rows: Any) -> list[tuple[str, str]]:
    """The select of AdjustmentForm: "bonus" / "deduction" when the table has no row of
    that kind, else one option per bonus or deduction row ("bonus:<lineage>")."""
    choices: list[tuple[str, str]] = []
    for kind, label in ADJUSTMENT_KIND_LABELS.items():
        of_kind = [row for row in rows if row.kind.value == kind.value]
        if not of_kind:
            choices.append((kind.value, gettext(label)))
        for row in of_kind:
            name = gettext(label) if row.label == label else f"{gettext(label)} — {row.label}"
            choices.append((f"{kind.value}:{row.key}", name))
    return choices


def parse_adjustment_choice(value: str) -> tuple[AdjustmentKind, str | None]:
    kind, _sep, row = (value or "").partition(":")
    return AdjustmentKind(kind), row or None


class EvidenceForm(FlaskForm):
    lineage = SelectField(_l("Tiêu chí"))
    file = FileField(_l("Tệp minh chứng (PDF, DOCX, XLSX, JPG, PNG)"), validators=[FileRequired()])


class DisqualifyForm(FlaskForm):
    condition = SelectField(_l("Điều kiện loại trừ"))
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)])


class ScoresForm(FlaskForm):
    """Only the CSRF token: inputs are named score-<lineage>, note-<lineage>."""


def score_inputs(form: Mapping[str, str], leaf_keys: list[str]) -> list[ScoreInput]:
    """The criteria the user changed, with the lock version each was loaded at.

    Each row posts the value and note it showed (orig-*, orignote-*); only rows
    that differ are sent on, so a save never trips over another person's edit
    of a criterion this user did not touch.
    """
    entries = []
    for key in leaf_keys:
        if f"score-{key}" not in form:
            continue
        value = form.get(f"score-{key}", "")
        note = form.get(f"note-{key}", "")
        if (
            value.strip() == form.get(f"orig-{key}", "").strip()
            and note.strip() == form.get(f"orignote-{key}", "").strip()
        ):
            continue
        try:
            lock = int(form.get(f"lock-{key}", "0") or 0)
        except (ValueError, InvalidOperation):
            lock = 0
        entries.append(ScoreInput(key, value, lock, note))
    return entries


def stage_from(value: str) -> ScoreStage | None:
    try:
        return ScoreStage(value)
    except ValueError:
        return None
