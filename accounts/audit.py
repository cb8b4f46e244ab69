"""The one way to write an audit row. Operations call it; nothing else writes them."""

from __future__ import annotations

from typing import Any

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
