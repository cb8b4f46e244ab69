"""The score-sheet transition table, built from a period's steps (data).

A period's steps are an ordered list of :class:`StepSpec`. The first is always
self-scoring by the unit; every later step is a review, and the last one is the
final decision. States are derived from the steps:

* ``not_started`` "Chưa chấm" --start--> ``self_scoring`` "Đang tự chấm";
* completing step *k* (its ``action``) moves the sheet into that step's
  ``done_state``; the done state of step *k* is the state in which step *k+1*
  is pending, and the done state of the last step is terminal.

With the default steps this gives::

    not_started -start-> self_scoring -submit-> submitted -review-> cluster_scored
        -verify-> verified -approve-> approved

From every state in which a review is pending, that step's reviewer may return
the sheet, with a required note, to each earlier working state: ``return`` goes
back to ``self_scoring``; ``return_to_<step key>`` goes back to the state in
which that review step is pending (e.g. ``return_to_cluster``: verified ->
submitted, so the cluster reviews again). Whether a sheet is shown as
"Bị trả lại" is derived by the caller from the last audit action
(:func:`is_return_action`).

Permissions are injected as predicates, so this module knows nothing of users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accounts.i18n import N_
from workflow.engine import Guard, Machine, Predicate, TableError, Transition

NOT_STARTED = "not_started"
SELF_SCORING = "self_scoring"
START = "start"
RETURN = "return"
RETURN_TO_PREFIX = "return_to_"
SELF_STEP_KEY = "self"
# Labels are Vietnamese, as the audit log and exports write them; pages translate them
# when they show them (a period's own steps may bring titles the catalogue lacks).
RETURNED_LABEL = N_("Bị trả lại")
RETURN_LABEL = N_("Trả lại để chỉnh sửa")
RETURN_TO_LABEL = N_("Trả lại bước “%(step)s”")
NOT_STARTED_LABEL = N_("Chưa chấm")
SELF_SCORING_LABEL = N_("Đang tự chấm")
START_LABEL = N_("Bắt đầu tự chấm")

StepPredicate = Callable[[Any, Any, str], bool]  # (sheet, actor, step key) -> bool


@dataclass(frozen=True)
class StepSpec:
    """One step of a period's workflow, as configured by the agency."""

    key: str  # stable identifier, e.g. "cluster"; also names the return action
    title: str  # "Cụm chấm"
    action: str  # the action that completes the step, e.g. "review"
    action_label: str  # button label
    done_state: str  # the state after the step is completed
    done_label: str  # its Vietnamese label
    who: str = ""  # who performs the step, for the table page


SELF_STEP = StepSpec(
    SELF_STEP_KEY,
    N_("Tự chấm điểm"),
    "submit",
    N_("Nộp"),
    "submitted",
    N_("Đã nộp"),
    N_("Lãnh đạo đơn vị"),
)
CLUSTER_STEP = StepSpec(
    "cluster",
    N_("Cụm chấm"),
    "review",
    N_("Hoàn thành Cụm chấm"),
    "cluster_scored",
    N_("Cụm đã chấm"),
    N_("Cụm trưởng, Khối trưởng"),
)
OFFICE_STEP = StepSpec(
    "office",
    N_("Thẩm định"),
    "verify",
    N_("Hoàn thành thẩm định"),
    "verified",
    N_("Đã thẩm định"),
    N_("Thường trực Hội đồng"),
)
COUNCIL_STEP = StepSpec(
    "council",
    N_("Hội đồng xét, công nhận"),
    "approve",
    N_("Công nhận"),
    "approved",
    N_("Đã công nhận"),
    N_("Hội đồng Thi đua - Khen thưởng"),
)
DEFAULT_STEPS: tuple[StepSpec, ...] = (SELF_STEP, CLUSTER_STEP, OFFICE_STEP, COUNCIL_STEP)
BUILTIN_STEPS: Mapping[str, StepSpec] = {step.key: step for step in DEFAULT_STEPS}


def steps_from_config(items: Iterable[str | Mapping[str, str]]) -> tuple[StepSpec, ...]:
    """Steps from stored configuration: a built-in step's key, or a mapping of fields."""
    steps: list[StepSpec] = []
    for item in items:
        if isinstance(item, str):
            if item not in BUILTIN_STEPS:
                raise TableError(N_("Không có bước mặc định “%(step)s”."), step=item)
            steps.append(BUILTIN_STEPS[item])
        else:
            try:
                steps.append(StepSpec(**item))
            except TypeError as exc:
                raise TableError(
                    N_("Cấu hình bước không hợp lệ: %(config)s."), config=str(dict(item))
                ) from exc
    return tuple(steps)


def translated_labels(steps: Sequence[StepSpec], gettext: Callable[[str], str]) -> dict[str, str]:
    """Every label the machine of `steps` shows (states, actions, step titles), mapped to
    its translation by `gettext`. A return to an earlier step ("Trả lại bước “Cụm chấm”")
    is translated from its parts, which a lookup of the whole label cannot do."""
    fixed = (NOT_STARTED_LABEL, SELF_SCORING_LABEL, START_LABEL, RETURN_LABEL, RETURNED_LABEL)
    labels = {label: gettext(label) for label in fixed}
    for step in steps:
        for label in (step.title, step.action_label, step.done_label):
            labels[label] = gettext(label)
    return_to = gettext(RETURN_TO_LABEL)
    for step in steps[1:]:
        labels[RETURN_TO_LABEL % {"step": step.title}] = return_to % {"step": labels[step.title]}
    return labels


def is_return_action(action: str) -> bool:
    """Whether an audit action sent the sheet back (the sheet shows "Bị trả lại")."""
    return action == RETURN or action.startswith(RETURN_TO_PREFIX)


def build_sheet_machine(
    steps: Sequence[StepSpec] = DEFAULT_STEPS,
    *,
    is_unit_staff: Predicate,
    is_unit_head: Predicate,
    is_reviewer_for_step: StepPredicate,
    guards: Mapping[str, Guard] | None = None,
    state_attr: str = "state",
) -> Machine:
    """The score-sheet machine for ``steps``.

    ``guards`` maps an action (e.g. ``"submit"``) to a guard, such as "every
    criterion has a self-score".
    """
    _validate_steps(steps)
    guards = dict(guards or {})
    reviews = steps[1:]
    # pending[i] is the state in which reviews[i] is waiting to be done.
    pending = [step.done_state for step in steps[:-1]]

    def may_start(sheet: Any, actor: Any) -> bool:
        return is_unit_staff(sheet, actor) or is_unit_head(sheet, actor)

    def row(
        source: str,
        target: str,
        allowed: Predicate,
        action: str,
        label: str,
        who: str,
        *,
        note: bool = False,
    ) -> Transition:
        return Transition(source, action, target, allowed, guards.get(action), note, label, who)

    own = steps[0]  # the unit's self-scoring step
    rows = [
        row(NOT_STARTED, SELF_SCORING, may_start, START, START_LABEL, N_("Đơn vị")),
        row(SELF_SCORING, own.done_state, is_unit_head, own.action, own.action_label, own.who),
    ]
    for index, step in enumerate(reviews):
        state, reviewer = pending[index], _reviewer(is_reviewer_for_step, step.key)
        rows.append(row(state, step.done_state, reviewer, step.action, step.action_label, step.who))
        rows.append(row(state, SELF_SCORING, reviewer, RETURN, RETURN_LABEL, step.who, note=True))
        for earlier, earlier_state in zip(reviews[:index], pending[:index], strict=True):
            action = RETURN_TO_PREFIX + earlier.key
            label = RETURN_TO_LABEL % {"step": earlier.title}
            rows.append(row(state, earlier_state, reviewer, action, label, step.who, note=True))

    unknown = set(guards) - {transition.action for transition in rows}
    if unknown:
        raise TableError(
            N_("Có điều kiện cho thao tác không tồn tại: %(actions)s."),
            actions=", ".join(sorted(unknown)),
        )

    labels = {NOT_STARTED: NOT_STARTED_LABEL, SELF_SCORING: SELF_SCORING_LABEL}
    labels.update({step.done_state: step.done_label for step in steps})
    return Machine(rows, state_attr=state_attr, states=list(labels), labels=labels)


def _reviewer(is_reviewer_for_step: StepPredicate, key: str) -> Predicate:
    def may_review(sheet: Any, actor: Any) -> bool:
        return is_reviewer_for_step(sheet, actor, key)

    may_review.__name__ = f"is_reviewer_for_{key}"
    return may_review


def _validate_steps(steps: Sequence[StepSpec]) -> None:
    if len(steps) < 2:
        raise TableError(N_("Quy trình chấm điểm cần ít nhất bước tự chấm và một bước xét duyệt."))
    if steps[0].key != SELF_STEP_KEY:
        raise TableError(N_("Bước đầu tiên của quy trình phải là bước tự chấm điểm."))
    if any(step.key == SELF_STEP_KEY for step in steps[1:]):
        raise TableError(N_("Bước tự chấm điểm chỉ được có một lần, ở đầu quy trình."))
    repeated = {
        "key": N_("Hai bước trùng mã bước."),
        "action": N_("Hai bước trùng thao tác."),
        "done_state": N_("Hai bước trùng trạng thái hoàn thành."),
    }
    for field, message in repeated.items():
        values = [getattr(step, field) for step in steps]
        if not all(values):
            raise TableError(N_("Mỗi bước phải có mã bước, thao tác và trạng thái hoàn thành."))
        if len(set(values)) != len(values):
            raise TableError(message)
    for step in steps:
        if step.done_state in (NOT_STARTED, SELF_SCORING):
            raise TableError(
                N_("Trạng thái “%(state)s” là trạng thái dành riêng."), state=step.done_state
            )
        if step.action == START or is_return_action(step.action):
            raise TableError(
                N_("Thao tác “%(action)s” là thao tác dành riêng."), action=step.action
            )
