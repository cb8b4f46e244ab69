from flask import Blueprint, render_template
from flask_login import login_required

from accounts.errors import ensure

bp = Blueprint("tasks", __name__)


@bp.route("/notifications")
@login_required
def notifications():  # type: ignore[no-untyped-def]
    return render_template("tasks/notifications.html")


@bp.route("/admin/reminders")
@login_required
def reminder_log():  # type: ignore[no-untyped-def]
    from flask_login import current_user

    ensure(current_user.can_administer())
    return render_template("tasks/reminders.html")
