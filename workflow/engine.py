"""A small, data-driven transition engine shared by drafts and score sheets.

A machine is a table of :class:`Transition` rows: (state, action) -> (next state,
who may, guard). :meth:`Machine.apply` is the only place a state attribute changes.

Why not python-statemachine or transitions: our steps per scoring period are data
configured per agency (the table is built at runtime, not declared as a class),
permissions are predicates over ``(obj, actor)`` rather than callbacks on the
model, the caller must write an audit row as part of every transition, and a
failure anywhere (including in the audit callback) must leave the object
unchanged. That fits in a page of code we own and can test exhaustively.

After-commit work (e-mails, notifications) is deliberately not the engine's job:
the engine does not know about transactions. ``apply()`` returns the
:class:`TransitionRecord`; the operation that called it queues its notifications
from that record on the session's after-commit hook, so a rolled-back
transaction notifies no one.

State values are plain strings; callers may use ``enum.StrEnum`` members, which
are stored on the object exactly as they appear in the table.

This module imports nothing from the project so any package may use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[Any, Any], bool]
Guard = Callable[[Any], str | None]
Recorder = Callable[["TransitionRecord"], None]


def always(obj: Any, actor: Any) -> bool:
    """Permission predicate that lets anyone through."""
    return True


class TableError(ValueError):
    """The transition table itself is inconsistent (a configuration error). Its text is
    Vietnamese; ``template`` (marked N_) and ``values`` show it in the reader's language
    (accounts.i18n.refusal), as drafts.officefile.ParseError does."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        super().__init__(template % values if values else template)


def N_(message: str) -> str:
    """Mark a message for the translation catalogue (this module imports nothing of ours)."""
    return message


ILLEGAL = N_("Không thể thực hiện “%(label)s” khi đang ở trạng thái “%(state)s”.")
NOT_PERMITTED = N_("Bạn không có quyền thực hiện “%(label)s” ở trạng thái “%(state)s”.")
NOTE_REQUIRED = N_("Cần nhập lý do (ghi chú) để thực hiện “%(label)s”.")


class TransitionError(Exception):
    """A transition was refused; ``message`` is Vietnamese and safe to show to users.

    ``template`` and ``labels`` let a web layer say the same in the reader's language:
    the template and each label are catalogue messages (custom labels pass unchanged).
    """

    code = "transition_error"

    def __init__(
        self,
        message: str,
        *,
        action: str = "",
        state: str = "",
        template: str = "",
        labels: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.state = state
        self.template = template
        self.labels = dict(labels or {})


class IllegalTransition(TransitionError):
    """No transition exists for (current state, action)."""

    code = "illegal_transition"


class NotPermitted(TransitionError):
    """The transition exists but this actor may not perform it."""

    code = "not_permitted"


class NoteRequired(TransitionError):
    """The transition needs a note, e.g. the reason for returning a sheet."""

    code = "note_required"


class GuardFailed(TransitionError):
    """A guard refused the transition; ``message`` is the guard's own message."""

    code = "guard_failed"


@dataclass(frozen=True)
class Transition:
    """One row of the table."""

    source: str
    action: str
    target: str
    allowed: Predicate = always
    guard: Guard | None = None
    requires_note: bool = False
    label: str = ""
    who: str = ""  # readable description of ``allowed`` for the table page


@dataclass(frozen=True)
class TransitionRecord:
    """What happened; the caller persists it as the audit row."""

    action: str
    source: str
    target: str
    actor: Any
    note: str | None


class Machine:
    """A validated transition table plus the one ``apply()`` that changes state."""

    def __init__(
        self,
        transitions: Iterable[Transition],
        *,
        state_attr: str = "state",
        states: Iterable[str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self.state_attr = state_attr
        self._by_key: dict[tuple[str, str], Transition] = {}
        self.states: tuple[str, ...] = self._validated_states(states)
        self._index_transitions()
        self.labels: dict[str, str] = dict(labels or {})
        unknown = [state for state in self.labels if state not in self.states]
        if unknown:
            raise TableError(
                N_("Nhãn cho trạng thái không có trong bảng: %(states)s."),
                states=", ".join(unknown),
            )

    def _validated_states(self, states: Iterable[str] | None) -> tuple[str, ...]:
        if not self.transitions:
            raise TableError(N_("Bảng chuyển trạng thái không có dòng nào."))
        if states is None:
            # Derive states in order of first appearance so the table reads top-down.
            seen = (name for row in self.transitions for name in (row.source, row.target))
            return tuple(dict.fromkeys(seen))
        declared = tuple(states)
        if len(set(declared)) != len(declared):
            raise TableError(N_("Danh sách trạng thái có trạng thái trùng lặp."))
        return declared

    def _index_transitions(self) -> None:
        known = set(self.states)
        for row in self.transitions:
            if not (row.source and row.action and row.target):
                raise TableError(
                    N_("Mỗi dòng phải có trạng thái nguồn, thao tác và trạng thái đích.")
                )
            for name in (row.source, row.target):
                if name not in known:
                    raise TableError(
                        N_("Trạng thái “%(state)s” không có trong danh sách trạng thái."),
                        state=name,
                    )
            key = (row.source, row.action)
            if key in self._by_key:
                raise TableError(
                    N_("Thao tác “%(action)s” được khai báo hai lần cho trạng thái “%(state)s”."),
                    action=row.action,
                    state=row.source,
                )
            self._by_key[key] = row

    # -- reading the table -------------------------------------------------

    def state_label(self, state: str) -> str:
        return self.labels.get(state, state)

    def action_label(self, action: str) -> str:
        for row in self.transitions:
            if row.action == action and row.label:
                return row.label
        return action

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(row.action for row in self.transitions))

    def transitions_from(self, state: str) -> list[Transition]:
        return [row for row in self.transitions if row.source == state]

    def current_state(self, obj: Any) -> str:
        return getattr(obj, self.state_attr)

    def actions_for(self, obj: Any, actor: Any) -> list[Transition]:
        """Transitions this actor may perform now, in table order (for buttons).

        Guards are NOT evaluated: a guard is validation, not permission. The button
        stays visible and pressing it explains what is missing (GuardFailed), which
        is more helpful than a button that silently disappears.
        """
        state = self.current_state(obj)
        return [row for row in self.transitions_from(state) if row.allowed(obj, actor)]

    def can_apply(self, obj: Any, action: str, actor: Any) -> bool:
        """Whether the transition exists here and the actor may perform it.

        Agrees with :meth:`actions_for` (guards and notes are not considered), so a
        view answering 403 and a template hiding a button never disagree.
        """
        row = self._by_key.get((self.current_state(obj), action))
        return row is not None and row.allowed(obj, actor)

    # -- changing state ----------------------------------------------------

    def check(self, obj: Any, action: str, actor: Any, note: str | None = None) -> Transition:
        """Run every check ``apply()`` runs, in the same order, changing nothing."""
        state = self.current_state(obj)
        row = self._by_key.get((state, action))
        label, state_label = self.action_label(action), self.state_label(state)
        labels = {"label": label, "state": state_label}
        if row is None:
            raise IllegalTransition(
                ILLEGAL % labels, action=action, state=state, template=ILLEGAL, labels=labels
            )
        if not row.allowed(obj, actor):
            raise NotPermitted(
                NOT_PERMITTED % labels,
                action=action,
                state=state,
                template=NOT_PERMITTED,
                labels=labels,
            )
        if row.requires_note and not _clean_note(note):
            raise NoteRequired(
                NOTE_REQUIRED % labels,
                action=action,
                state=state,
                template=NOTE_REQUIRED,
                labels=labels,
            )
        if row.guard is not None:
            problem = row.guard(obj)
            if problem:
                raise GuardFailed(problem, action=action, state=state)
        return row

    def apply(
        self,
        obj: Any,
        action: str,
        actor: Any,
        note: str | None = None,
        *,
        record: Recorder | None = None,
    ) -> TransitionRecord:
        """Move ``obj`` along ``action`` or raise, leaving ``obj`` untouched.

        Checks, in order: the transition exists (IllegalTransition), the actor is
        permitted (NotPermitted), a required note is present (NoteRequired), the
        guard passes (GuardFailed). Only then is the state set and ``record``
        called with the audit record; if ``record`` raises, the previous state is
        restored and the exception propagates.
        """
        row = self.check(obj, action, actor, note)
        source = self.current_state(obj)
        entry = TransitionRecord(
            action=action, source=source, target=row.target, actor=actor, note=_clean_note(note)
        )
        setattr(obj, self.state_attr, row.target)
        if record is not None:
            try:
                record(entry)
            except BaseException:
                setattr(obj, self.state_attr, source)
                raise
        return entry

    def replay(self, initial: str, actions: Iterable[str]) -> str:
        """The state reached by following ``actions`` from ``initial``.

        Permissions and guards are not re-checked: they held when the audit trail
        was written, and actors' roles may have changed since.
        """
        state = initial
        for action in actions:
            row = self._by_key.get((state, action))
            if row is None:
                raise IllegalTransition(
                    f"Lịch sử không hợp lệ: không có thao tác “{self.action_label(action)}” "
                    f"ở trạng thái “{self.state_label(state)}”.",
                    action=action,
                    state=state,
                )
            state = row.target
        return state

    def as_table(self) -> list[dict[str, Any]]:
        """The table as plain rows, for documentation and an admin page."""
        return [
            {
                "source": row.source,
                "source_label": self.state_label(row.source),
                "action": row.action,
                "label": row.label or row.action,
                "target": row.target,
                "target_label": self.state_label(row.target),
                "who": row.who,
                "requires_note": row.requires_note,
                "guarded": row.guard is not None,
            }
            for row in self.transitions
        ]


def _clean_note(note: str | None) -> str | None:
    stripped = (note or "").strip()
    return stripped or None
