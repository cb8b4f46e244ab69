from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from accounts.i18n import label_choices
from accounts.models import (
    GROUP_KIND_LABELS,
    ROLE_LABELS,
    SCOPE_LABELS,
    UNIT_KIND_LABELS,
    NotifyMode,
    Scope,
)


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes work without JavaScript and by keyboard, unlike a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(), EqualTo("new", message=_l("Hai mật khẩu không khớp."))],
    )


class ForgotPasswordForm(FlaskForm):
    login = StringField(
        _l("Tên đăng nhập hoặc e-mail"), validators=[DataRequired(), Length(max=200)]
    )


class SetPasswordForm(FlaskForm):
    new = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(), EqualTo("new", message=_l("Hai mật khẩu không khớp."))],
    )


class InviteForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=200)])
    unit = SelectField(_l("Đơn vị"), coerce=int)
    roles = MultiCheckboxField(_l("Vai trò"), choices=lambda: label_choices(ROLE_LABELS))


class PreferencesForm(FlaskForm):
    notify_mode = SelectField(
        _l("Nhận nhắc việc qua e-mail"),
        choices=[
            (NotifyMode.IMMEDIATE.value, _l("Gửi ngay")),
            (NotifyMode.DAILY.value, _l("Gộp một thư mỗi ngày")),
            (NotifyMode.OFF.value, _l("Không nhận (trừ thư đôn đốc quá hạn)")),
        ],
    )
    # Each language named in itself, as in the header's switch.
    language = SelectField(
        _l("Ngôn ngữ của giao diện và thư gửi bạn"),
        choices=[("vi", "Tiếng Việt"), ("en", "English")],
    )


class UnitForm(FlaskForm):
    name = StringField(_l("Tên đơn vị"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Tên viết tắt"), validators=[DataRequired(), Length(max=60)])
    kind = SelectField(_l("Loại đơn vị"), choices=lambda: label_choices(UNIT_KIND_LABELS))
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])


class MergeUnitForm(FlaskForm):
    target = SelectField(_l("Sáp nhập vào đơn vị"), coerce=int)


class UnitImportForm(FlaskForm):
    file = FileField(_l("Tệp CSV (name, short_name, kind, email)"), validators=[FileRequired()])


class DocumentSignerForm(FlaskForm):
    authority = StringField(
        _l("Thẩm quyền ký (nếu ký thay)"),
        validators=[Optional(), Length(max=80)],
        description=_l("Ví dụ: KT. VIỆN TRƯỞNG; để trống khi Viện trưởng ký."),
    )
    title = StringField(_l("Chức vụ người ký"), validators=[Optional(), Length(max=120)])
    name = StringField(_l("Họ và tên người ký"), validators=[Optional(), Length(max=120)])
    lock_version = HiddenField()


class YearForm(FlaskForm):
    year = IntegerField(_l("Năm thi đua"), validators=[DataRequired(), NumberRange(2000, 2100)])


class GroupForm(FlaskForm):
    name = StringField(_l("Tên Cụm/Khối"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Loại"), choices=lambda: label_choices(GROUP_KIND_LABELS))


class GroupMembersForm(FlaskForm):
    units = MultiCheckboxField(_l("Đơn vị thành viên"), coerce=int)
    leader = SelectField(_l("Cụm/Khối trưởng"), coerce=int)
    deputy = SelectField(_l("Cụm/Khối phó"), coerce=int)


class EligibilityForm(FlaskForm):
    unit = SelectField(_l("Đơn vị"), coerce=int)
    eligible = BooleanField(_l("Đủ điều kiện xét thi đua"), default=True)
    reason = TextAreaField(_l("Lý do"), validators=[Optional(), Length(max=1000)])


class UserForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=80)])
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=200)])
    unit = SelectField(_l("Đơn vị"), coerce=int)
    roles = MultiCheckboxField(_l("Vai trò"), choices=lambda: label_choices(ROLE_LABELS))
    active = BooleanField(_l("Đang hoạt động"), default=True)
    password = PasswordField(
        _l("Mật khẩu (để trống nếu không đổi)"), validators=[Optional(), Length(min=8)]
    )


def _at_least_one(form: FlaskForm, field: MultiCheckboxField) -> None:
    # Not DataRequired: it would mark every checkbox `required`, i.e. all to be ticked.
    if not field.data:
        raise ValidationError(_l("Hãy chọn ít nhất một phạm vi."))


# How long a new token lasts, in days, as the tokens page offers it.
TOKEN_LIFETIMES = [
    (30, _l("30 ngày")),
    (90, _l("90 ngày")),
    (180, _l("180 ngày")),
    (365, _l("1 năm")),
]


class TokenForm(FlaskForm):
    name = StringField(_l("Tên gợi nhớ"), validators=[Optional(), Length(max=120)])
    scopes = MultiCheckboxField(
        _l("Phạm vi"),
        choices=lambda: label_choices(SCOPE_LABELS),
        default=[Scope.READ.value],
        validators=[_at_least_one],
    )
    lifetime = SelectField(_l("Thời hạn"), coerce=int, choices=TOKEN_LIFETIMES, default=90)


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = StringField(_l("Thao tác"), validators=[Optional()])
    object_type = StringField(_l("Loại đối tượng"), validators=[Optional()])
    user = StringField(_l("Người thực hiện"), validators=[Optional()])
