"""A round's conference: set up by the drafter, recorded by its secretary; the opinions
become the round's comments, attributed to the unit, marked as from the conference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.errors import Conflict, Forbidden, Invalid, NotFound
from accounts.models import AuditEntry, Role
from comments.conference import operations
from comments.conference.models import Conference, Opinion
from comments.consolidation.queries import load_consolidation
from comments.consultation import operations as round_operations
from comments.consultation.models import Comment, CommentSource
from extensions import db
from tests.fixtures.comments import clause_by_label
from tests.fixtures.conference import meeting_details, speak


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_opinion_is_a_comment_of_the_unit_from_the_conference(org, conference, secretary):
    opinion = speak(conference, secretary, org.r1, "khoản 4 Điều 7", "Đề nghị bỏ điểm đ.")
    comment = db.session.get(Comment, opinion.comment_id)
    assert comment.unit_id == org.r1.id and comment.source == CommentSource.CONFERENCE
    assert (
        comment.clause_id == clause_by_label(conference.consultation.version, "khoản 4 Điều 7").id
    )
    assert comment.meeting_date == conference.held_on
    assert comment.meeting_form == "Hội nghị trực tuyến"
    assert comment.author_id == secretary.id and opinion.speaker_name == "Lê Văn Nói"
    # A unit that speaks attended, with its speaker as representative.
    row = conference.attendance_for(org.r1.id)
    assert row is not None and row.attended and row.representatives == "Lê Văn Nói"
    # It enters the consolidation like a written comment, marked as from the conference.
    data = load_consolidation(conference.consultation)
    found = [c for g in data.groups for c in g.comments if c.id == comment.id]
    assert found and found[0].is_conference
    held = conference.held_on.strftime("%d/%m/%Y")
    assert data.unit_label(comment) == f"{org.r1.name} (ý kiến tại Hội nghị trực tuyến {held})"
    assert "conference.opinion" in actions()


def test_general_opinions_and_every_action_is_audited(org, conference, secretary):
    speak(conference, secretary, org.r2, None, "Thống nhất với bố cục.")
    operations.set_attendance(
        conference,
        [
            operations.AttendanceEntry(org.r1, True, "Lê Văn Trưởng"),
            operations.AttendanceEntry(org.r3, False),
        ],
        actor=secretary,
    )
    clause = clause_by_label(conference.consultation.version, "Điều 2")
    operations.set_current_clause(conference, clause=clause, general=False, actor=secretary)
    operations.set_conclusions(conference, text="Giao Văn phòng tiếp thu.", actor=secretary)
    operations.update_conference(
        conference, details=meeting_details(place="Phòng họp số 2"), actor=org.drafter
    )
    db.session.commit()
    assert conference.current_clause_id == clause.id and not conference.current_general
    assert {a.unit_id: a.attended for a in conference.attendances} == {
        org.r1.id: True,
        org.r3.id: False,
    }
    assert actions()[-6:] == [
        "conference.secretaries",
        "conference.opinion",
        "conference.attendance",
        "conference.current_clause",
        "conference.conclusions",
        "conference.update",
    ]
    general = db.session.scalars(select(Comment).where(Comment.unit_id == org.r2.id)).one()
    assert general.clause_id is None


def test_who_may_record(org, blind_round, create_conference, create_user, secretary):
    other_secretary = create_user(Role.CONFERENCE_SECRETARY, unit=org.office)
    conference = create_conference(blind_round, secretaries=[secretary])
    assert conference.can_record(secretary) and conference.can_record(org.drafter)
    assert not conference.can_record(other_secretary)  # not assigned to this one
    for outsider in (other_secretary, org.head1, org.staff1, org.admin, org.verifier):
        with pytest.raises(Forbidden):
            operations.record_opinion(
                conference, unit=org.r1, clause=None, speaker_name="A", text="B", actor=outsider
            )
    # Only the drafter sets the meeting up and assigns secretaries.
    assert conference.can_manage(org.drafter) and not conference.can_manage(secretary)
    with pytest.raises(Forbidden):
        operations.set_secretaries(conference, [secretary], actor=secretary)
    with pytest.raises(Forbidden):
        operations.update_conference(conference, details=meeting_details(), actor=secretary)
    # A secretary who loses the role loses the conference.
    secretary.role_rows = [r for r in secretary.role_rows if r.role != Role.CONFERENCE_SECRETARY]
    assert not conference.can_record(secretary)


def test_only_users_with_the_role_become_secretaries(org, conference):
    with pytest.raises(Invalid, match="thư ký hội nghị"):
        operations.set_secretaries(conference, [org.staff1], actor=org.drafter)


def test_bad_input_is_refused(org, conference, secretary, create_unit, open_round):
    with pytest.raises(Invalid, match="không được mời"):
        speak(conference, secretary, org.dept)
    with pytest.raises(Invalid, match="người phát biểu"):
        speak(conference, secretary, org.r1, speaker="  ")
    with pytest.raises(Invalid, match="Nội dung ý kiến"):
        speak(conference, secretary, org.r1, text=" \n ")
    other = open_round()
    foreign = clause_by_label(other.version, "Điều 2")
    with pytest.raises(Invalid, match="không thuộc"):
        operations.record_opinion(
            conference, unit=org.r1, clause=foreign, speaker_name="A", text="B", actor=secretary
        )
    with pytest.raises(Invalid, match="địa điểm"):
        operations.update_conference(
            conference, details=meeting_details(place=""), actor=org.drafter
        )
    db.session.rollback()
    assert db.session.scalars(select(Opinion)).all() == []


def test_one_conference_per_round(org, conference):
    with pytest.raises(Conflict, match="đã có hội nghị"):
        operations.create_conference(
            conference.consultation, details=meeting_details(), actor=org.drafter
        )


def test_a_closed_round_takes_nothing_more(org, conference, secretary):
    speak(conference, secretary, org.r1)
    round_operations.close_round(conference.consultation, org.drafter)
    db.session.commit()
    attempts = [
        lambda: speak(conference, secretary, org.r1),
        lambda: operations.set_current_clause(
            conference, clause=None, general=True, actor=secretary
        ),
        lambda: operations.set_conclusions(conference, text="x", actor=secretary),
        lambda: operations.set_attendance(conference, [], actor=secretary),
        lambda: operations.update_conference(
            conference, details=meeting_details(), actor=org.drafter
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict, match="đã kết thúc"):
            attempt()
        db.session.rollback()
    assert len(db.session.scalars(select(Opinion)).all()) == 1


def test_a_deleted_comment_takes_its_opinion_with_it(org, conference, secretary):
    opinion = speak(conference, secretary, org.r1)
    comment = db.session.get(Comment, opinion.comment_id)
    round_operations.delete_comment(comment, lock_version=None, actor=org.drafter)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(Opinion)).all() == []
    assert db.session.get(Conference, conference.id).opinions == []


def test_moving_the_meeting_moves_its_opinions(org, conference, secretary):
    opinion = speak(conference, secretary, org.r1)
    later = conference.starts_at + timedelta(days=1)
    operations.update_conference(
        conference, details=meeting_details(starts_at=later, mode="in_person"), actor=org.drafter
    )
    db.session.commit()
    comment = db.session.get(Comment, opinion.comment_id)
    assert (
        comment.meeting_date == conference.held_on and comment.meeting_form == "Hội nghị trực tiếp"
    )


def test_a_stale_conclusions_edit_is_refused_and_changes_nothing(org, conference, secretary):
    seen = conference.lock_version
    operations.set_conclusions(conference, text="Bản của thư ký.", actor=secretary)
    db.session.commit()
    with pytest.raises(Conflict):
        operations.set_conclusions(
            conference, text="Bản của cán bộ soạn thảo.", actor=org.drafter, lock_version=seen
        )
    assert conference.conclusions == "Bản của thư ký."


def test_an_opinion_recorded_by_mistake_is_taken_back(
    org, conference, secretary, open_round, create_conference
):
    kept = speak(conference, secretary, org.r1, text="Giữ lại.")
    wrong = speak(conference, secretary, org.r2, text="Ghi nhầm đơn vị.")
    comment_id = wrong.comment_id
    operations.delete_opinion(conference, wrong, actor=secretary)
    db.session.commit()
    db.session.expire_all()
    assert [o.id for o in db.session.scalars(select(Opinion))] == [kept.id]
    assert db.session.get(Comment, comment_id) is None
    assert actions()[-1] == "conference.opinion_delete"
    other = create_conference(open_round(), secretaries=[secretary])
    with pytest.raises(NotFound):
        operations.delete_opinion(other, kept, actor=secretary)
    with pytest.raises(Forbidden):
        operations.delete_opinion(conference, kept, actor=org.head1)
    round_operations.close_round(conference.consultation, org.drafter)
    db.session.commit()
    with pytest.raises(Conflict):
        operations.delete_opinion(conference, kept, actor=secretary)
