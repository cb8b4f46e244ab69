"""Jinja filters and the navigation, shared by every package's templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts import clock


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
    notices = _("Thông báo")
    count_unread = current_app.extensions.get("unread_notifications")
    if count_unread is not None and (unread := count_unread(user)):
        notices = f"{notices} ({unread})"
    items.append(NavItem(notices, url_for("tasks.notifications"), "tasks.notifications"))
    if user.can_administer():
        items.append(NavItem(_("Đơn vị"), url_for("accounts.units"), "accounts.unit"))
        items.append(NavItem(_("Cụm, Khối"), url_for("accounts.years"), "accounts.year"))
        items.append(NavItem(_("Người dùng"), url_for("accounts.users"), "accounts.user"))
    if user.can_view_audit():
        items.append(NavItem(_("Nhật ký"), url_for("accounts.audit_log"), "accounts.audit"))
    if user.can_administer():
        items.append(NavItem(_("Nhắc việc"), url_for("tasks.reminder_log"), "tasks.reminder"))
    return items


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["date"] = clock.format_date
    app.jinja_env.filters["datetime"] = clock.format_datetime
    app.jinja_env.filters["days_left"] = clock.days_left
    app.jinja_env.globals["navigation"] = navigation
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from app import select_locale

        return {"current_locale": select_locale(), "now": clock.now, "current_user": current_user}
