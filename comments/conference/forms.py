"""Forms of the conference pages. Choices are filled in by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from accounts.forms import MultiCheckboxField
from accounts.i18n import label_choices
from comments.conference.models import MEETING_MODE_LABELS, MeetingMode
from comments.conference.operations import (
    MAX_NAME_LENGTH,
    MAX_PLACE_LENGTH,
    MAX_TEXT_LENGTH,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class MeetingForm(FlaskForm):
    starts_at = DateTimeLocalField(
        _l("Thời gian bắt đầu"), format=DATETIME_FORMAT, validators=[DataRequired()]
    )
    mode = SelectField(
        _l("Hình thức"),
        choices=lambda: label_choices(MEETING_MODE_LABELS),
        default=MeetingMode.ONLINE.value,
    )
    place = StringField(
        _l("Địa điểm (điểm cầu)"), validators=[DataRequired(), Length(max=MAX_PLACE_LENGTH)]
    )
    chair_name = StringField(
        _l("Người chủ trì"), validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)]
    )
    chair_title = StringField(_l("Chức vụ người chủ trì"), validators=[Length(max=MAX_NAME_LENGTH)])
    lock_version = HiddenField()


class SecretariesForm(FlaskForm):
    secretaries = MultiCheckboxField(_l("Thư ký hội nghị"), coerce=int)


class OpinionForm(FlaskForm):
    """One opinion: the form stays on the page, focused, after each save."""

    speaker = StringField(
        _l("Người phát biểu"), validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)]
    )
    unit = SelectField(_l("Đơn vị"), coerce=int, validators=[Optional()])
    clause = StringField(
        _l("Điều khoản (ví dụ 5.2 hoặc Điều 5 khoản 2; để trống: ý kiến chung)"),
        validators=[Length(max=200)],
    )
    text = TextAreaField(
        _l("Nội dung ý kiến"), validators=[DataRequired(), Length(max=MAX_TEXT_LENGTH)]
    )


class CurrentClauseForm(FlaskForm):
    on_screen = StringField(
        _l("Điều khoản đang thảo luận (để trống: mọi ý kiến; “chung”: ý kiến chung)"),
        validators=[Length(max=200)],
    )


class ConclusionsForm(FlaskForm):
    conclusions = TextAreaField(
        _l("Kết luận của chủ trì hội nghị"), validators=[Length(max=MAX_TEXT_LENGTH)]
    )
    lock_version = HiddenField()
