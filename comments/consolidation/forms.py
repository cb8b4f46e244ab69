"""Forms of the consolidation pages."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from accounts.forms import MultiCheckboxField
from accounts.i18n import label_choices
from comments.consultation.models import DECISION_LABELS


class DispositionForm(FlaskForm):
    """One answer for the selected comments; their ids travel as hidden `comment` inputs."""

    decision = RadioField(
        _l("Quyết định"),
        choices=lambda: label_choices(DECISION_LABELS),
        validators=[InputRequired(message=_l("Hãy chọn một quyết định."))],
    )
    explanation = TextAreaField(
        _l("Nội dung tiếp thu, giải trình"),
        validators=[Length(max=20000)],
        description=_l("Bắt buộc, trừ khi tiếp thu toàn bộ: nêu lý do hoặc nội dung giải trình."),
    )
    # The answers the drafter was looking at, as "id:lock_version,…" (optimistic locking).
    expected = HiddenField()


def format_expected(versions: Mapping[int, int]) -> str:
    return ",".join(f"{ident}:{version}" for ident, version in sorted(versions.items()))


def parse_expected(text: str | None) -> dict[int, int]:
    """Malformed pairs are dropped: the operation then reports the answer as changed."""
    versions: dict[int, int] = {}
    for pair in (text or "").split(","):
        ident, _sep, version = pair.partition(":")
        if ident.strip().isdigit() and version.strip().isdigit():
            versions[int(ident)] = int(version)
    return versions


class VersionPickerForm(FlaskForm):
    """The diff page's GET form: no state changes, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    old = SelectField(_l("Phiên bản trước"), coerce=int)
    new = SelectField(_l("Phiên bản sau"), coerce=int)
    changed = BooleanField(_l("Chỉ hiện điều khoản có thay đổi"))


class ChangeLinkForm(FlaskForm):
    comments = MultiCheckboxField(_l("Ý kiến góp ý được giải quyết bởi thay đổi này"), coerce=int)
