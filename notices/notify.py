"""Notifications queued by operations and delivered only after the commit.

Operations call `notify(...)` inside their transaction. The notices wait in the
session; just before the commit they become rows of that same transaction (the
in-app notification, and an e-mail row for people who want one now), and only
after the commit is the e-mail handed to a worker. A rollback drops the queue, so
a failed action never tells anyone it happened.

Per person (User.notify_mode): `immediate` gets an e-mail now, `daily` gets the
notice in the next daily digest, `off` only sees it in the app. Escalations are
e-mailed to everyone who has an address.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction

from accounts.clock import now
from accounts.errors import Forbidden
from accounts.i18n import Deferred, render
from accounts.models import NotifyMode, User
from extensions import db, enqueue
from notices.models import MailStatus, Notification, OutgoingMail

log = logging.getLogger(__name__)

# The Celery task (defined in tasks.jobs) that sends one queued mail, by name.
SEND_MAIL = "draftflow.send_mail"

_NOTICES = "draftflow.pending_notices"
_AFTER_COMMIT = "draftflow.after_commit_tasks"


@dataclass(frozen=True)
class PendingNotice:
    user_ids: tuple[int, ...]
    kind: str
    title: str | Deferred  # a Deferred is written in each recipient's language
    body: str | Deferred
    url: str
    escalation: bool = False


def notify(
    users: Iterable[User],
    *,
    kind: str,
    title: str | Deferred,
    body: str | Deferred = "",
    url: str = "",
    escalation: bool = False,
) -> None:
    """Queue an in-app notification (and e-mail, per each user's preference) for
    delivery after the current transaction commits."""
    people = list(users)
    if not people:
        return
    if any(user.id is None for user in people):
        db.session.flush()
    ids = tuple(dict.fromkeys(user.id for user in people))
    session = db.session()
    session.info.setdefault(_NOTICES, []).append(
        PendingNotice(ids, kind, title, body, url, escalation)
    )


def after_commit(task_name: str, *args: Any) -> None:
    """Hand a task to the worker once the current transaction has committed."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append((task_name, args))


def new_message_id() -> str:
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "draftflow.local"
    return f"<{uuid.uuid4().hex}@{host}>"


# --- session hooks ---------------------------------------------------------------------
@event.listens_for(Session, "before_commit")
def _materialise(session: Session) -> None:
    notices = session.info.pop(_NOTICES, None)
    if not notices:
        return
    mail_ids = write_notices(session, notices)
    session.info.setdefault(_AFTER_COMMIT, []).extend((SEND_MAIL, (mid,)) for mid in mail_ids)


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    pending = session.info.pop(_AFTER_COMMIT, None)
    if not pending:
        return
    for task_name, args in pending:
        enqueue(task_name, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    # A savepoint rolling back leaves the outer transaction (and its notices) alive.
    if previous_transaction.parent is None:
        session.info.pop(_NOTICES, None)
        session.info.pop(_AFTER_COMMIT, None)


def write_notices(session: Session, notices: Iterable[PendingNotice]) -> list[int]:
    """The notices as rows of the committing transaction; returns the new mail ids."""
    notices = list(notices)
    user_ids = {uid for notice in notices for uid in notice.user_ids}
    people = {
        row.id: row
        for row in session.execute(
            select(User.id, User.email, User.notify_mode, User.active, User.locale).where(
                User.id.in_(user_ids)
            )
        )
    }
    default_locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    moment = now()
    mails: dict[int, OutgoingMail] = {}
    for notice in notices:
        for uid in notice.user_ids:
            person = people.get(uid)
            if person is None or not person.active:
                continue
            email = (person.email or "").strip()
            by_mail = bool(email) and (
                person.notify_mode == NotifyMode.IMMEDIATE or notice.escalation
            )
            with force_locale(person.locale or default_locale):
                title, body = render(notice.title), render(notice.body)
            row = Notification(
                user_id=uid,
                kind=notice.kind[:60],
                title=title[:500],
                body=body,
                url=notice.url[:500],
                escalation=notice.escalation,
                created_at=moment,
                digest_pending=bool(email)
                and not by_mail
                and person.notify_mode == NotifyMode.DAILY,
            )
            if by_mail:
                mail = mails.get(uid)
                if mail is None:
                    mail = mails[uid] = OutgoingMail(
                        user_id=uid,
                        to_address=email,
                        kind="notice",
                        subject=title[:300],
                        message_id=new_message_id(),
                        status=MailStatus.QUEUED,
                        attempts=0,
                        next_attempt_at=moment,
                        created_at=moment,
                    )
                    session.add(mail)
                mail.escalation = mail.escalation or notice.escalation
                row.mail = mail
            session.add(row)
    session.flush()
    return [mail.id for mail in mails.values()]


# --- the notification centre -----------------------------------------------------------------
# Built once: every page's menu shows the count.
_UNREAD = select(func.count(Notification.id)).where(
    Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)
)


def unread_count(user: User) -> int:
    return db.session.scalar(_UNREAD, {"user_id": user.id}) or 0


def mark_read(notification: Notification, *, actor: User) -> None:
    if not notification.can_view(actor):
        raise Forbidden(_("Thông báo này không phải của bạn."))
    if notification.read_at is None:
        notification.read_at = now()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
