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
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from accounts.forms import MultiCheckboxField
from accounts.i18n import label_choices
from workflow import scoring, sheetflow
from workflow.models import LINE_KIND_LABELS, ScoreStage, bands_to_config
from workflow.operations import DEFAULT_DISQUALIFIERS, ScoreInput

REVIEW_STEPS = [step for step in sheetflow.DEFAULT_STEPS[1:]]


def _default_bands_text() -> str:
    lines = []
    for band in bands_to_config(scoring.DEFAULT_BANDS)["bands"]:
        percent = scoring.format_points(Decimal(band["min_fraction"]) * 100)
        first = " | x" if band["first_in_group_only"] else ""
        lines.append(f"{band['key']} | {band['label']} | {percent}{first}")
    return "\n".join(lines)


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
    bands = TextAreaField(
        _l(
            "Mức xếp loại (mỗi dòng: mã | tên mức | ngưỡng % tổng điểm | x nếu chỉ đơn vị "
            "đứng đầu Cụm)"
        ),
        default=_default_bands_text(),
    )
    disqualified_cap = StringField(
        _l("Mức cao nhất cho đơn vị vi phạm điều kiện loại trừ (mã mức)"),
        default=scoring.DEFAULT_BANDS.disqualified_cap,
        validators=[DataRequired(), Length(max=40)],
    )

    def validate_bonus_cap(self, field: Any) -> None:
        try:
            scoring.parse_points(field.data)
        except scoring.ScoreError as exc:
            raise ValidationError(exc.message) from exc

    def validate_bands(self, field: Any) -> None:
        try:
            self.parsed_bands()
        except (scoring.ScoreError, ValueError) as exc:
            raise ValidationError(getattr(exc, "message", str(exc))) from exc

    def step_keys(self) -> list[str]:
        chosen = set(self.review_steps.data or [])
        return [sheetflow.SELF_STEP_KEY] + [s.key for s in REVIEW_STEPS if s.key in chosen]

    def parsed_bonus_cap(self) -> Decimal | None:
        return scoring.parse_points(self.bonus_cap.data)

    def parsed_disqualifiers(self) -> list[str]:
        return [
            line.strip() for line in (self.disqualifiers.data or "").splitlines() if line.strip()
        ]

    def parsed_bands(self) -> scoring.Bands:
        bands = []
        for number, line in enumerate((self.bands.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) not in (3, 4) or not parts[0] or not parts[1]:
                raise ValueError(f"Dòng {number} của mức xếp loại không đúng mẫu.")
            try:
                percent = scoring.parse_points(parts[2])
            except scoring.ScoreError as exc:
                raise ValueError(f"Dòng {number}: {exc.message}") from exc
            if percent is None:
                raise ValueError(f"Dòng {number}: thiếu ngưỡng điểm.")
            first = len(parts) == 4 and parts[3].lower() == "x"
            bands.append(scoring.Band(parts[0], parts[1], percent / 100, first))
        return scoring.Bands(tuple(bands), (self.disqualified_cap.data or "").strip())


class ActionForm(FlaskForm):
    note = TextAreaField(_l("Ghi chú, lý do"), validators=[Optional(), Length(max=4000)])


class ExtendDeadlineForm(FlaskForm):
    due_date = DateField(_l("Hạn mới"), validators=[DataRequired()])
    reason = StringField(_l("Lý do gia hạn"), validators=[DataRequired(), Length(max=1000)])


class LineForm(FlaskForm):
    kind = SelectField(_l("Loại"), choices=lambda: label_choices(LINE_KIND_LABELS))
    points = StringField(_l("Số điểm"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(_l("Lý do"), validators=[DataRequired(), Length(max=2000)])


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
