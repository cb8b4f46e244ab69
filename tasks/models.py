"""Reminders, in-app notifications, outgoing mail and the scan log.

A `Reminder` row is a decision to remind one person about one item for one
deadline: it is unique on (user, subject, deadline, kind, offset), so running the
scan twice, or two beats at once, never decides the same thing twice. An
`OutgoingMail` is one e-mail to one person (a digest of reminders, or notices);
its content is rendered when it is sent, from the rows that point at it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import User, enum_type
from extensions import db


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


class MailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


MAIL_STATUS_LABELS = {
    MailStatus.QUEUED: N_("Chờ gửi"),
    MailStatus.SENDING: N_("Đang gửi"),
    MailStatus.SENT: N_("Đã gửi"),
    MailStatus.FAILED: N_("Gửi thất bại"),
    MailStatus.CANCELLED: N_("Đã hủy"),
}


class OutgoingMail(db.Model):
    """One e-mail to one person. Claimed with a lease while a worker sends it."""

    __tablename__ = "outgoing_mails"
    __table_args__ = (Index("ix_outgoing_mails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # "digest" or "notice"
    subject: Mapped[str] = mapped_column(String(300), default="")
    # Fixed when the mail is decided, so a resend after a crash carries the same id.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return MAIL_STATUS_LABELS[self.status]

    def can_retry(self, user: User) -> bool:
        return user.can_administer() and self.status == MailStatus.FAILED


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


class Notification(db.Model):
    """An in-app notice in a person's notification centre."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="SET NULL"), index=True
    )
    # The e-mail that carries (or carried) this notice, if any.
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("outgoing_mails.id", ondelete="SET NULL"), index=True
    )
    # Waiting for the person's daily digest (notify_mode = daily).
    digest_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    mail: Mapped[OutgoingMail | None] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def can_view(self, user: User) -> bool:
        return user.id == self.user_id

    def can_mark_read(self, user: User) -> bool:
        return user.id == self.user_id and self.read_at is None


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
