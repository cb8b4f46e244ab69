"""The draft's lifecycle, as a transition table on the shared engine.

Nháp → Đang lấy ý kiến → Hết hạn góp ý → Đang tổng hợp → Đã chỉnh lý → Đã ban hành

`apply_draft_action()` is the only place a draft's state changes. Other packages
(the consultation opens and closes rounds) call it too, so every move is checked
against the table and writes an audit row.
"""

from __future__ import annotations

from accounts import audit
from accounts.i18n import N_
from accounts.models import User
from drafts.models import DRAFT_STATE_LABELS, Draft, DraftState
from workflow.engine import Guard, Machine, Transition, TransitionRecord

S = DraftState


def _drafter_or_system(draft: Draft, actor: User | None) -> bool:
    # actor None is the system itself: the deadline scan closing a round.
    return actor is None or (actor.can_draft() and draft.is_drafter(actor))


def _drafter(draft: Draft, actor: User | None) -> bool:
    return actor is not None and actor.can_draft() and draft.is_drafter(actor)


def _drafter_with_published_version(draft: Draft, actor: User | None) -> bool:
    # Only a published version can be adopted: with none, the action is not offered.
    return _drafter(draft, actor) and draft.has_published_version


ACTION_LABELS = {
    "open_consultation": N_("Lấy ý kiến góp ý"),
    "close_consultation": N_("Kết thúc lấy ý kiến"),
    "start_consolidation": N_("Bắt đầu tổng hợp"),
    "revise": N_("Hoàn thành chỉnh lý"),
    "adopt": N_("Thông qua, ban hành"),
}


def _table(adopt_guard: Guard | None = None) -> list[Transition]:
    t = Transition
    rows = [
        t(S.DRAFT, "open_consultation", S.CONSULTING, _drafter),
        # A new round on the next version ("Dự thảo lần 2").
        t(S.REVISED, "open_consultation", S.CONSULTING, _drafter),
        t(S.CONSULTING, "close_consultation", S.CONSULTATION_CLOSED, _drafter_or_system),
        t(S.CONSULTATION_CLOSED, "start_consolidation", S.CONSOLIDATING, _drafter),
        t(S.CONSOLIDATING, "revise", S.REVISED, _drafter),
        t(S.DRAFT, "adopt", S.ADOPTED, _drafter_with_published_version, guard=adopt_guard),
        t(S.CONSOLIDATING, "adopt", S.ADOPTED, _drafter_with_published_version, guard=adopt_guard),
        t(S.REVISED, "adopt", S.ADOPTED, _drafter_with_published_version, guard=adopt_guard),
    ]
    return [
        Transition(
            r.source,
            r.action,
            r.target,
            r.allowed,
            r.guard,
            r.requires_note,
            ACTION_LABELS[r.action],
            N_("Cán bộ soạn thảo"),
        )
        for r in rows
    ]


def machine(adopt_guard: Guard | None = None) -> Machine:
    return Machine(
        _table(adopt_guard),
        state_attr="state",
        states=[s.value for s in DraftState],
        labels={s.value: label for s, label in DRAFT_STATE_LABELS.items()},
    )


DRAFT_MACHINE = machine()


def apply_draft_action(
    draft: Draft,
    action: str,
    actor: User | None,
    note: str | None = None,
    *,
    adopt_guard: Guard | None = None,
) -> TransitionRecord:
    """Move the draft through the table and write the audit row, or raise a
    `workflow.engine.TransitionError` and change nothing."""
    table = machine(adopt_guard) if adopt_guard is not None else DRAFT_MACHINE

    def record(rec: TransitionRecord) -> None:
        audit.record(
            f"draft.{rec.action}",
            draft,
            actor=actor,
            summary=f"{DRAFT_STATE_LABELS[DraftState(rec.source)]} → "
            f"{DRAFT_STATE_LABELS[DraftState(rec.target)]}",
            details={"from": rec.source, "to": rec.target, "note": note or ""},
        )

    result = table.apply(draft, action, actor, note, record=record)
    draft.state = DraftState(draft.state)
    return result


def can_apply(draft: Draft, action: str, actor: User | None) -> bool:
    return DRAFT_MACHINE.can_apply(draft, action, actor)
