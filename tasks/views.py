"""The notification centre, and the administrators' reminder log and outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from accounts.errors import Invalid, NotFound, ensure
from accounts.models import User
from accounts.operations import get_or_404
from accounts.params import page_arg
from comments.consultation.models import Consultation, UnitResponse
from extensions import db
from notices import notify
from notices.models import MAIL_STATUS_LABELS, MailStatus, Notification, OutgoingMail
from tasks import background, jobs, mail
from tasks.models import (
    REMINDER_KIND_LABELS,
    REMINDER_STATUS_LABELS,
    BackgroundJob,
    Reminder,
    ReminderKind,
    ReminderStatus,
    ScanRun,
    SubjectType,
)
from workflow.models import ScoreSheet, ScoringPeriod

bp = Blueprint("tasks", __name__)

PAGE_SIZE = 50
# How often a job's page reloads itself while the job runs (a meta refresh: no JS needed).
REFRESH_SECONDS = 2


def _page() -> int:
    return page_arg()


# --- notification centre ------------------------------------------------------------------
@bp.route("/notifications")
@login_required
def notifications():  # type: ignore[no-untyped-def]
    only_unread = request.args.get("unread") == "1"
    page = _page()
    query = select(Notification).where(Notification.user_id == current_user.id)
    if only_unread:
        query = query.where(Notification.read_at.is_(None))
    rows = list(
        db.session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return render_template(
        "tasks/notifications.html",
        notices=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        only_unread=only_unread,
        unread=notify.unread_count(current_user),
    )


def _own_notification(notification_id: int) -> Notification:
    notification = get_or_404(Notification, notification_id, _("Không tìm thấy thông báo."))
    ensure(notification.can_view(current_user))
    return notification


def _safe_target(url: str) -> str:
    # Only links inside the app: a notification must not become an open redirect.
    if url.startswith("/") and not url.startswith("//"):
        return url
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    if url.startswith(public + "/"):
        return url[len(public) :]
    return url_for("tasks.notifications")


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def notification_read(notification_id: int):  # type: ignore[no-untyped-def]
    notification = _own_notification(notification_id)
    notify.mark_read(notification, actor=current_user)
    db.session.commit()
    return redirect(request.referrer or url_for("tasks.notifications"), 303)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def notification_open(notification_id: int):  # type: ignore[no-untyped-def]
    notification = _own_notification(notification_id)
    notify.mark_read(notification, actor=current_user)
    target = _safe_target(notification.url)
    db.session.commit()
    return redirect(target, 303)


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def notifications_read_all():  # type: ignore[no-untyped-def]
    count = notify.mark_all_read(current_user)
    db.session.commit()
    flash(_("Đã đánh dấu %(n)d thông báo là đã đọc.", n=count), "success")
    return redirect(url_for("tasks.notifications"), 303)


# --- background jobs ("Việc của tôi") ----------------------------------------------------
@bp.route("/jobs")
@login_required
def jobs_list():  # type: ignore[no-untyped-def]
    return render_template("tasks/jobs.html", jobs=background.recent_jobs(current_user))


def _job(job_id: int) -> BackgroundJob:
    job = db.session.get(BackgroundJob, job_id)
    # Someone else's job is "not found", not "forbidden": its existence is not theirs to know.
    if job is None or not job.can_view(current_user):
        raise NotFound(_("Không tìm thấy công việc này."))
    return job


@bp.route("/jobs/<int:job_id>")
@login_required
def job(job_id: int):  # type: ignore[no-untyped-def]
    job = _job(job_id)
    return render_template(
        "tasks/job.html",
        job=job,
        result_url=background.result_url(job),
        origin_url=background.origin_url(job),
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.route("/jobs/<int:job_id>/download")
@login_required
def job_download(job_id: int):  # type: ignore[no-untyped-def]
    return background.send_result(_job(job_id))


# --- reminder log ------------------------------------------------------------------------------
def _choice(name: str, allowed: Sequence[str]) -> str:
    value = request.args.get(name, "")
    return value if value in allowed else ""


@bp.route("/admin/reminders")
@login_required
def reminder_log():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    filters = {
        "status": _choice("status", [s.value for s in ReminderStatus]),
        "kind": _choice("kind", [k.value for k in ReminderKind]),
        "retried": _choice("retried", ["1"]),
        "user": request.args.get("user", "").strip()[:80],
    }
    page = _page()
    query = select(Reminder).options(joinedload(Reminder.user).joinedload(User.unit))
    if filters["status"]:
        query = query.where(Reminder.status == ReminderStatus(filters["status"]))
    if filters["kind"]:
        query = query.where(Reminder.kind == ReminderKind(filters["kind"]))
    if filters["retried"]:
        query = query.where(Reminder.attempts > 1)
    if filters["user"]:
        pattern = f"%{filters['user']}%"
        query = query.join(User, User.id == Reminder.user_id).where(
            or_(User.username.ilike(pattern), User.full_name.ilike(pattern))
        )
    rows = list(
        db.session.scalars(
            query.order_by(Reminder.created_at.desc(), Reminder.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        ).unique()
    )
    reminders = rows[:PAGE_SIZE]
    counts = dict(
        db.session.execute(
            select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status)
        ).all()
    )
    return render_template(
        "tasks/reminders.html",
        reminders=reminders,
        subjects=subject_labels(reminders),
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        filters=filters,
        counts=counts,
        status_labels=REMINDER_STATUS_LABELS,
        kind_labels=REMINDER_KIND_LABELS,
        failed_mails=_failed_mails(),
        runs=list(db.session.scalars(select(ScanRun).order_by(ScanRun.id.desc()).limit(10))),
        consultations=_open_consultations(),
        sheets=_pending_sheets(),
    )


def subject_labels(reminders: Sequence[Reminder]) -> dict[tuple[str, int], str]:
    """A readable name for each reminder's subject: three queries whatever the page."""
    ids: dict[SubjectType, set[int]] = {t: set() for t in SubjectType}
    for reminder in reminders:
        ids[reminder.subject_type].add(reminder.subject_id)
    labels: dict[tuple[str, int], str] = {}
    if ids[SubjectType.UNIT_RESPONSE]:
        for response in db.session.scalars(
            select(UnitResponse)
            .where(UnitResponse.id.in_(ids[SubjectType.UNIT_RESPONSE]))
            .options(
                joinedload(UnitResponse.unit),
                joinedload(UnitResponse.consultation).joinedload(Consultation.draft),
            )
        ):
            labels[(SubjectType.UNIT_RESPONSE.value, response.id)] = (
                f"{response.unit.short_name} – {response.consultation.draft.title}"
            )
    if ids[SubjectType.CONSULTATION]:
        for consultation in db.session.scalars(
            select(Consultation)
            .where(Consultation.id.in_(ids[SubjectType.CONSULTATION]))
            .options(joinedload(Consultation.draft))
        ):
            labels[(SubjectType.CONSULTATION.value, consultation.id)] = (
                f"{consultation.draft.title} ({consultation.display_label.lower()})"
            )
    if ids[SubjectType.SCORE_SHEET]:
        for sheet in db.session.scalars(
            select(ScoreSheet)
            .where(ScoreSheet.id.in_(ids[SubjectType.SCORE_SHEET]))
            .options(joinedload(ScoreSheet.unit), joinedload(ScoreSheet.period))
        ):
            labels[(SubjectType.SCORE_SHEET.value, sheet.id)] = (
                f"{_('Phiếu chấm điểm')} {sheet.unit.short_name} – {sheet.period.name}"
            )
    return labels


def _failed_mails() -> list[OutgoingMail]:
    return list(
        db.session.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.status == MailStatus.FAILED)
            .options(joinedload(OutgoingMail.user))
            .order_by(OutgoingMail.id.desc())
            .limit(20)
        )
    )


def _open_consultations() -> list[Consultation]:
    return list(
        db.session.scalars(
            select(Consultation)
            .where(Consultation.closed_at.is_(None))
            .options(joinedload(Consultation.draft))
            .order_by(Consultation.closes_at)
            .limit(200)
        )
    )


def _pending_sheets() -> list[ScoreSheet]:
    return list(
        db.session.scalars(
            select(ScoreSheet)
            .join(ScoringPeriod, ScoringPeriod.id == ScoreSheet.period_id)
            .where(ScoreSheet.due_at.is_not(None))
            .options(joinedload(ScoreSheet.unit), joinedload(ScoreSheet.period))
            .order_by(ScoreSheet.due_at)
            .limit(300)
        )
    )


def parse_send_now(form: Any) -> tuple[SubjectType, int]:
    """The "Gửi ngay" form: one consultation or one score sheet."""
    kind = {"consultation": SubjectType.CONSULTATION, "sheet": SubjectType.SCORE_SHEET}.get(
        form.get("subject", "")
    )
    try:
        subject_id = int(form.get("subject_id", ""))
    except ValueError:
        subject_id = 0
    if kind is None or subject_id < 1:
        raise Invalid(_("Hãy chọn một đợt lấy ý kiến hoặc một phiếu chấm điểm."))
    return kind, subject_id


@bp.route("/admin/reminders/send-now", methods=["POST"])
@login_required
def send_now():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    kind, subject_id = parse_send_now(request.form)
    jobs.request_send_now(kind, subject_id, actor=current_user)
    db.session.commit()
    flash(_("Đã yêu cầu gửi nhắc việc ngay. Kết quả hiện trong nhật ký sau ít giây."), "success")
    return redirect(url_for("tasks.reminder_log"), 303)


@bp.route("/admin/mails/<int:mail_id>/retry", methods=["POST"])
@login_required
def retry_mail(mail_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    outgoing = get_or_404(OutgoingMail, mail_id, _("Không tìm thấy thư."))
    jobs.retry_failed_mail(outgoing, actor=current_user)
    db.session.commit()
    flash(_("Đã đưa thư vào hàng đợi gửi lại."), "success")
    return redirect(url_for("tasks.reminder_log"), 303)


# --- outbox (the default mail backend) ------------------------------------------------------------
@bp.route("/admin/outbox")
@login_required
def outbox():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    config = current_app.config
    return render_template(
        "tasks/outbox.html",
        entries=mail.outbox_entries(config["MAIL_OUTBOX_DIR"]),
        smtp=bool(config["MAIL_SERVER"]),
        mails=list(
            db.session.scalars(
                select(OutgoingMail)
                .options(joinedload(OutgoingMail.user))
                .order_by(OutgoingMail.id.desc())
                .limit(50)
            )
        ),
        mail_status_labels=MAIL_STATUS_LABELS,
    )


def _outbox_message(name: str) -> Any:
    message = mail.outbox_message(current_app.config["MAIL_OUTBOX_DIR"], name)
    if message is None:
        abort(404)
    return message


@bp.route("/admin/outbox/<name>")
@login_required
def outbox_mail(name: str):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    message = _outbox_message(name)
    text, _html = mail.message_parts(message)
    headers = {key: str(message[key] or "") for key in ("Subject", "From", "To", "Message-ID")}
    return render_template(
        "tasks/outbox_mail.html",
        name=name,
        headers=headers,
        sent_at=mail.header_datetime(message["Date"]),
        text=text,
    )


@bp.route("/admin/outbox/<name>/html")
@login_required
def outbox_html(name: str):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    _text, html = mail.message_parts(_outbox_message(name))
    response = current_app.response_class(html, mimetype="text/html")
    # The mail's own HTML, sandboxed: no scripts, no requests, inline styles only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
    )
    return response
