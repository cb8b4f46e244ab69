"""Celery tasks: the deadline scan, the daily digest, sending one mail, the retry sweep.

Tasks receive ids, never objects, and are safe to run twice:

* the scan's decisions are unique rows (tasks.scans);
* a mail is sent by whoever claims it: an UPDATE moves it to "sending" with a
  lease, so two workers never send it at the same time;
* it is marked sent only after the SMTP server accepted it. A worker that dies
  between the server's "250 OK" and our commit leaves the mail "sending"; when the
  lease runs out the sweep sends it again with the SAME Message-ID. Delivery is
  therefore at least once, and a duplicate can be recognised (and is merged by
  most mail clients) by its Message-ID; no reminder is ever lost;
* a refused send is retried with exponential backoff, up to MAIL_MAX_ATTEMPTS,
  then the mail and its reminders are marked failed, visibly, in the log.

The database is the queue of record: a task message lost by the broker only delays
work until the next sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, or_, select, update

from accounts import audit, invites
from accounts.clock import now
from accounts.errors import Conflict, NotFound
from accounts.models import User
from comments.consultation.models import Consultation
from extensions import db, enqueue
from notices.models import MailStatus, OutgoingMail
from notices.notify import SEND_MAIL, after_commit
from tasks.mail import (
    MailError,
    account_mail_context,
    build_message,
    current_backend,
    items_summary,
    mail_locale,
    render_mail,
)
from tasks.models import Reminder, ReminderStatus, ScanRun, SubjectType
from tasks.scans import compose_mail, deliver_due, scan_due_reminders
from workflow.models import ScoreSheet

log = logging.getLogger(__name__)

SCAN = "draftflow.scan_reminders"
DIGEST = "draftflow.daily_digest"
SWEEP = "draftflow.retry_sweep"
SEND_NOW = "draftflow.send_now"


def retry_delay(attempt: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff after the `attempt`-th failure: base, 2·base, 4·base, … ≤ cap."""
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), cap))


# --- scans ---------------------------------------------------------------------------------
def run_scan(moment: datetime | None = None, *, digest: bool = False) -> dict[str, int]:
    """Decide (commit), then deliver (commit), then hand the mails to the worker."""
    moment = moment or now()
    run = ScanRun(kind="digest" if digest else "scan", started_at=moment)
    db.session.add(run)
    planned = scan_due_reminders(moment)
    run.planned = sum(planned.values())
    # The decisions stand even if delivery fails below; the next run delivers them.
    db.session.commit()
    return _deliver(run, moment, digest=digest)


def _deliver(
    run: ScanRun,
    moment: datetime,
    *,
    digest: bool = False,
    force: bool = False,
    subjects: Any = (),
) -> dict[str, int]:
    delivery = deliver_due(moment, digest=digest, force=force, subjects=subjects)
    run.cancelled, run.in_app, run.mails = (
        delivery.cancelled,
        delivery.in_app,
        len(delivery.mail_ids),
    )
    run.finished_at = now()
    db.session.commit()
    for mail_id in delivery.mail_ids:
        enqueue(SEND_MAIL, mail_id)
    result = {
        "planned": run.planned,
        "cancelled": run.cancelled,
        "in_app": run.in_app,
        "mails": run.mails,
    }
    _prune_runs(moment)
    return result


def _prune_runs(moment: datetime) -> None:
    # The run log is for "is the worker alive, what did it do lately", not history.
    cutoff = moment - timedelta(days=int(current_app.config["REMINDER_RUN_LOG_DAYS"]))
    db.session.execute(delete(ScanRun).where(ScanRun.started_at < cutoff))
    db.session.commit()


def run_send_now(subject_type: SubjectType, subject_id: int) -> dict[str, int]:
    """ "Gửi ngay": scan one consultation or one sheet and deliver its reminders now,
    to daily-digest people too (the administrator asked for it)."""
    moment = now()
    run = ScanRun(kind="send_now", started_at=moment)
    db.session.add(run)
    if subject_type == SubjectType.CONSULTATION:
        planned = scan_due_reminders(moment, consultation_id=subject_id)
        consultation = db.session.get(Consultation, subject_id)
        response_ids = [r.id for r in consultation.responses] if consultation else []
        subjects = [
            (SubjectType.CONSULTATION, [subject_id]),
            (SubjectType.UNIT_RESPONSE, response_ids),
        ]
    else:
        planned = scan_due_reminders(moment, sheet_id=subject_id)
        subjects = [(SubjectType.SCORE_SHEET, [subject_id])]
    run.planned = sum(planned.values())
    db.session.commit()
    return _deliver(run, moment, force=True, subjects=subjects)


# --- sending one mail ------------------------------------------------------------------------
def send_mail(mail_id: int) -> str:
    """Claim, re-check, send, record. Returns what happened (for logs and tests)."""
    moment = now()
    attempt = _claim(mail_id, moment)
    if attempt is None:
        return "skipped"
    mail = db.session.get(OutgoingMail, mail_id)
    assert mail is not None
    if mail.kind in invites.MAIL_KINDS:
        if not mail.user.active:
            mail.status, mail.lease_until = MailStatus.CANCELLED, None
            mail.last_error = "Tài khoản đã ngừng hoạt động."
            db.session.commit()
            return "cancelled"
        # The link is made now, so that it lives its whole lifetime from the sending.
        with force_locale(mail_locale(mail.user.locale)):
            subject, context = account_mail_context(mail.user, mail.kind)  # type: ignore[arg-type]
    else:
        with force_locale(mail_locale(mail.user.locale)):
            content = compose_mail(mail, moment)
            subject = _subject(mail, content)
        if not content.items and not content.notices:
            mail.status, mail.lease_until = MailStatus.CANCELLED, None
            mail.last_error = "Không còn việc nào cần nhắc."
            db.session.commit()
            return "cancelled"
        context = {"user": mail.user, "items": content.items, "notices": content.notices}
    rendered = render_mail(mail.kind, subject, context, locale=mail.user.locale)
    message = build_message(
        to_address=mail.to_address,
        to_name=mail.user.full_name,
        message_id=mail.message_id,
        rendered=rendered,
        mail_id=mail.id,
    )
    mail.subject = subject[:300]
    # Commit the re-check before talking to the server: no transaction stays open
    # (and no SQLite lock is held) while SMTP takes its time.
    db.session.commit()
    try:
        current_backend().send(message)
    except MailError as exc:
        return _record_failure(mail_id, attempt, exc)
    _record_success(mail_id, attempt)
    return "sent"


def _claim(mail_id: int, moment: datetime) -> int | None:
    """Take the mail for one attempt; returns the attempt number, or None if it is not
    ours to send (sent, another worker holds a live lease, or not due yet)."""
    table = OutgoingMail.__table__
    lease = timedelta(seconds=float(current_app.config["MAIL_SEND_LEASE_SECONDS"]))
    due = or_(
        and_(
            table.c.status == MailStatus.QUEUED.value,
            or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= moment),
        ),
        and_(table.c.status == MailStatus.SENDING.value, table.c.lease_until < moment),
    )
    row = db.session.execute(
        update(table)
        .where(table.c.id == mail_id, due)
        .values(
            status=MailStatus.SENDING.value,
            lease_until=moment + lease,
            attempts=table.c.attempts + 1,
        )
        .returning(table.c.attempts)
    ).first()
    db.session.commit()
    return None if row is None else int(row[0])


def _subject(mail: OutgoingMail, content: Any) -> str:
    if content.items:
        return items_summary(content.items)
    if len(content.notices) == 1:
        return f"[Draftflow] {content.notices[0].title}"
    return _("[Draftflow] %(count)d thông báo mới", count=len(content.notices))


def _record_success(mail_id: int, attempt: int) -> None:
    moment = now()
    mails, reminders = OutgoingMail.__table__, Reminder.__table__
    # The server accepted it: that is the truth, whoever holds the lease now.
    db.session.execute(
        update(mails)
        .where(mails.c.id == mail_id)
        .values(status=MailStatus.SENT.value, sent_at=moment, lease_until=None, last_error="")
    )
    db.session.execute(
        update(reminders)
        .where(reminders.c.mail_id == mail_id, reminders.c.status == ReminderStatus.SENDING.value)
        .values(
            status=ReminderStatus.SENT.value,
            sent_at=moment,
            attempts=attempt,
            last_error="",
            next_attempt_at=None,
        )
    )
    db.session.commit()
    log.info("mail %s sent (attempt %s)", mail_id, attempt)


def _record_failure(mail_id: int, attempt: int, exc: MailError) -> str:
    config = current_app.config
    moment = now()
    give_up = exc.permanent or attempt >= int(config["MAIL_MAX_ATTEMPTS"])
    next_at = (
        None
        if give_up
        else moment
        + retry_delay(
            attempt,
            base=float(config["MAIL_RETRY_BASE_SECONDS"]),
            cap=float(config["MAIL_RETRY_MAX_SECONDS"]),
        )
    )
    mails, reminders = OutgoingMail.__table__, Reminder.__table__
    status = MailStatus.FAILED if give_up else MailStatus.QUEUED
    changed = db.session.execute(
        update(mails)
        .where(
            mails.c.id == mail_id,
            mails.c.status == MailStatus.SENDING.value,
            mails.c.attempts == attempt,
        )
        .values(
            status=status.value, lease_until=None, last_error=exc.message, next_attempt_at=next_at
        )
    ).rowcount
    if changed:
        values: dict[str, Any] = {
            "attempts": attempt,
            "last_error": exc.message,
            "next_attempt_at": next_at,
        }
        if give_up:
            values["status"] = ReminderStatus.FAILED.value
        db.session.execute(
            update(reminders)
            .where(
                reminders.c.mail_id == mail_id, reminders.c.status == ReminderStatus.SENDING.value
            )
            .values(**values)
        )
    db.session.commit()
    log.warning(
        "mail %s attempt %s failed (%s)%s",
        mail_id,
        attempt,
        exc.message.split(":")[0],
        ", given up" if give_up else f", retry at {next_at:%H:%M:%S}" if next_at else "",
    )
    return "failed" if give_up else "retry"


def sweep(moment: datetime | None = None, *, limit: int = 1000) -> list[int]:
    """Queue every mail that is due for (another) attempt, or whose lease expired."""
    moment = moment or now()
    table = OutgoingMail.__table__
    ids = list(
        db.session.scalars(
            select(table.c.id)
            .where(
                or_(
                    and_(
                        table.c.status == MailStatus.QUEUED.value, table.c.next_attempt_at <= moment
                    ),
                    and_(table.c.status == MailStatus.SENDING.value, table.c.lease_until < moment),
                )
            )
            .order_by(table.c.next_attempt_at)
            .limit(limit)
        )
    )
    db.session.rollback()
    for mail_id in ids:
        enqueue(SEND_MAIL, mail_id)
    return ids


# --- administrator actions (operations: the caller commits) -----------------------------------
def request_send_now(subject_type: SubjectType, subject_id: int, *, actor: User) -> None:
    """Queue "Gửi ngay" for one consultation or one score sheet, after the commit."""
    model = Consultation if subject_type == SubjectType.CONSULTATION else ScoreSheet
    obj = db.session.get(model, subject_id)
    if obj is None:
        raise NotFound(_("Không tìm thấy đợt lấy ý kiến hoặc phiếu chấm điểm này."))
    audit.record(
        "reminders.send_now",
        obj,
        actor=actor,
        summary=f"Gửi ngay nhắc việc ({subject_type.value} #{subject_id})",
    )
    after_commit(SEND_NOW, subject_type.value, subject_id)


def retry_failed_mail(mail: OutgoingMail, *, actor: User) -> None:
    """Give a failed mail a fresh retry budget (its reminders go back to "sending")."""
    if mail.status != MailStatus.FAILED:
        raise Conflict(_("Chỉ gửi lại được thư đã gửi thất bại."))
    mail.status, mail.attempts, mail.next_attempt_at = MailStatus.QUEUED, 0, now()
    reminders = Reminder.__table__
    db.session.execute(
        update(reminders)
        .where(reminders.c.mail_id == mail.id, reminders.c.status == ReminderStatus.FAILED.value)
        .values(status=ReminderStatus.SENDING.value, next_attempt_at=now())
    )
    audit.record("reminders.retry_mail", mail, actor=actor, summary=f"Gửi lại thư #{mail.id}")
    after_commit(SEND_MAIL, mail.id)


# --- the Celery tasks ------------------------------------------------------------------------
@shared_task(name=SCAN, ignore_result=True)
def scan_task() -> dict[str, int]:
    return run_scan()


@shared_task(name=DIGEST, ignore_result=True)
def digest_task() -> dict[str, int]:
    return run_scan(digest=True)


@shared_task(name=SEND_MAIL, ignore_result=True)
def send_mail_task(mail_id: int) -> str:
    return send_mail(int(mail_id))


@shared_task(name=SWEEP, ignore_result=True)
def sweep_task() -> int:
    return len(sweep())


@shared_task(name=SEND_NOW, ignore_result=True)
def send_now_task(subject_type: str, subject_id: int) -> dict[str, int]:
    return run_send_now(SubjectType(subject_type), int(subject_id))
