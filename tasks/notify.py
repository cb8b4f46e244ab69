"""Notifications queued by operations and delivered only after the commit.

Operations call `notify(...)` inside their transaction. Nothing is written or sent
until the session commits; a rollback drops the queue, so a failed action never
tells anyone it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from accounts.models import User


@dataclass(frozen=True)
class PendingNotice:
    user_ids: tuple[int, ...]
    kind: str
    title: str
    body: str
    url: str
    escalation: bool = False
    extra: dict = field(default_factory=dict)


def notify(
    users: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    escalation: bool = False,
) -> None:
    """Queue an in-app notification (and e-mail, per each user's preference) for
    delivery after the current transaction commits."""
    # Delivery is implemented in tasks (notification centre and mail); until then a
    # notice is accepted and dropped, which keeps callers' code final.
    _ = PendingNotice(tuple(u.id for u in users), kind, title, body, url, escalation)
