"""Adding a comment through the API, the busiest write: `operations.insert_comment`
reads plain columns and writes plain rows, yet keeps every rule, message and field of
`add_comment`, in a fixed handful of statements."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import event, func, select

from accounts import apispec, audit
from accounts import operations as account_operations
from accounts.clock import now
from accounts.models import ApiToken, AuditEntry, Role, Scope, UserRole
from app import db
from comments import queries
from comments.models import Comment, ResponseStatus, UnitResponse
from tests.fixtures.comments import clause_by_label, response_of, submit_as


def _url(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/consultations/{consultation.id}/comments"


def _written() -> tuple[int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count(Comment.id))) or 0,
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action.like("comment.%"))
        )
        or 0,
    )


def _statements(send):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        answer = send()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return answer, seen


def test_the_answer_is_the_stored_comment(org, blind_round, api):
    clause = clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7")
    staff = api(org.staff1)
    created = staff.post(
        _url(blind_round), json={"clause_id": clause.id, "text": "  Đề nghị bỏ điểm đ.  "}
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["text"] == "Đề nghị bỏ điểm đ."
    assert body["clause_label"] == "điểm đ khoản 4 Điều 7"
    assert body["unit_name"] == org.r1.name and body["author_name"] == org.staff1.full_name
    assert (body["lock_version"], body["submitted"], body["source"]) == (1, False, "written")
    # Built from the values inserted, it says exactly what reading the comment says.
    assert staff.get(f"/api/v1/comments/{body['id']}").json == body

    db.session.rollback()
    comment = db.session.get(Comment, body["id"])
    assert comment is not None
    assert comment.search_text == "de nghi bo diem d."
    assert comment.lineage == clause.lineage and comment.draft_id == blind_round.draft_id
    assert comment.response_id == response_of(blind_round, org.r1).id
    assert comment.author_id == org.staff1.id
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "comment.create")
    ).one()
    assert (entry.object_type, entry.object_id, entry.actor_id) == (
        "comments",
        comment.id,
        org.staff1.id,
    )
    # The row names the comment; its text stays out of the log (only a digest).
    assert entry.summary == f"KV1: ý kiến #{comment.id}"
    assert entry.details == {
        "consultation_id": blind_round.id,
        "clause_id": clause.id,
        "digest": audit.digest("Đề nghị bỏ điểm đ."),
    }

    general = staff.post(_url(blind_round), json={"text": "Ý kiến chung."}).json
    assert (general["clause_id"], general["clause_label"]) == (None, "Ý kiến chung")
    # A blind round: another unit does not see a unit's unsent comment.
    assert api(org.staff2).get(f"/api/v1/comments/{general['id']}").status_code == 403


def test_the_first_comment_starts_the_units_draft_under_its_lock(org, blind_round, api):
    response_id = response_of(blind_round, org.r1).id
    staff = api(org.staff1)
    assert staff.post(_url(blind_round), json={"text": "Một."}).status_code == 201
    db.session.rollback()
    response = db.session.get(UnitResponse, response_id)
    assert response is not None
    assert (response.status, response.lock_version) == (ResponseStatus.DRAFTING, 2)
    assert staff.post(_url(blind_round), json={"text": "Hai."}).status_code == 201
    db.session.rollback()
    db.session.refresh(response)
    assert (response.status, response.lock_version) == (ResponseStatus.DRAFTING, 2)


def test_a_response_changed_meanwhile_is_a_409_that_writes_nothing(
    org, blind_round, api, monkeypatch
):
    read = queries.comment_target

    def stale(consultation_id: int, unit_id: int, clause_id: int | None) -> queries.CommentTarget:
        # As if someone changed the unit's response between our read and our write.
        target = read(consultation_id, unit_id, clause_id)
        return dataclasses.replace(target, response_lock_version=target.response_lock_version + 5)

    monkeypatch.setattr(queries, "comment_target", stale)
    answer = api(org.staff1).post(_url(blind_round), json={"text": "Đề nghị sửa."})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "conflict"
    assert _written() == (0, 0)


def test_refusals_come_in_order_with_their_status_and_write_nothing(
    org, blind_round, create_draft, create_user, api
):
    url = _url(blind_round)
    staff, outsider = api(org.staff1), api(create_user(Role.UNIT_STAFF, unit=org.dept))
    council_in_kv1 = api(create_user(Role.COUNCIL_MEMBER, unit=org.r1))
    foreign = clause_by_label(create_draft(drafter=org.drafter).versions[-1], "khoản 1 Điều 7")
    missing_clause = {"clause_id": 2**31 - 1, "text": "Ý kiến."}

    cases = [
        (staff, "/api/v1/consultations/999999/comments", {"text": "x"}, 404, "đợt lấy ý kiến"),
        # Not invited comes before the clause lookup, as in `add_comment`'s caller.
        (outsider, url, missing_clause, 403, "không được mời"),
        (api(org.drafter), url, {"text": "x"}, 403, "không được mời"),
        (staff, url, missing_clause, 404, "Không tìm thấy điều khoản"),
        (council_in_kv1, url, {"text": "x"}, 403, "Chỉ cán bộ và Thủ trưởng"),
        (staff, url, {"clause_id": foreign.id, "text": "x"}, 422, "không thuộc Dự thảo lần 1"),
        (staff, url, {"text": "   "}, 422, "không được để trống"),
    ]
    for client, where, body, status, message in cases:
        answer = client.post(where, json=body)
        assert answer.status_code == status, (body, answer.json)
        assert message in answer.json["error"]["message"], answer.json
    assert _written() == (0, 0)

    # The head writes for the unit too; once the position is sent, nobody adds to it.
    assert api(org.head1).post(url, json={"text": "Của Thủ trưởng."}).status_code == 201
    submit_as(org.head1, blind_round)
    sent = staff.post(url, json={"text": "Thêm nữa."})
    assert sent.status_code == 409 and "đã gửi ý kiến chính thức" in sent.json["error"]["message"]
    assert _written() == (1, 1)


def test_a_round_not_yet_open_or_closed_takes_no_comment(org, open_round, api):
    later = open_round(opens_at=now() + timedelta(days=1), closes_at=now() + timedelta(days=6))
    early = api(org.staff1).post(_url(later), json={"text": "Sớm."})
    assert early.status_code == 409 and "chưa bắt đầu" in early.json["error"]["message"]
    assert _written() == (0, 0)


def test_revoked_tokens_and_inactive_users_get_401(org, blind_round, api):
    staff = api(org.staff1)
    assert staff.post(_url(blind_round), json={"text": "Một."}).status_code == 201
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.staff1.id)).one()
    account_operations.revoke_api_token(token, actor=None)
    db.session.commit()
    revoked = staff.post(_url(blind_round), json={"text": "Hai."})
    assert revoked.status_code == 401 and revoked.json["error"]["code"] == "unauthorized"

    head = api(org.head1)
    org.head1.active = False
    db.session.commit()
    assert head.post(_url(blind_round), json={"text": "Ba."}).status_code == 401
    assert _written() == (1, 1)


def test_a_comment_costs_a_fixed_handful_of_statements(org, blind_round, api):
    clause = clause_by_label(blind_round.version, "khoản 1 Điều 7")
    staff = api(org.staff1)
    url, body = _url(blind_round), {"clause_id": clause.id, "text": "Đề nghị sửa."}

    first, seen = _statements(lambda: staff.post(url, json=body))
    assert first.status_code == 201
    # token → user; the round, the unit's response and the clause with its ancestors;
    # the comment; its audit row; and (the unit's first comment) the response's state.
    assert len(seen) == 5, seen
    assert sum(s.startswith("UPDATE unit_responses") for s in seen) == 1

    second, seen = _statements(lambda: staff.post(url, json=body))
    assert second.status_code == 201
    assert len(seen) == 4, seen
    assert [s.split()[2] for s in seen if s.startswith("INSERT")] == ["comments", "audit_entries"]


def test_api_answers_set_no_session_cookie(org, blind_round, api):
    # Tokens authenticate the API; a signed cookie on every answer was wasted work.
    answer = api(org.staff1).post(_url(blind_round), json={"text": "Một."})
    assert answer.status_code == 201
    assert not [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]


def test_the_api_caller_answers_as_the_user_does(app, org, api, create_user):
    # Every role, and a user with two: the caller read from the token's plain row gives
    # the same answers as the loaded `User`.
    both = create_user(Role.UNIT_STAFF, unit=org.r2)
    both.role_rows.append(UserRole(role=Role.UNIT_HEAD))
    db.session.commit()
    users = [org.admin, org.drafter, org.verifier, org.council, org.head1, org.staff1, both]
    units = [org.office, org.r1, org.r2, org.r3]
    for user in users:
        # Each request has an app context (and `g`) of its own, as in production.
        headers = api(user).headers
        with app.app_context(), app.test_request_context(headers=headers):
            apispec._authenticate(Scope.COMMENT, caller_only=True)
            caller = apispec.current_api_caller()
            assert caller.roles == frozenset(user.roles)
            for unit in units:
                assert caller.can_work_for_unit(unit.id) == user.can_work_for_unit(unit.id)
                assert caller.can_sign_for_unit(unit.id) == user.can_sign_for_unit(unit.id)
            # A `caller_only` view may still ask for the whole user.
            assert apispec.current_api_user().id == user.id
        with app.app_context(), app.test_request_context(headers=headers):
            apispec._authenticate(Scope.READ)
            assert apispec.current_api_caller().roles == frozenset(user.roles)
