"""Answering comments (tiếp thu / giải trình): rules, shared answers, locking, progress."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.errors import Conflict, Forbidden, Invalid
from accounts.models import AuditEntry
from comments.consolidation import operations as ops
from comments.consolidation import queries
from comments.consultation.models import Comment, Decision, Disposition
from drafts.lifecycle import apply_draft_action
from drafts.models import DraftState
from extensions import db


@pytest.fixture
def answered_round(org, make_round):  # type: ignore[no-untyped-def]
    """KV1 and KV2 submitted comments, KV3 agreed, Phòng 1 is still drafting."""
    rnd = make_round()
    rnd.comments(
        org.r1,
        [
            (None, "Đề nghị rà soát lỗi chính tả toàn văn."),
            ("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan."),
            ("điểm đ khoản 4 Điều 7", "Đề nghị làm rõ thế nào là không đầy đủ."),
        ],
    )
    rnd.comments(org.r2, [("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")])
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    rnd.submit(org.r3, agrees=True)
    rnd.comment(org.dept, "Điều 1", "Ý kiến nháp của Phòng 1, chưa gửi.")
    return rnd


def comments_of(rnd, unit=None):  # type: ignore[no-untyped-def]
    stmt = select(Comment).where(Comment.consultation_id == rnd.consultation.id)
    if unit is not None:
        stmt = stmt.where(Comment.unit_id == unit.id)
    return list(db.session.scalars(stmt.order_by(Comment.id)))


@pytest.mark.parametrize(
    ("decision", "words"),
    [
        (Decision.PARTLY, "phần được tiếp thu"),
        (Decision.REJECTED, "lý do không tiếp thu"),
        (Decision.EXPLAINED, "nội dung giải trình"),
    ],
)
def test_every_decision_but_acceptance_needs_an_explanation(org, answered_round, decision, words):
    comment = comments_of(answered_round, org.r1)[0]

    with pytest.raises(Invalid) as err:
        ops.dispose([comment], decision, "   ", org.drafter)

    assert words in err.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Disposition.id))) == 0


def test_acceptance_without_explanation_is_allowed(org, answered_round):
    comment = comments_of(answered_round, org.r1)[0]

    disposition = ops.dispose([comment], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()

    assert comment.disposition_id == disposition.id
    assert disposition.decision == Decision.ACCEPTED
    assert disposition.decided_by_id == org.drafter.id
    audit = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "disposition.create")
    ).one()
    assert audit.object_id == disposition.id and audit.actor_id == org.drafter.id


def test_identical_comments_from_two_units_share_one_answer(org, answered_round):
    kv1 = comments_of(answered_round, org.r1)[1]
    kv2 = comments_of(answered_round, org.r2)[0]

    shared = ops.dispose([kv1, kv2], Decision.EXPLAINED, "Đã quy định tại Điều 3.", org.drafter)
    db.session.commit()

    assert {c.id for c in shared.comments} == {kv1.id, kv2.id}
    group = next(
        g
        for g in queries.load_consolidation(answered_round.consultation).groups
        if g.label.startswith("Điều 2")
    )
    assert group.answered == group.total == 2


def test_changing_the_whole_shared_answer_updates_it_in_place(org, answered_round):
    kv1 = comments_of(answered_round, org.r1)[1]
    kv2 = comments_of(answered_round, org.r2)[0]
    shared = ops.dispose([kv1, kv2], Decision.EXPLAINED, "Giữ nguyên.", org.drafter)
    db.session.commit()
    seen = ops.expected_versions_of([kv1, kv2])

    again = ops.dispose([kv1, kv2], Decision.ACCEPTED, "Đã bổ sung.", org.drafter, seen)
    db.session.commit()

    assert again.id == shared.id
    assert again.lock_version == seen[shared.id] + 1
    assert (again.decision, again.explanation) == (Decision.ACCEPTED, "Đã bổ sung.")
    assert db.session.scalar(select(func.count(Disposition.id))) == 1


def test_answering_one_comment_of_a_shared_answer_splits_it(org, answered_round):
    kv1 = comments_of(answered_round, org.r1)[1]
    kv2 = comments_of(answered_round, org.r2)[0]
    shared = ops.dispose([kv1, kv2], Decision.EXPLAINED, "Giữ nguyên.", org.drafter)
    db.session.commit()
    version_before = shared.lock_version

    own = ops.dispose([kv2], Decision.ACCEPTED, "", org.drafter, {shared.id: version_before})
    db.session.commit()
    db.session.expire_all()

    assert own.id != shared.id
    kept = db.session.get(Disposition, shared.id)
    assert [c.id for c in kept.comments] == [kv1.id]
    # The old answer changed shape, so a page still showing it must reload before saving.
    assert kept.lock_version > version_before
    with pytest.raises(Conflict):
        ops.dispose([kv1], Decision.REJECTED, "Lý do.", org.drafter, {shared.id: version_before})


def test_an_answer_left_without_comments_disappears(org, answered_round):
    first, second = comments_of(answered_round, org.r1)[:2]
    old = ops.dispose([first], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()
    old_id = old.id

    ops.dispose(
        [first, second],
        Decision.EXPLAINED,
        "Giải trình chung.",
        org.drafter,
        ops.expected_versions_of([first]),
    )
    db.session.commit()

    assert db.session.get(Disposition, old_id) is None


def test_stale_answer_is_refused(org, answered_round):
    comment = comments_of(answered_round, org.r1)[0]
    ops.dispose([comment], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()

    # A second drafter still looking at the unanswered comment answers it too.
    with pytest.raises(Conflict, match="vừa được người khác thay đổi"):
        ops.dispose([comment], Decision.REJECTED, "Không phù hợp.", org.drafter, {})


def test_only_sent_positions_and_conference_opinions_are_consolidated(org, answered_round):
    conference = answered_round.comment(
        org.r3, "Điều 7", "Phát biểu tại hội nghị: đề nghị giảm mức trừ điểm.", conference=True
    )

    data = queries.load_consolidation(answered_round.consultation)

    texts = [c.text for c in data.comments]
    assert "Ý kiến nháp của Phòng 1, chưa gửi." not in texts
    assert conference.text in texts
    assert data.counts.comments_total == 5
    # KV1, KV2 sent positions, KV3 agreed in writing (and spoke at the conference).
    assert (data.counts.units_invited, data.counts.units_answered) == (4, 3)
    assert data.counts.units_agreed == 1
    draft_comment = comments_of(answered_round, org.dept)[0]
    with pytest.raises(Invalid, match="chưa được gửi"):
        ops.dispose([draft_comment], Decision.ACCEPTED, "", org.drafter)


def test_comments_are_grouped_by_article_in_document_order(org, answered_round):
    data = queries.load_consolidation(answered_round.consultation)

    assert [g.label for g in data.groups] == [
        "Ý kiến chung",
        "Điều 2. Nguyên tắc hoạt động",
        "Điều 7. Chấm điểm, xếp loại thi đua",
    ]
    point = data.groups[2].comments[0]
    assert data.citations[point.id] == "Điểm đ khoản 4 Điều 7"


def test_progress_per_article_and_overall(org, answered_round):
    kv1 = comments_of(answered_round, org.r1)
    ops.dispose([kv1[2]], Decision.PARTLY, "Bổ sung một phần.", org.drafter)
    db.session.commit()

    data = queries.load_consolidation(answered_round.consultation)

    assert [(g.answered, g.total) for g in data.groups] == [(0, 1), (0, 2), (1, 1)]
    counts = data.counts
    assert (counts.comments_answered, counts.comments_total, counts.unanswered) == (1, 4, 3)
    assert counts.decisions[Decision.PARTLY] == 1


def test_answers_wait_for_the_round_to_close(org, make_round):
    rnd = make_round(closed=False)
    comment = rnd.comment(org.r1, "Điều 2", "Góp ý khi đang lấy ý kiến.")
    rnd.submit(org.r1)

    with pytest.raises(Conflict, match="sau khi đã kết thúc lấy ý kiến"):
        ops.dispose([comment], Decision.ACCEPTED, "", org.drafter)
    with pytest.raises(Conflict, match="chưa kết thúc"):
        ops.start_consolidation(rnd.consultation, org.drafter)


def test_start_consolidation_moves_the_draft_and_answers_stay_open_until_adoption(
    org, answered_round
):
    record = ops.start_consolidation(answered_round.consultation, org.drafter)
    db.session.commit()
    assert record.target == DraftState.CONSOLIDATING
    assert answered_round.draft.state == DraftState.CONSOLIDATING

    comment = comments_of(answered_round, org.r1)[0]
    ops.dispose([comment], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()

    apply_draft_action(answered_round.draft, "adopt", org.drafter)
    db.session.commit()
    with pytest.raises(Conflict, match="đã được ban hành"):
        ops.dispose(
            [comment],
            Decision.REJECTED,
            "Đổi ý.",
            org.drafter,
            ops.expected_versions_of([comment]),
        )


def test_only_the_drafters_of_this_draft_answer(org, answered_round, create_user):
    from accounts.models import Role

    other_drafter = create_user(Role.DRAFTER, unit=org.office)
    comment = comments_of(answered_round, org.r1)[0]
    for user in (other_drafter, org.head1, org.admin):
        with pytest.raises(Forbidden):
            ops.dispose([comment], Decision.ACCEPTED, "", user)


def test_comments_of_two_rounds_cannot_share_an_answer(org, answered_round, make_round):
    later = make_round(answered_round.draft)
    other = later.comment(org.r1, "Điều 2", "Ý kiến ở lần hai.")
    later.submit(org.r1)

    with pytest.raises(Invalid, match="cùng một lần"):
        ops.dispose(
            [comments_of(answered_round, org.r1)[0], other], Decision.ACCEPTED, "", org.drafter
        )
