"""Consultation operations: opening rounds, comments, positions, conference opinions,
deadlines and closing, checked on the database rows they leave behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from accounts.clock import now
from accounts.errors import Conflict, Forbidden, Invalid
from accounts.models import AuditEntry, Role
from comments.consultation import operations, queries
from comments.consultation.models import (
    VISIBILITY_LABELS,
    Comment,
    CommentSource,
    PositionSubmission,
    ResponseStatus,
    TrackerStatus,
    Visibility,
)
from drafts import operations as draft_ops
from drafts.lifecycle import apply_draft_action
from drafts.models import DraftState
from drafts.tree import load_version_tree, to_nodes
from extensions import db
from tests.fixtures.comments import (
    LETTER_NUMBER,
    clause_by_label,
    comment_as,
    response_of,
    submit_as,
)
from workflow.engine import IllegalTransition

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội, a Monday


def _open(draft, drafter, units, **kw):  # type: ignore[no-untyped-def]
    params = {
        "units": units,
        "opens_at": now() - timedelta(hours=1),
        "closes_at": now() + timedelta(days=5),
        "visibility": Visibility.BLIND,
        "letter_number": LETTER_NUMBER,
        "letter_text": "Xin ý kiến góp ý.",
        "actor": drafter,
    }
    params.update(kw)
    return operations.open_consultation(draft, draft.versions[-1], **params)


# --- opening -------------------------------------------------------------------------------
def test_open_creates_one_response_per_unit_and_tells_everyone(org, create_draft, round_notices):
    draft = create_draft(drafter=org.drafter)
    consultation = _open(draft, org.drafter, [org.r1, org.r2, org.r3, org.r1])
    db.session.commit()

    assert consultation.round_number == 1
    assert sorted(r.unit_id for r in consultation.responses) == sorted(
        [org.r1.id, org.r2.id, org.r3.id]
    )
    assert all(r.status == ResponseStatus.NOT_STARTED for r in consultation.responses)
    assert draft.state == DraftState.CONSULTING
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"consultation.open", "draft.open_consultation"} <= actions
    [notice] = round_notices.of_kind("consultation.opened")
    told = {u.username for u in notice["users"]}
    assert told == {"head1", "staff1", "head2", "staff2", "head3", "staff3"}
    assert LETTER_NUMBER in notice["body"]
    assert notice["url"] == f"/comments/rounds/{consultation.id}"


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"closes_at": "past"}, Invalid, "tương lai"),
        ({"closes_at": "before_open"}, Invalid, "sau thời điểm bắt đầu"),
        ({"units": []}, Invalid, "ít nhất một đơn vị"),
        ({"letter_number": "  "}, Invalid, "số công văn"),
    ],
)
def test_open_refuses_bad_input(org, create_draft, change, error, words):
    draft = create_draft(drafter=org.drafter)
    kw = dict(change)
    if kw.get("closes_at") == "past":
        kw["closes_at"] = now() - timedelta(minutes=1)
        kw["opens_at"] = now() - timedelta(days=2)
    elif kw.get("closes_at") == "before_open":
        kw["opens_at"] = now() + timedelta(days=3)
        kw["closes_at"] = now() + timedelta(days=2)
    with pytest.raises(error) as exc:
        _open(draft, org.drafter, kw.pop("units", [org.r1]), **kw)
    assert words in exc.value.message
    db.session.rollback()
    assert draft.state == DraftState.DRAFT


def test_open_needs_a_published_version_and_the_drafter(org, create_draft, create_user):
    unpublished = create_draft(drafter=org.drafter, published=False)
    with pytest.raises(Conflict, match="chưa được phát hành"):
        _open(unpublished, org.drafter, [org.r1])
    db.session.rollback()
    draft = create_draft(drafter=org.drafter)
    other_drafter = create_user(Role.DRAFTER, unit=org.office)
    with pytest.raises(Forbidden):
        _open(draft, other_drafter, [org.r1])
    with pytest.raises(Forbidden):
        _open(draft, org.head1, [org.r1])


def test_a_draft_under_consultation_cannot_open_a_second_round(org, blind_round):
    db.session.commit()
    with pytest.raises(IllegalTransition):
        _open(blind_round.draft, org.drafter, [org.r1], letter_number="126/VKS-VP")


def test_invite_a_whole_cluster_of_the_current_year(org, create_group, create_unit):
    with time_machine.travel(datetime(2026, 6, 10, 3, 0, tzinfo=UTC), tick=False):
        year = operations.current_year()
        assert year is not None and year.year == 2026
        units = operations.invitees([org.dept], [org.cluster], year=year)
        assert [u.short_name for u in units] == ["P1", "KV1", "KV2", "KV3"]
        old = create_group([create_unit()], year=2025, name="Cụm thi đua số 9")
        with pytest.raises(Invalid, match="năm thi đua hiện tại"):
            operations.invitees([], [old], year=year)


def test_a_new_round_on_the_next_version_after_revision(org, create_draft):
    draft = create_draft(drafter=org.drafter)
    first = _open(draft, org.drafter, [org.r1, org.r2])
    db.session.commit()
    operations.close_round(first, actor=org.drafter)
    apply_draft_action(draft, "start_consolidation", org.drafter)
    apply_draft_action(draft, "revise", org.drafter)
    nodes = to_nodes(load_version_tree(draft.versions[0]))
    v2 = draft_ops.create_version(draft, actor=org.drafter, nodes=nodes, based_on=draft.versions[0])
    db.session.flush()
    draft_ops.publish_version(v2, actor=org.drafter)
    db.session.commit()

    # The version already consulted cannot go out again.
    with pytest.raises(Conflict, match="đã được lấy ý kiến"):
        operations.open_consultation(
            draft,
            draft.versions[0],
            units=[org.r1],
            opens_at=now(),
            closes_at=now() + timedelta(days=5),
            visibility=Visibility.OPEN,
            letter_number="200/VKS-VP",
            letter_text="",
            actor=org.drafter,
        )
    second = _open(draft, org.drafter, [org.r1, org.r3], letter_number="200/VKS-VP")
    db.session.commit()
    assert second.round_number == 2 and second.version.number == 2
    assert draft.state == DraftState.CONSULTING
    history = queries.rounds_of_draft(draft)
    assert [(c.round_number, c.version.number) for c in history] == [(1, 1), (2, 2)]
    assert history[0].closed_at is not None and history[1].closed_at is None


# --- comments ------------------------------------------------------------------------------
def test_first_comment_starts_drafting(org, blind_round):
    response = response_of(blind_round, org.r1)
    assert response.status == ResponseStatus.NOT_STARTED
    comment = comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Đề nghị bỏ điểm đ.")
    assert response.status == ResponseStatus.DRAFTING
    assert comment.lineage == clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7").lineage
    assert comment.search_text == "de nghi bo diem d."
    general = comment_as(org.head1, blind_round, None, "Ý kiến chung về bố cục.")
    assert general.is_general and general.clause_id is None


def test_a_clause_of_another_version_is_refused(org, blind_round, create_draft):
    other = create_draft(drafter=org.drafter, title="Quy chế khác")
    foreign = clause_by_label(other.versions[-1], "khoản 1 Điều 7")
    with pytest.raises(Invalid) as exc:
        operations.add_comment(
            response_of(blind_round, org.r1), clause=foreign, text="Sai phiên bản", actor=org.staff1
        )
    assert "không thuộc Dự thảo lần 1" in exc.value.message
    db.session.rollback()
    assert db.session.scalar(select(Comment.id)) is None


def test_only_the_units_people_comment_for_it(org, blind_round, create_user):
    response = response_of(blind_round, org.r1)
    for outsider in (org.staff2, org.drafter, create_user(Role.COUNCIL_MEMBER, unit=org.r1)):
        assert not response.can_comment(outsider)
        with pytest.raises(Forbidden):
            operations.add_comment(response, clause=None, text="Không được", actor=outsider)


def test_stale_edit_is_a_conflict_and_changes_nothing(org, blind_round):
    comment = comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Bản đầu.")
    seen = comment.lock_version
    operations.edit_comment(comment, text="Bản của Thủ trưởng.", lock_version=seen, actor=org.head1)
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        operations.edit_comment(
            comment, text="Bản của cán bộ.", lock_version=seen, actor=org.staff1
        )
    assert "vừa được người khác sửa" in exc.value.message
    assert exc.value.details["current_text"] == "Bản của Thủ trưởng."
    db.session.rollback()
    assert db.session.get(Comment, comment.id).text == "Bản của Thủ trưởng."
    with pytest.raises(Conflict):
        operations.delete_comment(comment, lock_version=seen, actor=org.staff1)
    operations.delete_comment(comment, lock_version=comment.lock_version, actor=org.staff1)
    db.session.commit()
    assert db.session.get(Comment, comment.id) is None


def test_nothing_can_be_written_before_the_round_opens(org, open_round):
    consultation = open_round(
        opens_at=now() + timedelta(days=1), closes_at=now() + timedelta(days=6)
    )
    with pytest.raises(Conflict, match="chưa bắt đầu"):
        operations.add_comment(
            response_of(consultation, org.r1), clause=None, text="Sớm quá", actor=org.staff1
        )


def test_after_the_close_everything_is_read_only(org, blind_round):
    comment = comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Trước khi kết thúc.")
    operations.close_round(blind_round, actor=org.drafter)
    db.session.commit()
    assert blind_round.draft.state == DraftState.CONSULTATION_CLOSED
    response = response_of(blind_round, org.r1)
    assert not response.can_comment(org.staff1) and not response.can_submit(org.head1)
    with pytest.raises(Conflict) as exc:
        operations.add_comment(response, clause=None, text="Muộn rồi", actor=org.staff1)
    assert "đã kết thúc" in exc.value.message
    with pytest.raises(Conflict, match="đã kết thúc"):
        operations.edit_comment(comment, text="Sửa", lock_version=None, actor=org.staff1)
    with pytest.raises(Conflict, match="đã kết thúc"):
        operations.submit_position(response, agrees=False, actor=org.head1)
    with pytest.raises(Conflict, match="đã kết thúc"):
        operations.close_round(blind_round, actor=org.drafter)


def test_the_system_closes_a_round_without_an_actor(org, blind_round, round_notices):
    operations.close_round(blind_round)
    db.session.commit()
    assert blind_round.closed_at is not None
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "consultation.close")
    ).one()
    assert entry.actor_id is None and set(entry.details["without_position"]) == {
        "KV1",
        "KV2",
        "KV3",
    }
    assert round_notices.of_kind("consultation.closed")
    with pytest.raises(Forbidden):
        operations.close_round(blind_round, actor=org.head1)


# --- positions -----------------------------------------------------------------------------
def test_agreeing_is_refused_while_the_unit_has_comments(org, blind_round):
    response = response_of(blind_round, org.r1)
    with pytest.raises(Invalid, match="chưa có ý kiến góp ý nào"):
        operations.submit_position(response, agrees=False, actor=org.head1)
    comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Góp ý.")
    with pytest.raises(Invalid) as exc:
        operations.submit_position(response, agrees=True, actor=org.head1)
    assert "1 ý kiến góp ý" in exc.value.message and "thống nhất" in exc.value.message
    assert response.status == ResponseStatus.DRAFTING


def test_staff_cannot_submit(org, blind_round):
    comment_as(org.staff1, blind_round, None, "Góp ý chung.")
    response = response_of(blind_round, org.r1)
    assert not response.can_submit(org.staff1)
    with pytest.raises(Forbidden, match="Thủ trưởng"):
        operations.submit_position(response, agrees=False, actor=org.staff1)
    with pytest.raises(Forbidden):
        operations.submit_position(response, agrees=False, actor=org.head2)


def test_agreeing_without_comments_counts(org, blind_round, round_notices):
    submission = submit_as(org.head2, blind_round, agrees=True)
    response = response_of(blind_round, org.r2)
    assert response.is_submitted and response.agrees_without_comments
    assert submission.snapshot == [] and not submission.late
    board = queries.tracker(blind_round)
    assert board.counts[TrackerStatus.AGREED] == 1 and board.agreed == 1
    [notice] = round_notices.of_kind("consultation.position")
    assert {u.username for u in notice["users"]} == {"drafter"}
    assert "thống nhất với dự thảo" in notice["body"]


def test_submit_keeps_a_snapshot_with_citation_labels(org, blind_round):
    comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Đề nghị bỏ điểm đ.")
    comment_as(org.head1, blind_round, None, "Thống nhất về bố cục.")
    submission = submit_as(org.head1, blind_round)
    assert [(i["label"], i["text"]) for i in submission.snapshot] == [
        ("Ý kiến chung", "Thống nhất về bố cục."),
        ("điểm đ khoản 4 Điều 7", "Đề nghị bỏ điểm đ."),
    ]
    response = response_of(blind_round, org.r1)
    assert response.submitted_by_id == org.head1.id
    with pytest.raises(Conflict, match="đã gửi ý kiến"):
        operations.add_comment(response, clause=None, text="Thêm", actor=org.staff1)


def test_a_changed_position_is_not_submitted_blind(org, blind_round):
    comment = comment_as(org.staff1, blind_round, None, "Góp ý.")
    response = response_of(blind_round, org.r1)
    seen = operations.position_fingerprint([comment])
    operations.edit_comment(comment, text="Góp ý đã sửa.", lock_version=None, actor=org.staff1)
    db.session.commit()
    with pytest.raises(Conflict, match="vừa thay đổi"):
        operations.submit_position(response, agrees=False, actor=org.head1, fingerprint=seen)
    operations.submit_position(
        response,
        agrees=False,
        actor=org.head1,
        fingerprint=operations.position_fingerprint([comment]),
    )


def test_reopen_and_submit_again_keeps_the_history(org, blind_round):
    comment = comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Lần đầu.")
    submit_as(org.head1, blind_round)
    response = response_of(blind_round, org.r1)
    assert response.can_reopen(org.head1) and not response.can_reopen(org.staff1)
    operations.reopen_position(response, actor=org.head1)
    db.session.commit()
    assert response.status == ResponseStatus.DRAFTING and response.submitted_at is None
    operations.edit_comment(comment, text="Lần hai.", lock_version=None, actor=org.staff1)
    db.session.commit()
    submit_as(org.head1, blind_round)

    history = db.session.scalars(
        select(PositionSubmission)
        .where(PositionSubmission.response_id == response.id)
        .order_by(PositionSubmission.id)
    ).all()
    assert [h.action for h in history] == ["submit", "reopen", "submit"]
    assert history[0].snapshot[0]["text"] == "Lần đầu."
    assert history[2].snapshot[0]["text"] == "Lần hai."
    assert {e.action for e in db.session.scalars(select(AuditEntry))} >= {
        "position.submit",
        "position.reopen",
    }


def test_late_submission_is_accepted_and_marked(org, create_draft, open_round):
    with time_machine.travel(T0, tick=False):
        consultation = open_round(opens_at=T0, closes_at=T0 + timedelta(days=5))
        comment_as(org.staff1, consultation, "khoản 1 Điều 7", "Gửi muộn một chút.")
        response = response_of(consultation, org.r1)
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        assert response.tracker_status() == TrackerStatus.OVERDUE
        assert not response.can_reopen(org.head1)
        submission = submit_as(org.head1, consultation)
        assert submission.late and response.is_late
        assert response.tracker_status() == TrackerStatus.LATE
        with pytest.raises(Conflict, match="hết hạn góp ý của đơn vị"):
            operations.reopen_position(response, actor=org.head1)


def test_the_drafter_extends_one_units_deadline(org, open_round, round_notices):
    with time_machine.travel(T0, tick=False):
        consultation = open_round(opens_at=T0, closes_at=T0 + timedelta(days=5))
        kv2 = response_of(consultation, org.r2)
        with pytest.raises(Invalid, match="sau hạn chung"):
            operations.extend_deadline(kv2, deadline=T0 + timedelta(days=4), actor=org.drafter)
        with pytest.raises(Forbidden):
            operations.extend_deadline(kv2, deadline=T0 + timedelta(days=8), actor=org.head2)
        operations.extend_deadline(kv2, deadline=T0 + timedelta(days=8), actor=org.drafter)
        db.session.commit()
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        assert kv2.tracker_status() == TrackerStatus.NOT_STARTED
        assert response_of(consultation, org.r3).tracker_status() == TrackerStatus.OVERDUE
        submission = submit_as(org.head2, consultation, agrees=True)
        assert not submission.late and kv2.tracker_status() == TrackerStatus.AGREED
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "position.extend")
    ).one()
    assert entry.actor_id == org.drafter.id and entry.details["to"].startswith("2026-03-10")
    [notice] = round_notices.of_kind("consultation.extended")
    assert {u.username for u in notice["users"]} == {"head2", "staff2"}


def test_tracker_shows_every_state_at_a_frozen_time(org, open_round, create_unit, create_user):
    extra = create_unit("Phòng 2", "P2")
    head_p1 = create_user(Role.UNIT_HEAD, unit=org.dept)
    head_p2 = create_user(Role.UNIT_HEAD, unit=extra)
    with time_machine.travel(T0, tick=False):
        consultation = open_round(
            units=[org.r1, org.r2, org.r3, org.dept, extra],
            opens_at=T0,
            closes_at=T0 + timedelta(days=5),
        )
        comment_as(org.staff1, consultation, "khoản 1 Điều 7", "Đang soạn.")  # KV1 drafting
        comment_as(org.staff2, consultation, None, "Gửi đúng hạn.")
        submit_as(org.head2, consultation)  # KV2 submitted
        submit_as(head_p1, consultation, agrees=True)  # P1 agreed
        board = queries.tracker(consultation)
        states = {row.unit_short_name: row.status for row in board.rows}
        assert states == {
            "KV1": TrackerStatus.DRAFTING,
            "KV2": TrackerStatus.SUBMITTED,
            "KV3": TrackerStatus.NOT_STARTED,
            "P1": TrackerStatus.AGREED,
            "P2": TrackerStatus.NOT_STARTED,
        }
        # A unit's unsent drafts stay private: the drafter sees no count for KV1.
        counts = {row.unit_short_name: row.written for row in board.rows}
        assert counts["KV1"] is None and counts["KV2"] == 1
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        submit_as(head_p2, consultation, agrees=True)  # P2 late
        board = queries.tracker(consultation)
        states = {row.unit_short_name: row.status for row in board.rows}
        assert states == {
            "KV1": TrackerStatus.OVERDUE,
            "KV2": TrackerStatus.SUBMITTED,
            "KV3": TrackerStatus.OVERDUE,
            "P1": TrackerStatus.AGREED,
            "P2": TrackerStatus.LATE,
        }
        assert board.counts == {
            TrackerStatus.NOT_STARTED: 0,
            TrackerStatus.DRAFTING: 0,
            TrackerStatus.SUBMITTED: 1,
            TrackerStatus.AGREED: 1,
            TrackerStatus.LATE: 1,
            TrackerStatus.OVERDUE: 2,
        }
        assert board.agreed == 2  # P1 on time, P2 late: both agree with the draft
        awaiting = queries.responses_awaiting_position()
        assert {r.unit.short_name for r in awaiting} == {"KV1", "KV3"}


# --- conference opinions -------------------------------------------------------------------
def test_twelve_opinions_from_one_online_conference(org, open_round, create_unit):
    districts = [org.r1, org.r2, org.r3] + [create_unit() for _ in range(7)]
    consultation = open_round(units=districts)
    version = consultation.version
    targets = [
        clause_by_label(version, label)
        for label in ("khoản 1 Điều 7", "điểm đ khoản 4 Điều 7", "Điều 2")
    ]
    opinions = [
        operations.ConferenceOpinion(
            unit=districts[i % 10],
            clause=targets[i % 3] if i % 4 else None,
            text=f"Ý kiến số {i + 1} tại hội nghị.",
        )
        for i in range(12)
    ]
    created = operations.record_conference_opinions(
        consultation,
        meeting_date=date.today() - timedelta(days=1),
        meeting_form="Hội nghị trực tuyến",
        opinions=opinions,
        actor=org.drafter,
    )
    db.session.commit()
    assert len(created) == 12
    assert all(c.source == CommentSource.CONFERENCE for c in created)
    assert all(c.meeting_form == "Hội nghị trực tuyến" for c in created)
    board = queries.tracker(consultation)
    assert sum(row.conference for row in board.rows) == 12
    assert {row.unit_id: row.conference for row in board.rows}[org.r1.id] == 2
    # They count like written comments for the drafter, though no unit submitted.
    visible = queries.list_comments(consultation, org.drafter)
    assert len(visible) == 12
    # The units' own written positions are untouched.
    assert all(r.status == ResponseStatus.NOT_STARTED for r in consultation.responses)


def test_conference_opinions_need_an_invited_unit_and_a_past_meeting(org, blind_round):
    opinion = operations.ConferenceOpinion(unit=org.dept, clause=None, text="Ý kiến.")
    with pytest.raises(Invalid, match="không được mời"):
        operations.record_conference_opinions(
            blind_round,
            meeting_date=date.today(),
            meeting_form="Hội nghị trực tuyến",
            opinions=[opinion],
            actor=org.drafter,
        )
    invited = operations.ConferenceOpinion(unit=org.r1, clause=None, text="Ý kiến.")
    with pytest.raises(Invalid, match="Ngày họp"):
        operations.record_conference_opinions(
            blind_round,
            meeting_date=date.today() + timedelta(days=2),
            meeting_form="Hội nghị trực tuyến",
            opinions=[invited],
            actor=org.drafter,
        )
    with pytest.raises(Forbidden):
        operations.record_conference_opinions(
            blind_round,
            meeting_date=date.today(),
            meeting_form="Hội nghị",
            opinions=[invited],
            actor=org.head1,
        )


# --- visibility and search -----------------------------------------------------------------
def _everyone(org):  # type: ignore[no-untyped-def]
    return [
        org.admin,
        org.drafter,
        org.verifier,
        org.council,
        org.head1,
        org.staff1,
        org.head2,
        org.staff2,
        org.head3,
        org.staff3,
    ]


@pytest.mark.parametrize("visibility", list(Visibility))
def test_the_sql_filter_agrees_with_the_predicate(org, open_round, create_user, visibility):
    consultation = open_round(visibility=visibility)
    other_drafter = create_user(Role.DRAFTER, unit=org.office)
    comment_as(org.staff1, consultation, "khoản 1 Điều 7", "KV1 đã gửi.")
    submit_as(org.head1, consultation)
    comment_as(org.staff2, consultation, None, "KV2 chưa gửi.")
    operations.record_conference_opinions(
        consultation,
        meeting_date=date.today(),
        meeting_form="Hội nghị trực tuyến",
        opinions=[operations.ConferenceOpinion(unit=org.r3, clause=None, text="Hội nghị.")],
        actor=org.drafter,
    )
    db.session.commit()
    every = db.session.scalars(select(Comment)).all()
    for phase in ("open", "closed"):
        for user in [*_everyone(org), other_drafter]:
            expected = {c.text for c in every if c.can_view(user)}
            seen = {c.text for c in queries.list_comments(consultation, user)}
            assert seen == expected, (phase, user.username)
        if phase == "open":
            operations.close_round(consultation, actor=org.drafter)
            db.session.commit()
    # Spot checks of the rule itself.
    sent, draft, conference = (
        next(c for c in every if c.text == t) for t in ("KV1 đã gửi.", "KV2 chưa gửi.", "Hội nghị.")
    )
    assert not draft.can_view(org.drafter) and draft.can_view(org.head2)
    assert sent.can_view(org.drafter) and conference.can_view(org.drafter)
    assert not sent.can_view(other_drafter)


def test_blind_until_the_close_open_after_submission(org, open_round):
    blind = open_round(visibility=Visibility.BLIND)
    comment_as(org.staff1, blind, None, "Ý kiến của KV1.")
    submit_as(org.head1, blind)
    assert [c.text for c in queries.list_comments(blind, org.staff3)] == []
    operations.close_round(blind, actor=org.drafter)
    db.session.commit()
    assert [c.text for c in queries.list_comments(blind, org.staff3)] == ["Ý kiến của KV1."]


def test_search_ignores_diacritics(org, blind_round):
    comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Đề nghị bổ sung tiêu chí chấm điểm.")
    comment_as(org.staff1, blind_round, "khoản 4 Điều 7", "Cần quy định rõ thời hạn.")
    submit_as(org.head1, blind_round)
    found = queries.list_comments(blind_round, org.drafter, queries.CommentFilters(q="tieu chi"))
    assert [c.text for c in found] == ["Đề nghị bổ sung tiêu chí chấm điểm."]
    found = queries.list_comments(blind_round, org.drafter, queries.CommentFilters(q="THỜI HAN"))
    assert [c.text for c in found] == ["Cần quy định rõ thời hạn."]
    assert queries.list_comments(blind_round, org.drafter, queries.CommentFilters(q="100%")) == []


def test_filters_by_unit_clause_subtree_and_status(org, blind_round):
    comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Điểm đ.")
    comment_as(org.staff1, blind_round, "Điều 2", "Điều 2.")
    submit_as(org.head1, blind_round)
    comment_as(org.staff2, blind_round, "khoản 1 Điều 7", "KV2 khoản 1.")
    submit_as(org.head2, blind_round)
    text = queries.load_draft_text(blind_round.version)
    article7 = clause_by_label(blind_round.version, "Điều 7")

    def texts(**kw):  # type: ignore[no-untyped-def]
        found = queries.list_comments(blind_round, org.drafter, queries.CommentFilters(**kw), text)
        return [c.text for c in found]

    assert texts(clause_id=article7.id) == ["KV2 khoản 1.", "Điểm đ."]
    assert texts(unit_id=org.r1.id) == ["Điều 2.", "Điểm đ."]
    assert texts(status=TrackerStatus.SUBMITTED, unit_id=org.r2.id) == ["KV2 khoản 1."]
    assert texts(status=TrackerStatus.NOT_STARTED) == []


def test_display_filename_keeps_vietnamese_and_drops_the_path():
    assert operations.display_filename("C:\\Văn bản\\Công văn số 125.pdf", "pdf") == (
        "Công văn số 125.pdf"
    )
    assert operations.display_filename('../../"dự thảo"<1>.docx', "docx") == "dự thảo1.docx"
    assert operations.display_filename("bao-cao.exe", "pdf") == "bao-cao.exe.pdf"
    assert operations.display_filename("", "xlsx") == "tep-dinh-kem.xlsx"


def test_attachments_are_checked_by_content(org, blind_round, app):
    with pytest.raises(Invalid, match="chỉ nhận tệp PDF"):
        operations.add_attachment(
            blind_round,
            operations.AttachmentUpload("virus.pdf", b"MZ\x90\x00binary"),
            actor=org.drafter,
        )
    attachment = operations.add_attachment(
        blind_round,
        operations.AttachmentUpload("Công văn.pdf", b"%PDF-1.4\n%%EOF\n"),
        actor=org.drafter,
    )
    db.session.commit()
    path = operations.attachment_path(attachment)
    assert path.read_bytes() == b"%PDF-1.4\n%%EOF\n"
    assert attachment.filename == "Công văn.pdf" and attachment.content_type == "application/pdf"
    assert path.name != attachment.filename and path.suffix == ".pdf"


def test_a_blind_round_hides_comments_until_it_closes_as_its_label_says(org, blind_round):
    label = VISIBILITY_LABELS[Visibility.BLIND]
    assert "kết thúc lấy ý kiến" in label and "hết hạn" not in label
    with time_machine.travel(blind_round.closes_at + timedelta(days=2), tick=False):
        # Past the deadline, not yet closed: still hidden from the other units.
        assert not blind_round.can_see_other_units(org.head1)
        operations.close_round(blind_round, org.drafter)
        db.session.commit()
        assert blind_round.can_see_other_units(org.head1)
