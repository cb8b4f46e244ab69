"""In-app notifications and the outbox of e-mails, the records every package may write.

A `Notification` is one notice in a person's notification centre. An `OutgoingMail`
is one e-mail to one person (a digest of reminders, or notices); its content is
rendered when it is sent, from the rows that point at it. The tasks package sends
the mails; the domain packages only write these rows (through notices.notify).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import User, enum_type
from extensions import db


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
