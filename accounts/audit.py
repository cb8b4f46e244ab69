"""The one way to write an audit row. Operations call it; nothing else writes them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import ColumnElement, and_, false, insert, or_, select, true

from accounts.models import AuditEntry, User
from app import db


def record(
    action: str,
    obj: Any = None,
    *,
    actor: User | None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> AuditEntry:
    """Add an audit row to the current transaction (it commits, or rolls back, with it)."""
    if obj is not None:
        if obj.id is None:
            db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = obj.id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        summary=summary,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def digest(text: str) -> str:
    """What an audit row keeps of user text that has its own visibility (a comment):
    enough to tell whether two versions are the same, nothing to read the text from.
    The audit log is read by people who may not see the text itself."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_INSERT = insert(AuditEntry.__table__)


def record_row(
    action: str,
    *,
    actor_id: int | None,
    object_type: str,
    object_id: int | None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """`record` as one plain INSERT, sent at once, in the same transaction.

    For the busiest writes (a comment through the API), which add no ORM objects: an
    added `AuditEntry` would cost them a unit-of-work flush at commit, and on SQLite
    that flush runs while the write lock is held.
    """
    db.session.execute(
        _INSERT,
        {
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "summary": summary,
            "details": details or {},
        },
    )


def readable_by(user: User) -> ColumnElement[bool]:
    """The audit rows `user` may read, as a WHERE clause evaluated by the database.

    A row about a comment follows `Comment.can_view` (a unit's unsent drafts stay inside
    the unit), a row about a disposition `Consultation.can_track`. Rows about a comment or
    a disposition that no longer exists hold no text; only administrators see them.
    """
    from comments.models import Comment, Disposition
    from comments.queries import trackable_consultation_ids, viewable_comment_ids

    admin = true() if user.can_administer() else false()
    comment_rows = or_(
        AuditEntry.object_id.in_(viewable_comment_ids(user)),
        and_(admin, AuditEntry.object_id.not_in(select(Comment.id))),
    )
    disposition_rows = or_(
        AuditEntry.object_id.in_(
            select(Disposition.id).where(
                Disposition.consultation_id.in_(trackable_consultation_ids(user))
            )
        ),
        and_(admin, AuditEntry.object_id.not_in(select(Disposition.id))),
    )
    return or_(
        AuditEntry.object_type.not_in(("comments", "dispositions")),
        and_(AuditEntry.object_type == "comments", comment_rows),
        and_(AuditEntry.object_type == "dispositions", disposition_rows),
    )
