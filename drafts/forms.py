"""Forms of the drafts pages. Every edit of a version carries the `lock_version` the
drafter saw, so a stale save is refused instead of overwriting someone else's work."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    Field,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from accounts.clock import parse_date
from accounts.forms import MultiCheckboxField
from accounts.i18n import label_choices
from drafts.models import CLAUSE_KIND_LABELS, DRAFT_KIND_LABELS, DraftKind
from drafts.operations import CRITERIA_KINDS, REGULATION_KINDS
from drafts.tree import format_points, parse_points


class LockField(IntegerField):
    """The version's lock_version as the drafter saw it."""

    widget = HiddenInput()


class DraftForm(FlaskForm):
    title = StringField(_l("Tên dự thảo"), validators=[DataRequired(), Length(max=500)])
    kind = SelectField(_l("Loại dự thảo"), choices=lambda: label_choices(DRAFT_KIND_LABELS))
    drafters = MultiCheckboxField(_l("Cán bộ cùng soạn thảo"), coerce=int, validate_choice=True)


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp dự thảo"), validators=[FileRequired(_l("Hãy chọn một tệp."))])


class LockForm(FlaskForm):
    """A button that changes a version (publish, renumber, delete, move up/down)."""

    lock_version = LockField(validators=[InputRequired()])


class PointsField(StringField):
    """A maximum typed the Vietnamese way ("2,5"); `data` is a Decimal or None."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = parse_points(valuelist[0] if valuelist else "")
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_points(self.data) if isinstance(self.data, Decimal) else ""


class ClauseForm(FlaskForm):
    kind = SelectField(_l("Loại"))
    number = StringField(_l("Số hiệu"), validators=[Optional(), Length(max=20)])
    title = StringField(_l("Tiêu đề"), validators=[Optional(), Length(max=2000)])
    text = TextAreaField(_l("Nội dung"), validators=[Optional(), Length(max=50000)])
    max_points = PointsField(_l("Điểm chuẩn"))
    guidance = TextAreaField(_l("Cách chấm"), validators=[Optional(), Length(max=10000)])
    lock_version = LockField(validators=[InputRequired()])

    def for_draft(self, kind: DraftKind) -> ClauseForm:
        kinds = CRITERIA_KINDS if kind == DraftKind.CRITERIA else REGULATION_KINDS
        self.kind.choices = [(k.value, gettext(CLAUSE_KIND_LABELS[k])) for k in kinds]
        return self


class MoveForm(FlaskForm):
    parent = SelectField(_l("Chuyển vào bên trong"), coerce=int)
    lock_version = LockField(validators=[InputRequired()])


class RevisionForm(FlaskForm):
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)])


class DateTextField(StringField):
    """A date typed as dd/mm/yyyy (a date input's yyyy-mm-dd is accepted too)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if text:
            try:
                self.data = parse_date(text)
            except ValueError as exc:
                raise ValueError(str(_l("Ngày phải có dạng dd/mm/yyyy."))) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if isinstance(self.data, date) else ""


def _date_required(form: FlaskForm, field: Field) -> None:
    if field.data is None and not field.errors:
        raise ValidationError(str(_l("Hãy nhập ngày ký.")))


class AdoptForm(FlaskForm):
    version = SelectField(_l("Phiên bản được ban hành"), coerce=int)
    decision_number = StringField(_l("Số quyết định"), validators=[DataRequired(), Length(max=120)])
    decision_date = DateTextField(_l("Ngày ký (dd/mm/yyyy)"), validators=[_date_required])
    signer_name = StringField(_l("Người ký"), validators=[DataRequired(), Length(max=200)])
