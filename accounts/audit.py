"""The one way to write an audit row. Operations call it; nothing else writes them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import insert

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
