"""Every (state, action, role) through apply_sheet_action, and random action sequences."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from accounts.errors import Forbidden, Invalid
from accounts.models import AuditEntry, Role
from app import db
from tests.fixtures.workflow import DEADLINES, place, put_scores, sheet_of
from workflow import operations
from workflow.engine import (
    GuardFailed,
    IllegalTransition,
    NoteRequired,
    NotPermitted,
    TransitionError,
)
from workflow.models import Score, ScoreSheet, ScoreStage, SheetTransition
from workflow.queries import load_criteria

NOTE = "Thiếu minh chứng cho tiêu chí 1.2"

# Written out by hand for the KV2 sheet: (state, action) -> (target, roles allowed).
# "leader" is the head of KV1, Cụm trưởng of the cluster KV2 belongs to.
TABLE = {
    ("not_started", "start"): ("self_scoring", {"staff", "head"}),
    ("self_scoring", "submit"): ("submitted", {"head"}),
    ("submitted", "review"): ("cluster_scored", {"leader"}),
    ("submitted", "return"): ("self_scoring", {"leader"}),
    ("cluster_scored", "verify"): ("verified", {"office"}),
    ("cluster_scored", "return"): ("self_scoring", {"office"}),
    ("cluster_scored", "return_to_cluster"): ("submitted", {"office"}),
    ("verified", "approve"): ("approved", {"council"}),
    ("verified", "return"): ("self_scoring", {"council"}),
    ("verified", "return_to_cluster"): ("submitted", {"council"}),
    ("verified", "return_to_office"): ("cluster_scored", {"council"}),
}
STATES = ("not_started", "self_scoring", "submitted", "cluster_scored", "verified", "approved")
ACTIONS = tuple(dict.fromkeys(action for _state, action in TABLE))
# staff1 works for the leader unit but is not its head: no Cụm power.
ROLES = ("staff", "head", "other_head", "leader", "leader_staff", "office", "council", "admin")


def actor_for(org, role: str):  # type: ignore[no-untyped-def]
    return {
        "staff": org.staff2,
        "head": org.head2,
        "other_head": org.head3,
        "leader": org.head1,
        "leader_staff": org.staff1,
        "office": org.verifier,
        "council": org.council,
        "admin": org.admin,
    }[role]


def counts(sheet: ScoreSheet) -> tuple[int, int]:
    transitions = db.session.scalar(
        select(func.count())
        .select_from(SheetTransition)
        .where(SheetTransition.sheet_id == sheet.id)
    )
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return transitions, audits


@pytest.fixture
def kv2_sheet(org, open_period, fill_all) -> ScoreSheet:  # type: ignore[no-untyped-def]
    period = open_period()
    sheet = sheet_of(period, org.r2)
    fill_all([sheet])  # every column complete, so no guard stands in the way
    return sheet


@pytest.mark.parametrize(
    ("state", "action", "role"), list(itertools.product(STATES, ACTIONS, ROLES))
)
def test_every_state_action_role(org, kv2_sheet, state, action, role):
    place(kv2_sheet, state)
    actor = actor_for(org, role)
    before = counts(kv2_sheet)
    row = TABLE.get((state, action))
    if row is not None and role in row[1]:
        operations.apply_sheet_action(kv2_sheet, action, actor, NOTE)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(ScoreSheet, kv2_sheet.id).state == row[0]
        assert counts(kv2_sheet) == (before[0] + 1, before[1] + 1)
        trail = db.session.scalars(
            select(SheetTransition).where(SheetTransition.sheet_id == kv2_sheet.id)
        ).one()
        assert (trail.source, trail.target, trail.action) == (state, row[0], action)
        assert (trail.actor_id, trail.note) == (actor.id, NOTE)
        audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert audit.action == f"sheet.{action}" and audit.actor_id == actor.id
    else:
        expected = NotPermitted if row is not None else IllegalTransition
        with pytest.raises(expected) as caught:
            operations.apply_sheet_action(kv2_sheet, action, actor, NOTE)
        assert type(caught.value) is expected and caught.value.message
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(ScoreSheet, kv2_sheet.id).state == state
        assert counts(kv2_sheet) == before


def test_returns_need_a_reason_and_change_nothing_without_one(org, kv2_sheet):
    place(kv2_sheet, "submitted")
    before = counts(kv2_sheet)
    with pytest.raises(NoteRequired):
        operations.apply_sheet_action(kv2_sheet, "return", org.head1, "   ")
    db.session.rollback()
    assert counts(kv2_sheet) == before
    assert db.session.get(ScoreSheet, kv2_sheet.id).state == "submitted"


def test_the_leader_unit_is_reviewed_by_the_deputy(org, open_period, fill_all):
    """A Cụm trưởng never reviews its own unit: the Cụm phó (KV2) does."""
    sheet = sheet_of(open_period(), org.r1)
    fill_all([sheet])
    place(sheet, "submitted")
    assert sheet.cluster_reviewer_unit.id == org.r2.id
    with pytest.raises(NotPermitted):
        operations.apply_sheet_action(sheet, "review", org.head1)
    db.session.rollback()
    operations.apply_sheet_action(sheet, "review", org.head2)
    db.session.commit()
    assert sheet.state == "cluster_scored"


def test_without_a_cluster_reviewer_the_office_does_the_cluster_step(
    org, open_period, fill_all, create_unit, create_user
):
    lone = create_unit("Phòng 2", "P2")
    head = create_user(Role.UNIT_HEAD, unit=lone)
    sheet = sheet_of(open_period(units=[lone]), lone)
    fill_all([sheet])
    place(sheet, "submitted")
    assert sheet.group is None and sheet.cluster_reviewer_unit is None
    assert not sheet.can_apply(head, "review")
    assert sheet.can_apply(org.verifier, "review")


def test_guards_list_what_is_missing(org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF, {"1.1": "10", "2": "30"})
    place(sheet, "self_scoring")
    with pytest.raises(GuardFailed) as caught:
        operations.apply_sheet_action(sheet, "submit", org.head2)
    assert "1.2" in caught.value.message and "II" in caught.value.message
    assert "2 tiêu chí" in caught.value.message
    db.session.rollback()

    put_scores(sheet, ScoreStage.SELF, {"1.2": "15", "II": "40"})
    operations.apply_sheet_action(sheet, "submit", org.head2)
    db.session.commit()
    # The Cụm's column holds every self-score it does not change: nothing is missing.
    operations.apply_sheet_action(sheet, "review", org.head1)
    db.session.commit()
    assert sheet.state == "cluster_scored"


def test_transitions_move_the_deadline_and_notify_the_next_holder(org, open_period, fill_all):
    sheet = sheet_of(open_period(), org.r2)
    fill_all([sheet])
    assert sheet.due_at == DEADLINES["self"]
    place(sheet, "self_scoring")
    operations.apply_sheet_action(sheet, "submit", org.head2)
    assert sheet.due_at == DEADLINES["cluster"]
    pending = db.session().info.get("draftflow.pending_notices", [])
    assert any(
        org.head1.id in notice.user_ids and notice.kind == "scoring.submit" for notice in pending
    )
    db.session.commit()
    place(sheet, "verified")
    operations.apply_sheet_action(sheet, "approve", org.council)
    assert sheet.due_at is None


# -- property: random actions by random actors against the stored sheet ----------------------

MOVES = st.lists(
    st.one_of(
        st.tuples(
            st.just("act"),
            st.sampled_from((*ACTIONS, "nonsense")),
            st.sampled_from(ROLES),
            st.sampled_from([None, NOTE]),
        ),
        st.tuples(
            st.just("score"),
            st.sampled_from(("1.1", "1.2", "2", "II")),
            st.sampled_from(ROLES),
            st.tuples(st.sampled_from(["5", "7,5", "0", "10"]), st.sampled_from([None, NOTE])),
        ),
    ),
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=MOVES)
def test_random_sequences_keep_every_score_and_replay(org, adopted_criteria, moves):
    # A fresh period per example: the database is not wiped between examples.
    period = operations.open_period(
        adopted_criteria,
        f"Kỳ thử {next(_numbers)}",
        [org.r2],
        None,
        DEADLINES,
        None,
        None,
        None,
        org.verifier,
        year=2026,
    )
    db.session.commit()
    sheet = period.sheets[0]
    table = load_criteria(period.criteria_version_id)
    keys = {row.number: row.key for row in table.rows}
    machine = period.machine()
    expected: dict[tuple[str, str], Decimal] = {}

    def stored() -> dict[tuple[str, str], Decimal | None]:
        return {
            (score.stage.value, score.lineage): score.value
            for score in db.session.scalars(select(Score).where(Score.sheet_id == sheet.id))
        }

    for kind, what, role, extra in moves:
        actor = actor_for(org, role)
        before, kept = sheet.state, stored()
        try:
            if kind == "act":
                operations.apply_sheet_action(sheet, what, actor, extra)
            else:
                stage = sheet.editable_stage or ScoreStage.SELF
                current = next(
                    (s for s in sheet.scores if s.stage == stage and s.lineage == keys[what]), None
                )
                value, note = extra
                entry = operations.ScoreInput(
                    keys[what], value, current.lock_version if current else 0, note
                )
                if operations.save_scores(sheet, stage, [entry], actor):
                    expected[(stage.value, keys[what])] = Decimal(value.replace(",", "."))
            db.session.commit()
        except (TransitionError, Forbidden, Invalid):
            db.session.rollback()
            assert sheet.state == before
        assert sheet.state in machine.states
        db.session.expire_all()
        if kind == "act":
            # A move, a return above all, keeps every column's values as they were.
            assert stored() == kept

    assert stored() == expected  # every saved score kept, in its own column
    trail = db.session.scalars(
        select(SheetTransition.action)
        .where(SheetTransition.sheet_id == sheet.id)
        .order_by(SheetTransition.id)
    ).all()
    assert machine.replay("not_started", trail) == db.session.get(ScoreSheet, sheet.id).state


_numbers = itertools.count(1)
