"""The transition engine and the score-sheet tables built from a period's steps."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.engine import (
    GuardFailed,
    IllegalTransition,
    Machine,
    NoteRequired,
    NotPermitted,
    TableError,
    Transition,
    TransitionError,
    TransitionRecord,
)
from workflow.sheetflow import (
    CLUSTER_STEP,
    COUNCIL_STEP,
    DEFAULT_STEPS,
    OFFICE_STEP,
    SELF_STEP,
    StepSpec,
    build_sheet_machine,
    is_return_action,
    steps_from_config,
)

# -- a tiny world: one sheet of unit "A" in cluster "north" -------------------------


@dataclass
class Actor:
    role: str
    unit: str = "A"
    cluster: str = "north"


@dataclass
class Sheet:
    state: str
    unit: str = "A"
    cluster: str = "north"
    missing: int = 0


ACTORS = {
    "unit_staff": Actor("unit_staff"),
    "unit_head": Actor("unit_head"),
    "other_unit_head": Actor("unit_head", unit="B"),
    "cluster_leader": Actor("cluster_leader"),
    "other_cluster_leader": Actor("cluster_leader", cluster="south"),
    "office": Actor("office"),
    "council": Actor("council"),
    "outsider": Actor("outsider"),
}
REVIEWER_ROLE = {"cluster": "cluster_leader", "office": "office", "council": "council"}


def is_unit_staff(sheet: Sheet, actor: Actor) -> bool:
    return actor.role == "unit_staff" and actor.unit == sheet.unit


def is_unit_head(sheet: Sheet, actor: Actor) -> bool:
    return actor.role == "unit_head" and actor.unit == sheet.unit


def is_reviewer_for_step(sheet: Sheet, actor: Actor, step: str) -> bool:
    if actor.role != REVIEWER_ROLE[step]:
        return False
    return step != "cluster" or actor.cluster == sheet.cluster


def sheet_machine(steps: tuple[StepSpec, ...] = DEFAULT_STEPS, **kwargs: Any) -> Machine:
    return build_sheet_machine(
        steps,
        is_unit_staff=is_unit_staff,
        is_unit_head=is_unit_head,
        is_reviewer_for_step=is_reviewer_for_step,
        **kwargs,
    )


# The table the default steps must produce, written out by hand:
# (state, action) -> (target, roles allowed, note required).
DEFAULT_TABLE = {
    ("not_started", "start"): ("self_scoring", {"unit_staff", "unit_head"}, False),
    ("self_scoring", "submit"): ("submitted", {"unit_head"}, False),
    ("submitted", "review"): ("cluster_scored", {"cluster_leader"}, False),
    ("submitted", "return"): ("self_scoring", {"cluster_leader"}, True),
    ("cluster_scored", "verify"): ("verified", {"office"}, False),
    ("cluster_scored", "return"): ("self_scoring", {"office"}, True),
    ("cluster_scored", "return_to_cluster"): ("submitted", {"office"}, True),
    ("verified", "approve"): ("approved", {"council"}, False),
    ("verified", "return"): ("self_scoring", {"council"}, True),
    ("verified", "return_to_cluster"): ("submitted", {"council"}, True),
    ("verified", "return_to_office"): ("cluster_scored", {"council"}, True),
}
DEFAULT_STATES = (
    "not_started",
    "self_scoring",
    "submitted",
    "cluster_scored",
    "verified",
    "approved",
)
DEFAULT_ACTIONS = tuple(dict.fromkeys(action for _, action in DEFAULT_TABLE))

# Without the cluster step: self -> office -> council.
THREE_STEP_TABLE = {
    ("not_started", "start"): ("self_scoring", {"unit_staff", "unit_head"}, False),
    ("self_scoring", "submit"): ("submitted", {"unit_head"}, False),
    ("submitted", "verify"): ("verified", {"office"}, False),
    ("submitted", "return"): ("self_scoring", {"office"}, True),
    ("verified", "approve"): ("approved", {"council"}, False),
    ("verified", "return"): ("self_scoring", {"council"}, True),
    ("verified", "return_to_office"): ("submitted", {"council"}, True),
}
THREE_STEPS = (SELF_STEP, OFFICE_STEP, COUNCIL_STEP)

MACHINE = sheet_machine()
NOTE = "Thiếu minh chứng cho tiêu chí 1.2"


def expected_error(table: dict, state: str, action: str) -> type[TransitionError]:
    if (state, action) not in table:
        return IllegalTransition
    return NotPermitted


# -- the whole matrix ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "role"),
    list(itertools.product(DEFAULT_STATES, DEFAULT_ACTIONS, ACTORS)),
)
def test_default_matrix(state: str, action: str, role: str) -> None:
    sheet, recorded = Sheet(state), []
    row = DEFAULT_TABLE.get((state, action))
    if row is not None and role in row[1]:
        target, _, needs_note = row
        result = MACHINE.apply(
            sheet, action, ACTORS[role], NOTE if needs_note else None, record=recorded.append
        )
        assert sheet.state == target
        assert recorded == [result]
        assert result == TransitionRecord(
            action, state, target, ACTORS[role], NOTE if needs_note else None
        )
    else:
        error = expected_error(DEFAULT_TABLE, state, action)
        with pytest.raises(error) as caught:
            MACHINE.apply(sheet, action, ACTORS[role], None, record=recorded.append)
        assert type(caught.value) is error
        assert caught.value.message
        assert sheet.state == state
        assert recorded == []


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        (state, action, role)
        for (state, action), (_, roles, needs_note) in DEFAULT_TABLE.items()
        if needs_note
        for role in sorted(roles)
    ],
)
@pytest.mark.parametrize("note", [None, "", "   \n"])
def test_returns_need_a_note(state: str, action: str, role: str, note: str | None) -> None:
    sheet, recorded = Sheet(state), []
    with pytest.raises(NoteRequired) as caught:
        MACHINE.apply(sheet, action, ACTORS[role], note, record=recorded.append)
    assert caught.value.code == "note_required"
    assert "lý do" in caught.value.message
    assert sheet.state == state
    assert recorded == []


def test_the_table_is_exactly_the_expected_one() -> None:
    rows = {
        (row["source"], row["action"]): (row["target"], row["requires_note"])
        for row in MACHINE.as_table()
    }
    assert rows == {key: (target, note) for key, (target, _, note) in DEFAULT_TABLE.items()}
    assert MACHINE.states == DEFAULT_STATES


@pytest.mark.parametrize("state", DEFAULT_STATES)
@pytest.mark.parametrize("role", ACTORS)
def test_actions_for_and_can_apply_agree_with_the_table(state: str, role: str) -> None:
    sheet = Sheet(state)
    expected = [
        action
        for (source, action), (_, roles, _) in DEFAULT_TABLE.items()
        if source == state and role in roles
    ]
    assert [row.action for row in MACHINE.actions_for(sheet, ACTORS[role])] == expected
    for action in DEFAULT_ACTIONS:
        assert MACHINE.can_apply(sheet, action, ACTORS[role]) == (action in expected)


# -- checks, guards and the audit callback --------------------------------------------


def test_guard_failure_carries_the_guards_message_and_changes_nothing() -> None:
    def all_scored(sheet: Sheet) -> str | None:
        return f"Còn {sheet.missing} tiêu chí chưa chấm." if sheet.missing else None

    machine = sheet_machine(guards={"submit": all_scored})
    sheet, recorded = Sheet("self_scoring", missing=2), []
    with pytest.raises(GuardFailed) as caught:
        machine.apply(sheet, "submit", ACTORS["unit_head"], record=recorded.append)
    assert caught.value.message == "Còn 2 tiêu chí chưa chấm."
    assert (sheet.state, recorded) == ("self_scoring", [])

    # Permission is checked before the guard.
    with pytest.raises(NotPermitted):
        machine.apply(sheet, "submit", ACTORS["unit_staff"])

    sheet.missing = 0
    machine.apply(sheet, "submit", ACTORS["unit_head"], record=recorded.append)
    assert sheet.state == "submitted"
    assert [entry.action for entry in recorded] == ["submit"]


def test_guards_are_not_evaluated_for_buttons() -> None:
    machine = sheet_machine(guards={"submit": lambda sheet: "Chưa đủ điểm."})
    sheet = Sheet("self_scoring")
    assert [row.action for row in machine.actions_for(sheet, ACTORS["unit_head"])] == ["submit"]
    assert machine.can_apply(sheet, "submit", ACTORS["unit_head"])
    assert machine.as_table()[1]["guarded"] is True


def test_permission_is_checked_before_the_note() -> None:
    sheet = Sheet("verified")
    with pytest.raises(NotPermitted):
        MACHINE.apply(sheet, "return", ACTORS["office"], None)


def test_a_failing_audit_callback_restores_the_state() -> None:
    def broken(entry: TransitionRecord) -> None:
        raise RuntimeError("cơ sở dữ liệu lỗi")

    sheet = Sheet("submitted")
    with pytest.raises(RuntimeError):
        MACHINE.apply(sheet, "review", ACTORS["cluster_leader"], record=broken)
    assert sheet.state == "submitted"


def test_the_callback_sees_the_new_state_and_the_cleaned_note() -> None:
    sheet, seen = Sheet("submitted"), []
    MACHINE.apply(
        sheet,
        "return",
        ACTORS["cluster_leader"],
        f"  {NOTE}  ",
        record=lambda entry: seen.append((sheet.state, entry.note)),
    )
    assert seen == [("self_scoring", NOTE)]


def test_errors_carry_vietnamese_messages_and_codes() -> None:
    with pytest.raises(NotPermitted) as caught:
        MACHINE.apply(Sheet("self_scoring"), "submit", ACTORS["unit_staff"])
    assert caught.value.code == "not_permitted"
    assert caught.value.message == "Bạn không có quyền thực hiện “Nộp” ở trạng thái “Đang tự chấm”."
    assert (caught.value.action, caught.value.state) == ("submit", "self_scoring")

    with pytest.raises(IllegalTransition) as caught:
        MACHINE.apply(Sheet("approved"), "submit", ACTORS["unit_head"])
    assert caught.value.code == "illegal_transition"
    assert caught.value.message == "Không thể thực hiện “Nộp” khi đang ở trạng thái “Đã công nhận”."

    with pytest.raises(IllegalTransition) as caught:
        MACHINE.apply(Sheet("approved"), "no_such_action", ACTORS["unit_head"])
    assert "no_such_action" in caught.value.message


def test_check_changes_nothing_and_returns_the_row() -> None:
    sheet = Sheet("cluster_scored")
    row = MACHINE.check(sheet, "return_to_cluster", ACTORS["office"], NOTE)
    assert (row.target, row.requires_note, sheet.state) == ("submitted", True, "cluster_scored")


# -- replay and the readable table --------------------------------------------------


def test_replay_follows_an_audit_trail() -> None:
    trail = ["start", "submit", "review", "return", "submit", "review", "verify", "approve"]
    assert MACHINE.replay("not_started", trail) == "approved"
    assert MACHINE.replay("not_started", []) == "not_started"


def test_replay_rejects_an_impossible_trail() -> None:
    with pytest.raises(IllegalTransition):
        MACHINE.replay("not_started", ["start", "approve"])


def test_as_table_is_readable() -> None:
    first, second = MACHINE.as_table()[:2]
    assert first == {
        "source": "not_started",
        "source_label": "Chưa chấm",
        "action": "start",
        "label": "Bắt đầu tự chấm",
        "target": "self_scoring",
        "target_label": "Đang tự chấm",
        "who": "Đơn vị",
        "requires_note": False,
        "guarded": False,
    }
    assert (second["label"], second["target_label"]) == ("Nộp", "Đã nộp")
    labels = {row["target"]: row["target_label"] for row in MACHINE.as_table()}
    assert labels["cluster_scored"] == "Cụm đã chấm"
    assert labels["verified"] == "Đã thẩm định"
    assert labels["approved"] == "Đã công nhận"


def test_return_actions_are_recognised() -> None:
    returns = {action for action in DEFAULT_ACTIONS if is_return_action(action)}
    assert returns == {"return", "return_to_cluster", "return_to_office"}


# -- property: random action sequences ------------------------------------------------


@pytest.mark.parametrize("steps", [DEFAULT_STEPS, THREE_STEPS], ids=["default", "three_steps"])
@settings(deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from((*DEFAULT_ACTIONS, "nonsense")),
            st.sampled_from(sorted(ACTORS)),
            st.sampled_from([None, "", NOTE]),
        ),
        max_size=60,
    )
)
def test_random_sequences_stay_in_the_table_and_replay(
    steps: tuple[StepSpec, ...], moves: list[tuple[str, str, str | None]]
) -> None:
    machine = sheet_machine(steps)
    sheet, trail = Sheet("not_started"), []
    for action, role, note in moves:
        before = sheet.state
        try:
            machine.apply(sheet, action, ACTORS[role], note, record=trail.append)
        except TransitionError:
            assert sheet.state == before
        assert sheet.state in machine.states
    assert machine.replay("not_started", [entry.action for entry in trail]) == sheet.state
    assert all(entry.source != entry.target for entry in trail)


# -- configurable steps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "role"),
    list(
        itertools.product(
            ("not_started", "self_scoring", "submitted", "verified", "approved"),
            ("start", "submit", "verify", "approve", "return", "return_to_office", "review"),
            ACTORS,
        )
    ),
)
def test_three_step_matrix(state: str, action: str, role: str) -> None:
    machine = sheet_machine(THREE_STEPS)
    sheet, recorded = Sheet(state), []
    row = THREE_STEP_TABLE.get((state, action))
    if row is not None and role in row[1]:
        machine.apply(sheet, action, ACTORS[role], NOTE, record=recorded.append)
        assert sheet.state == row[0]
        assert len(recorded) == 1
    else:
        with pytest.raises(expected_error(THREE_STEP_TABLE, state, action)):
            machine.apply(sheet, action, ACTORS[role], NOTE, record=recorded.append)
        assert (sheet.state, recorded) == (state, [])


def test_three_step_table_has_no_cluster_state() -> None:
    machine = sheet_machine(THREE_STEPS)
    assert machine.states == ("not_started", "self_scoring", "submitted", "verified", "approved")
    assert {(row.source, row.action) for row in machine.transitions} == set(THREE_STEP_TABLE)


EXTRA_STEP = StepSpec(
    "block", "Khối bình xét", "block_review", "Hoàn thành bình xét", "block_reviewed",
    "Khối đã bình xét", "Khối trưởng",
)  # fmt: skip
MIDDLE_STEPS = (CLUSTER_STEP, EXTRA_STEP, OFFICE_STEP)


@given(middle=st.lists(st.sampled_from(MIDDLE_STEPS), unique=True))
def test_any_ordered_subset_of_steps_builds_a_consistent_table(middle: list[StepSpec]) -> None:
    steps = (SELF_STEP, *middle, COUNCIL_STEP)
    machine = build_sheet_machine(
        steps,
        is_unit_staff=is_unit_staff,
        is_unit_head=is_unit_head,
        is_reviewer_for_step=lambda sheet, actor, key: True,
    )
    done = [step.done_state for step in steps]
    assert machine.states == ("not_started", "self_scoring", *done)
    happy = ["start", *(step.action for step in steps)]
    assert machine.replay("not_started", happy) == "approved"
    assert machine.transitions_from("approved") == []
    # Step k's reviewer can return to self-scoring and to each earlier review step.
    for index, step in enumerate(steps[1:]):
        pending = done[index]
        returns = [row for row in machine.transitions_from(pending) if row.requires_note]
        targets = {row.target for row in returns}
        assert targets == {"self_scoring", *done[:index]}
        assert all(is_return_action(row.action) for row in returns)
        forward = [row for row in machine.transitions_from(pending) if not row.requires_note]
        assert [(row.action, row.target) for row in forward] == [(step.action, step.done_state)]


def test_an_added_step_is_reviewed_by_its_own_reviewer() -> None:
    roles = {**REVIEWER_ROLE, "block": "block_leader"}
    machine = build_sheet_machine(
        (SELF_STEP, CLUSTER_STEP, EXTRA_STEP, OFFICE_STEP, COUNCIL_STEP),
        is_unit_staff=is_unit_staff,
        is_unit_head=is_unit_head,
        is_reviewer_for_step=lambda sheet, actor, key: actor.role == roles[key],
    )
    sheet = Sheet("cluster_scored")
    with pytest.raises(NotPermitted):
        machine.apply(sheet, "block_review", ACTORS["cluster_leader"])
    machine.apply(sheet, "block_review", Actor("block_leader"))
    assert sheet.state == "block_reviewed"
    machine.apply(sheet, "return_to_block", ACTORS["office"], NOTE)
    assert sheet.state == "cluster_scored"


def test_steps_from_config() -> None:
    steps = steps_from_config(["self", "office", dict(EXTRA_STEP.__dict__), "council"])
    assert steps == (SELF_STEP, OFFICE_STEP, EXTRA_STEP, COUNCIL_STEP)
    with pytest.raises(TableError):
        steps_from_config(["self", "nowhere"])
    with pytest.raises(TableError):
        steps_from_config(["self", {"key": "x"}])


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param((SELF_STEP,), id="only-self"),
        pytest.param((OFFICE_STEP, COUNCIL_STEP), id="not-starting-with-self"),
        pytest.param((SELF_STEP, OFFICE_STEP, OFFICE_STEP), id="duplicate-step"),
        pytest.param((SELF_STEP, COUNCIL_STEP, SELF_STEP), id="self-twice"),
        pytest.param(
            (SELF_STEP, StepSpec("x", "X", "return_to_self", "X", "x_done", "X")),
            id="reserved-action",
        ),
        pytest.param(
            (SELF_STEP, StepSpec("x", "X", "check", "X", "self_scoring", "X")),
            id="reserved-state",
        ),
        pytest.param(
            (SELF_STEP, StepSpec("x", "X", "approve", "X", "x_done", "X"), COUNCIL_STEP),
            id="duplicate-action",
        ),
    ],
)
def test_invalid_step_configurations_are_rejected(steps: tuple[StepSpec, ...]) -> None:
    with pytest.raises(TableError):
        sheet_machine(steps)


def test_a_guard_for_an_unknown_action_is_rejected() -> None:
    with pytest.raises(TableError):
        sheet_machine(guards={"review": lambda sheet: None}, steps=THREE_STEPS)


# -- the generic engine ------------------------------------------------------------------


class DraftState(StrEnum):
    DRAFT = "draft"
    CONSULTING = "consulting"


def test_table_validation_errors() -> None:
    row = Transition("a", "go", "b")
    with pytest.raises(TableError, match="hai lần"):
        Machine([row, Transition("a", "go", "c")])
    with pytest.raises(TableError, match="không có trong danh sách"):
        Machine([row], states=["a"])
    with pytest.raises(TableError, match="không có dòng nào"):
        Machine([])
    with pytest.raises(TableError, match="trùng lặp"):
        Machine([row], states=["a", "b", "a"])
    with pytest.raises(TableError, match="Nhãn"):
        Machine([row], labels={"z": "Không có"})
    with pytest.raises(TableError):
        Machine([Transition("a", "", "b")])


def test_generic_machine_with_enum_states_and_a_custom_attribute() -> None:
    @dataclass
    class Draft:
        status: DraftState = DraftState.DRAFT

    machine = Machine(
        [Transition(DraftState.DRAFT, "open", DraftState.CONSULTING, label="Lấy ý kiến")],
        state_attr="status",
        states=list(DraftState),
        labels={DraftState.DRAFT: "Nháp", DraftState.CONSULTING: "Đang lấy ý kiến"},
    )
    draft = Draft()
    entry = machine.apply(draft, "open", actor="drafter")
    assert draft.status is DraftState.CONSULTING
    assert entry.source == DraftState.DRAFT
    assert machine.as_table()[0]["target_label"] == "Đang lấy ý kiến"
    assert machine.replay("draft", ["open"]) == "consulting"
    with pytest.raises(IllegalTransition, match="Lấy ý kiến"):
        machine.apply(draft, "open", actor="drafter")
