"""Jinja filters and the navigation, shared by every package's templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import escape

from accounts import clock, idempotency
from accounts.i18n import note_text


@dataclass
class NavItem:
    label: str
    url: str
    endpoint_prefix: str


def navigation(user: Any) -> list[NavItem]:
    """Menu entries for this user: each one shown only where a predicate allows it."""
    if not user.is_authenticated:
        return []
    items = [NavItem(_("Trang chủ"), url_for("accounts.index"), "accounts.index")]
    items.append(NavItem(_("Dự thảo"), url_for("drafts.index"), "drafts."))
    if user.can_work_for_unit(user.unit_id) or user.can_verify_scores() or user.can_decide_scores():
        items.append(NavItem(_("Chấm điểm thi đua"), url_for("workflow.index"), "workflow."))
    if user.can_take_minutes():
        items.append(NavItem(_("Hội nghị"), url_for("conference.index"), "conference."))
    notices = _("Thông báo")
    count_unread = current_app.extensions.get("unread_notifications")
    if count_unread is not None and (unread := count_unread(user)):
        notices = f"{notices} ({unread})"
    items.append(NavItem(notices, url_for("tasks.notifications"), "tasks.notifications"))
    items.append(NavItem(_("Việc của tôi"), url_for("tasks.jobs_list"), "tasks.job"))
    if user.can_administer():
        items.append(NavItem(_("Đơn vị"), url_for("accounts.units"), "accounts.unit"))
        items.append(NavItem(_("Cụm, Khối"), url_for("accounts.years"), "accounts.year"))
        items.append(NavItem(_("Người dùng"), url_for("accounts.users"), "accounts.user"))
    if user.can_view_audit():
        items.append(NavItem(_("Nhật ký"), url_for("accounts.audit_log"), "accounts.audit"))
    if user.can_administer():
        items.append(NavItem(_("Nhắc việc"), url_for("tasks.reminder_log"), "tasks.reminder"))
    return items


# A value no id takes in practice, below 2**31 so the int converter accepts it.
_SLOT = 1_987_654_321


def url_pattern(endpoint: str, slot: str, **values: Any) -> Callable[[Any], str]:
    """`url_for` for the rows of a table: the URL is built once, with a placeholder for
    `slot`, and each row puts its id in. One `url_for` per link was a third of the
    time of a 30-row page."""
    prefix, _sep, suffix = url_for(endpoint, **values, **{slot: _SLOT}).partition(str(_SLOT))
    return lambda value: f"{prefix}{int(value)}{suffix}"


def _blank_none(value: Any) -> Any:
    """What `{{ x }}` prints: nothing for None, never the word "None"."""
    return "" if value is None else value


def register_template_helpers(app: Flask) -> None:
    # Set before any template is compiled: Jinja builds the finalize call into the code.
    app.jinja_env.finalize = _blank_none
    app.jinja_env.filters["date"] = clock.format_date
    app.jinja_env.filters["datetime"] = clock.format_datetime
    app.jinja_env.filters["days_left"] = clock.days_left
    app.jinja_env.filters["note"] = note_text
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.globals["url_pattern"] = url_pattern
    app.jinja_env.globals["idempotency_field"] = idempotency.form_field
    app.jinja_env.add_extension("jinja2.ext.do")
    # Where the per-render versions below are not in scope (a macro imported without
    # context), `_()` falls back to these: the same rules, the catalogue found per call.
    app.jinja_env.globals["gettext"] = _bound_gettext(lambda s: get_translations().ugettext(s))
    app.jinja_env.globals["ngettext"] = _bound_ngettext(
        lambda s, p, n: get_translations().ungettext(s, p, n)
    )

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from extensions import select_locale

        translations = get_translations()
        return {
            "current_locale": select_locale(),
            "now": clock.now,
            # The object itself, not the proxy: every attribute read through
            # `current_user` would otherwise go through Flask-Login's lookup again.
            "current_user": current_user._get_current_object(),
            "gettext": _bound_gettext(translations.ugettext),
            "ngettext": _bound_ngettext(translations.ungettext),
        }


# Jinja's `_()` resolves `gettext` from the template context, so these per-render
# versions take over from Flask-Babel's, which finds the catalogue again on every call:
# a long table calls `_()` hundreds of times. Unlike jinja2.ext's newstyle gettext, the
# text is escaped, not trusted, and %-formatted only when given variables (as
# Flask-Babel's Python gettext): `_()` also shows labels that are data, such as a sheet's
# state from a period's admin-entered steps, which must show as typed, "<" or "%"
# included. The catalogue holds no markup; formatting the escaped text escapes the
# variables too.
def _bound_gettext(gettext: Any) -> Any:
    @pass_context
    def bound(context: Context, string: str, **variables: Any) -> str:
        text = gettext(string)
        if context.eval_ctx.autoescape:
            text = escape(text)
        return text % variables if variables else text

    return bound


def _bound_ngettext(ngettext: Any) -> Any:
    @pass_context
    def bound(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = escape(text)
        return text % variables

    return bound
