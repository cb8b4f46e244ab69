"""JSON twins of the notification centre and the reminder log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from accounts.apispec import DATETIME, ID, api_route, current_api_user, list_of
from accounts.errors import Invalid, NotFound, ensure
from accounts.models import Scope
from accounts.operations import get_or_404
from drafts.api import PREVIEW, preview_json
from drafts.operations import ImportPreview
from extensions import db
from notices import notify
from notices.models import MailStatus, Notification, OutgoingMail
from tasks import background, jobs
from tasks.models import (
    BackgroundJob,
    JobKind,
    JobState,
    Reminder,
    ReminderKind,
    ReminderStatus,
    SubjectType,
)

bp = Blueprint("tasks_api", __name__, url_prefix="/api/v1")

NULLABLE_DATETIME = {**DATETIME, "nullable": True}
NOTIFICATION = {
    "type": "object",
    "required": ["id", "kind", "title", "created_at", "read"],
    "properties": {
        "id": ID,
        "kind": {"type": "string"},
        "title": {"type": "string"},
        "body": {"type": "string"},
        "url": {"type": "string"},
        "escalation": {"type": "boolean"},
        "created_at": DATETIME,
        "read": {"type": "boolean"},
        "read_at": NULLABLE_DATETIME,
    },
}
NOTIFICATIONS = {
    "type": "object",
    "required": ["items", "unread"],
    "properties": {
        "items": {"type": "array", "items": NOTIFICATION},
        "unread": {"type": "integer"},
    },
}
MARKED = {"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer"}}}
REMINDER = {
    "type": "object",
    "required": ["id", "user_id", "subject_type", "subject_id", "deadline", "kind", "status"],
    "properties": {
        "id": ID,
        "user_id": ID,
        "username": {"type": "string"},
        "subject_type": {"type": "string", "enum": [t.value for t in SubjectType]},
        "subject_id": ID,
        "deadline": DATETIME,
        "kind": {"type": "string", "enum": [k.value for k in ReminderKind]},
        "offset_days": {"type": "integer"},
        "escalation": {"type": "boolean"},
        "status": {"type": "string", "enum": [s.value for s in ReminderStatus]},
        "by_email": {"type": "boolean"},
        "attempts": {"type": "integer"},
        "last_error": {"type": "string"},
        "next_attempt_at": NULLABLE_DATETIME,
        "mail_id": {"type": "integer", "nullable": True},
        "created_at": DATETIME,
        "sent_at": NULLABLE_DATETIME,
    },
}
MAIL = {
    "type": "object",
    "required": ["id", "user_id", "to", "status", "attempts"],
    "properties": {
        "id": ID,
        "user_id": ID,
        "to": {"type": "string"},
        "kind": {"type": "string"},
        "subject": {"type": "string"},
        "message_id": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in MailStatus]},
        "attempts": {"type": "integer"},
        "last_error": {"type": "string"},
        "next_attempt_at": NULLABLE_DATETIME,
        "created_at": DATETIME,
        "sent_at": NULLABLE_DATETIME,
    },
}
SEND_NOW_IN = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {"consultation_id": ID, "sheet_id": ID},
}
QUEUED = {
    "type": "object",
    "required": ["queued", "subject_type", "subject_id"],
    "properties": {
        "queued": {"type": "boolean"},
        "subject_type": {"type": "string"},
        "subject_id": ID,
    },
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "url": n.url,
        "escalation": n.escalation,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
        "read_at": _iso(n.read_at),
    }


def reminder_json(r: Reminder) -> dict[str, Any]:
    return {
        "id": r.id,
        "user_id": r.user_id,
        "username": r.user.username,
        "subject_type": r.subject_type.value,
        "subject_id": r.subject_id,
        "deadline": r.deadline.isoformat(),
        "kind": r.kind.value,
        "offset_days": r.offset_days,
        "escalation": r.escalation,
        "status": r.status.value,
        "by_email": r.by_email,
        "attempts": r.attempts,
        "last_error": r.last_error,
        "next_attempt_at": _iso(r.next_attempt_at),
        "mail_id": r.mail_id,
        "created_at": r.created_at.isoformat(),
        "sent_at": _iso(r.sent_at),
    }


def mail_json(m: OutgoingMail) -> dict[str, Any]:
    return {
        "id": m.id,
        "user_id": m.user_id,
        "to": m.to_address,
        "kind": m.kind,
        "subject": m.subject,
        "message_id": m.message_id,
        "status": m.status.value,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "next_attempt_at": _iso(m.next_attempt_at),
        "created_at": m.created_at.isoformat(),
        "sent_at": _iso(m.sent_at),
    }


@api_route(
    bp,
    "/notifications",
    methods=["GET"],
    scope=Scope.READ,
    summary="Thông báo của tôi",
    tags=["notifications"],
    response=NOTIFICATIONS,
    query={
        "unread": {"type": "string", "enum": ["0", "1"]},
        "limit": {"type": "integer", "minimum": 1},
    },
)
def list_notifications(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    stmt = select(Notification).where(Notification.user_id == user.id)
    if query.get("unread") == "1":
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc())
    rows = db.session.scalars(stmt.limit(min(query.get("limit", 100), 500)))
    return {"items": [notification_json(n) for n in rows], "unread": notify.unread_count(user)}


@api_route(
    bp,
    "/notifications/<int:notification_id>/read",
    methods=["POST"],
    scope=Scope.READ,
    summary="Đánh dấu một thông báo đã đọc",
    tags=["notifications"],
    response=NOTIFICATION,
)
def read_notification(notification_id: int):  # type: ignore[no-untyped-def]
    notification = get_or_404(Notification, notification_id, _("Không tìm thấy thông báo."))
    ensure(notification.can_view(current_api_user()))
    notify.mark_read(notification, actor=current_api_user())
    db.session.commit()
    return notification_json(notification)


@api_route(
    bp,
    "/notifications/read-all",
    methods=["POST"],
    scope=Scope.READ,
    summary="Đánh dấu tất cả thông báo đã đọc",
    tags=["notifications"],
    response=MARKED,
)
def read_all_notifications():  # type: ignore[no-untyped-def]
    marked = notify.mark_all_read(current_api_user())
    db.session.commit()
    return {"marked": marked}


@api_route(
    bp,
    "/reminders",
    methods=["GET"],
    scope=Scope.READ,
    summary="Nhật ký nhắc việc",
    tags=["reminders"],
    response=list_of(REMINDER),
    query={
        "status": {"type": "string", "enum": [s.value for s in ReminderStatus]},
        "kind": {"type": "string", "enum": [k.value for k in ReminderKind]},
        "subject_type": {"type": "string", "enum": [t.value for t in SubjectType]},
        "subject_id": {"type": "integer", "minimum": 1},
        "limit": {"type": "integer", "minimum": 1},
    },
)
def list_reminders(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    stmt = select(Reminder).options(joinedload(Reminder.user))
    if "status" in query:
        stmt = stmt.where(Reminder.status == ReminderStatus(query["status"]))
    if "kind" in query:
        stmt = stmt.where(Reminder.kind == ReminderKind(query["kind"]))
    if "subject_type" in query:
        stmt = stmt.where(Reminder.subject_type == SubjectType(query["subject_type"]))
    if "subject_id" in query:
        stmt = stmt.where(Reminder.subject_id == query["subject_id"])
    stmt = stmt.order_by(Reminder.id.desc()).limit(min(query.get("limit", 100), 1000))
    return {"items": [reminder_json(r) for r in db.session.scalars(stmt)]}


@api_route(
    bp,
    "/reminders/send-now",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Gửi ngay nhắc việc cho một đợt lấy ý kiến hoặc một phiếu chấm điểm",
    tags=["reminders"],
    body=SEND_NOW_IN,
    response=QUEUED,
    status=202,
)
def send_reminders_now(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    if "consultation_id" in body:
        kind, subject_id = SubjectType.CONSULTATION, body["consultation_id"]
    elif "sheet_id" in body:
        kind, subject_id = SubjectType.SCORE_SHEET, body["sheet_id"]
    else:  # pragma: no cover - the schema allows exactly one of the two
        raise Invalid(_("Cần consultation_id hoặc sheet_id."))
    jobs.request_send_now(kind, subject_id, actor=current_api_user())
    db.session.commit()
    return {"queued": True, "subject_type": kind.value, "subject_id": subject_id}, 202


@api_route(
    bp,
    "/mails",
    methods=["GET"],
    scope=Scope.READ,
    summary="Thư đi (trạng thái gửi)",
    tags=["reminders"],
    response=list_of(MAIL),
    query={
        "status": {"type": "string", "enum": [s.value for s in MailStatus]},
        "limit": {"type": "integer", "minimum": 1},
    },
)
def list_mails(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    stmt = select(OutgoingMail)
    if "status" in query:
        stmt = stmt.where(OutgoingMail.status == MailStatus(query["status"]))
    stmt = stmt.order_by(OutgoingMail.id.desc()).limit(min(query.get("limit", 100), 1000))
    return {"items": [mail_json(m) for m in db.session.scalars(stmt)]}


@api_route(
    bp,
    "/mails/<int:mail_id>/retry",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Gửi lại thư đã thất bại",
    tags=["reminders"],
    response=MAIL,
)
def retry_mail(mail_id: int):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    outgoing = get_or_404(OutgoingMail, mail_id, _("Không tìm thấy thư."))
    jobs.retry_failed_mail(outgoing, actor=current_api_user())
    db.session.commit()
    db.session.refresh(outgoing)
    return mail_json(outgoing)


# --- background jobs -----------------------------------------------------------------------
JOB = {
    "type": "object",
    "required": ["id", "kind", "state", "progress", "created_at"],
    "properties": {
        "id": ID,
        "kind": {"type": "string", "enum": [k.value for k in JobKind]},
        "kind_label": {"type": "string"},
        "state": {"type": "string", "enum": [s.value for s in JobState]},
        "state_label": {"type": "string"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "step": {"type": "string"},
        "subject_type": {"type": "string"},
        "subject_id": ID,
        "error": {"type": "string", "nullable": True},
        "result": {
            "type": "object",
            "nullable": True,
            "description": "Khi đã xong: đường dẫn tải tệp (download), hoặc bản xem trước "
            "của tệp nhập (preview, kèm mã xác nhận token cho /drafts/{id}/imports/confirm).",
            "properties": {
                "download": {"type": "string"},
                "filename": {"type": "string"},
                "preview": PREVIEW,
            },
        },
        "created_at": DATETIME,
        "started_at": NULLABLE_DATETIME,
        "finished_at": NULLABLE_DATETIME,
    },
}


def job_json(job: BackgroundJob) -> dict[str, Any]:
    result: dict[str, Any] | None = None
    if job.state == JobState.DONE:
        if job.kind == JobKind.DRAFT_IMPORT and job.result_data:
            data = job.result_data
            preview = ImportPreview.from_json(data["preview"])
            result = {"preview": preview_json(preview, data["token"], data["filename"])}
        else:
            result = {"download": background.result_url(job, api=True), "filename": job.result_name}
    return {
        "id": job.id,
        "kind": job.kind.value,
        "kind_label": _(job.kind_label),
        "state": job.state.value,
        "state_label": _(job.state_label),
        "progress": job.progress,
        "step": _(job.step) if job.step else "",
        "subject_type": job.subject_type,
        "subject_id": job.subject_id,
        "error": _(job.error) if job.error else None,
        "result": result,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def _job(job_id: int) -> BackgroundJob:
    job = db.session.get(BackgroundJob, job_id)
    if job is None or not job.can_view(current_api_user()):
        raise NotFound(_("Không tìm thấy công việc này."))
    return job


@api_route(
    bp,
    "/jobs",
    methods=["GET"],
    scope=Scope.READ,
    summary="Việc của tôi: các việc chạy nền gần đây",
    tags=["jobs"],
    response=list_of(JOB),
)
def list_jobs():  # type: ignore[no-untyped-def]
    return {"items": [job_json(j) for j in background.recent_jobs(current_api_user())]}


@api_route(
    bp,
    "/jobs/<int:job_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Trạng thái, tiến độ và kết quả của một việc chạy nền",
    tags=["jobs"],
    response=JOB,
)
def job(job_id: int):  # type: ignore[no-untyped-def]
    return job_json(_job(job_id))


@api_route(
    bp,
    "/jobs/<int:job_id>/download",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải tệp kết quả của một việc chạy nền đã xong",
    tags=["jobs"],
    content_type="application/octet-stream",
)
def job_download(job_id: int):  # type: ignore[no-untyped-def]
    return background.send_result(_job(job_id))
