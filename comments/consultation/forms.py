"""Forms of the consultation pages. Choices are filled in by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from accounts.forms import MultiCheckboxField
from accounts.i18n import label_choices
from comments.consultation.models import VISIBILITY_LABELS, Visibility
from comments.consultation.operations import DEFAULT_MEETING_FORM, MAX_COMMENT_LENGTH

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
CONFERENCE_ROWS = 6


class OpenConsultationForm(FlaskForm):
    version = SelectField(_l("Phiên bản lấy ý kiến"), coerce=int)
    units = MultiCheckboxField(_l("Mời từng đơn vị"), coerce=int)
    groups = MultiCheckboxField(_l("Hoặc mời cả Cụm, Khối thi đua (năm hiện tại)"), coerce=int)
    opens_at = DateTimeLocalField(
        _l("Bắt đầu nhận góp ý"), format=DATETIME_FORMAT, validators=[DataRequired()]
    )
    closes_at = DateTimeLocalField(
        _l("Hạn góp ý"), format=DATETIME_FORMAT, validators=[DataRequired()]
    )
    visibility = RadioField(
        _l("Chế độ xem ý kiến"),
        choices=lambda: label_choices(VISIBILITY_LABELS),
        default=Visibility.BLIND.value,
    )
    letter_number = StringField(
        _l("Số công văn xin ý kiến"), validators=[DataRequired(), Length(max=120)]
    )
    letter_text = TextAreaField(
        _l("Nội dung công văn"), validators=[Length(max=MAX_COMMENT_LENGTH)]
    )
    attachments = MultipleFileField(_l("Tệp đính kèm (PDF, Word, Excel)"))


class CommentForm(FlaskForm):
    text = TextAreaField(
        _l("Nội dung góp ý"), validators=[DataRequired(), Length(max=MAX_COMMENT_LENGTH)]
    )
    proposed_text = TextAreaField(
        _l("Đề xuất sửa đổi (không bắt buộc): nội dung mới của điều khoản"),
        validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)],
    )
    # The version the editor started from: a stale one means someone else saved first.
    lock_version = HiddenField()


class LockForm(FlaskForm):
    """A button that acts on a comment the user saw at `lock_version`."""

    lock_version = HiddenField()


class SubmitPositionForm(FlaskForm):
    agrees = HiddenField(default="0")
    fingerprint = HiddenField()


class ExtendDeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(
        _l("Hạn mới của đơn vị"), format=DATETIME_FORMAT, validators=[DataRequired()]
    )


class AttachmentForm(FlaskForm):
    file = FileField(_l("Tệp đính kèm (PDF, Word, Excel)"), validators=[FileRequired()])


class ImportFileForm(FlaskForm):
    file = FileField(
        _l("Tệp của đơn vị: công văn góp ý, dự thảo đã sửa hoặc phiếu góp ý (.docx, .pdf)"),
        validators=[FileRequired()],
    )


class ImportConfirmForm(FlaskForm):
    """The preview's confirmation; each item's clause and inclusion are read by index."""

    token = HiddenField()
    count = HiddenField()


class OpinionRow(Form):
    unit = SelectField(_l("Đơn vị"), coerce=int, validators=[Optional()])
    clause = SelectField(_l("Điều khoản"), validators=[Optional()])
    text = TextAreaField(_l("Nội dung ý kiến"), validators=[Length(max=MAX_COMMENT_LENGTH)])


class ConferenceForm(FlaskForm):
    meeting_date = DateField(_l("Ngày họp"), validators=[InputRequired()])
    meeting_form = StringField(
        _l("Hình thức hội nghị"),
        default=DEFAULT_MEETING_FORM,
        validators=[DataRequired(), Length(max=200)],
    )
    rows = FieldList(FormField(OpinionRow), min_entries=CONFERENCE_ROWS, max_entries=50)


class CommentFilterForm(FlaskForm):
    """The drafter's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    unit = SelectField(_l("Đơn vị"), coerce=int, validators=[Optional()], default=0)
    clause = SelectField(_l("Điều khoản"), validators=[Optional()], default="")
    status = SelectField(_l("Trạng thái của đơn vị"), validators=[Optional()], default="")
    source = SelectField(_l("Nguồn ý kiến"), validators=[Optional()], default="")
    q = StringField(_l("Tìm trong nội dung (không cần dấu)"), validators=[Length(max=200)])
    only_commented = SelectField(
        _l("Hiển thị"),
        choices=[("", _l("Toàn bộ dự thảo")), ("1", _l("Chỉ điều khoản có ý kiến"))],
        validators=[Optional()],
        default="",
    )
