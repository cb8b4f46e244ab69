"""Reminders and the scan log (notifications and the mail outbox are in notices.models).

A `Reminder` row is a decision to remind one person about one item for one
deadline: it is unique on (user, subject, deadline, kind, offset), so running the
scan twice, or two beats at once, never decides the same thing twice. A
reminder sent by e-mail points at the `notices.models.OutgoingMail` that carries it.
A `BackgroundJob` is one long piece of work (an import, an export) a person started
and can come back to.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import User, enum_type
from extensions import db
from notices.models import OutgoingMail


class ReminderKind(enum.StrEnum):
    CONSULTATION_DUE = "consultation_due"  # a unit has not answered, T−3 / T−1
    CONSULTATION_CLOSED = "consultation_closed"  # to the drafters: who did not answer
    SHEET_DUE = "sheet_due"  # whoever holds a sheet, before its step's deadline
    SHEET_OVERDUE = "sheet_overdue"  # escalation to the holder's supervisor
    MISSING_EVIDENCE = "missing_evidence"  # submitted self-scores without evidence
    SCORE_GAP = "score_gap"  # self-score and review score far apart


REMINDER_KIND_LABELS = {
    ReminderKind.CONSULTATION_DUE: N_("Nhắc hạn góp ý"),
    ReminderKind.CONSULTATION_CLOSED: N_("Hết hạn góp ý: đơn vị chưa gửi"),
    ReminderKind.SHEET_DUE: N_("Nhắc hạn chấm điểm"),
    ReminderKind.SHEET_OVERDUE: N_("Đôn đốc: quá hạn chấm điểm"),
    ReminderKind.MISSING_EVIDENCE: N_("Thiếu minh chứng"),
    ReminderKind.SCORE_GAP: N_("Chênh lệch điểm lớn"),
}


class SubjectType(enum.StrEnum):
    UNIT_RESPONSE = "unit_response"
    CONSULTATION = "consultation"
    SCORE_SHEET = "score_sheet"


class ReminderStatus(enum.StrEnum):
    PLANNED = "planned"  # decided; not yet delivered
    SENDING = "sending"  # in an e-mail that the mail server has not accepted yet
    SENT = "sent"
    FAILED = "failed"  # the e-mail was given up after MAIL_MAX_ATTEMPTS
    CANCELLED = "cancelled"  # no longer due when its turn came (extended, submitted…)


REMINDER_STATUS_LABELS = {
    ReminderStatus.PLANNED: N_("Đã lên lịch"),
    ReminderStatus.SENDING: N_("Đang gửi"),
    ReminderStatus.SENT: N_("Đã gửi"),
    ReminderStatus.FAILED: N_("Gửi thất bại"),
    ReminderStatus.CANCELLED: N_("Đã hủy"),
}


class Reminder(db.Model):
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "subject_type",
            "subject_id",
            "deadline",
            "kind",
            "offset_days",
            name="uq_reminders_decision",
        ),
        Index("ix_reminders_subject", "subject_type", "subject_id"),
        Index("ix_reminders_status_user", "status", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_type: Mapped[SubjectType] = mapped_column(enum_type(SubjectType))
    subject_id: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[ReminderKind] = mapped_column(enum_type(ReminderKind))
    # Days before the deadline (3, 1); 0 at the deadline, negative after it.
    offset_days: Mapped[int] = mapped_column(Integer)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReminderStatus] = mapped_column(
        enum_type(ReminderStatus), default=ReminderStatus.PLANNED
    )
    by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("outgoing_mails.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    mail: Mapped[OutgoingMail | None] = relationship()

    @property
    def kind_label(self) -> str:
        return REMINDER_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return REMINDER_STATUS_LABELS[self.status]

    @property
    def retried(self) -> bool:
        return self.attempts > 1


class ScanRun(db.Model):
    """One run of the deadline scan: when, what it decided, and how many mails it made."""

    __tablename__ = "reminder_scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # scan | digest | send_now
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    planned: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    in_app: Mapped[int] = mapped_column(Integer, default=0)
    mails: Mapped[int] = mapped_column(Integer, default=0)


class JobKind(enum.StrEnum):
    DRAFT_IMPORT = "draft_import"  # parse an upload; the preview reads the result
    CONSOLIDATION_DOCX = "consolidation_docx"
    CONSOLIDATION_XLSX = "consolidation_xlsx"
    COMPARISON_DOCX = "comparison_docx"
    RESULTS_XLSX = "results_xlsx"
    RESULTS_PDF = "results_pdf"


JOB_KIND_LABELS = {
    JobKind.DRAFT_IMPORT: N_("Nhập tệp dự thảo"),
    JobKind.CONSOLIDATION_DOCX: N_("Xuất bản tổng hợp, tiếp thu, giải trình (.docx)"),
    JobKind.CONSOLIDATION_XLSX: N_("Xuất bảng tổng hợp ý kiến (.xlsx)"),
    JobKind.COMPARISON_DOCX: N_("Xuất bảng so sánh (.docx)"),
    JobKind.RESULTS_XLSX: N_("Xuất kết quả chấm điểm (.xlsx)"),
    JobKind.RESULTS_PDF: N_("Xuất kết quả chấm điểm (PDF)"),
}


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATE_LABELS = {
    JobState.QUEUED: N_("Đang chờ"),
    JobState.RUNNING: N_("Đang chạy"),
    JobState.DONE: N_("Đã xong"),
    JobState.FAILED: N_("Không thành công"),
}


class BackgroundJob(db.Model):
    """One import or export run by a worker, with its progress and its result.

    The state changes only through tasks.background. `step` and `error` hold the
    Vietnamese text (a catalogue message id where there is one), translated when shown.
    """

    __tablename__ = "background_jobs"
    __table_args__ = (
        Index("ix_background_jobs_owner_created", "owner_id", "created_at"),
        Index("ix_background_jobs_state_started", "state", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_type(JobKind, 40))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # What the job is about (a draft, a consultation, a scoring period): for links and audit.
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    # What the worker needs besides the subject (an upload's token, a document symbol…).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_type(JobState), default=JobState.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(300), default="")
    # A file result lives under UPLOAD_DIR/jobs/, named by the job; a parse result is JSON.
    result_path: Mapped[str] = mapped_column(String(300), default="")
    result_name: Mapped[str] = mapped_column(String(300), default="")
    result_mimetype: Mapped[str] = mapped_column(String(120), default="")
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return JOB_KIND_LABELS[self.kind]

    @property
    def state_label(self) -> str:
        return JOB_STATE_LABELS[self.state]

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def has_file(self) -> bool:
        return self.state == JobState.DONE and bool(self.result_path)

    def can_view(self, user: User) -> bool:
        return user.id == self.owner_id or user.can_administer()
