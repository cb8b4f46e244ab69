"""The audit log shows a comment's rows only to those who may read the comment, and no
row keeps the text of a comment."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import AuditEntry
from app import db
from comments import operations
from comments.models import Visibility
from tests.fixtures.comments import comment_as, submit_as

SECRET = "Nội dung nháp bí mật của KV1"
SENT = "Ý kiến đã gửi của KV2"


def _every_row_as_text() -> str:
    rows = db.session.scalars(select(AuditEntry)).all()
    return "\n".join(f"{r.summary} {r.details}" for r in rows)


def test_no_audit_row_keeps_comment_text_through_add_edit_and_delete(org, blind_round):
    comment = comment_as(org.staff1, blind_round, text=SECRET)
    operations.edit_comment(comment, text=SECRET + " (sửa)", lock_version=None, actor=org.staff1)
    db.session.commit()
    operations.delete_comment(comment, lock_version=None, actor=org.staff1)
    db.session.commit()
    logged = _every_row_as_text()
    assert "bí mật" not in logged
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == comment.id)
        ).all()
        if e.object_type == "comments"
    ]
    assert {"comment.create", "comment.edit", "comment.delete"} <= set(actions)


def _comment_ids_in_api(api, user) -> set[int]:  # type: ignore[no-untyped-def]
    body = api(user).get("/api/v1/audit?object_type=comments&limit=500").get_json()
    return {row["object_id"] for row in body["items"]}


def _comment_ids_on_page(client, auth, user) -> str:  # type: ignore[no-untyped-def]
    auth.login(user)
    page = client.get("/admin/audit?object_type=comments").get_data(as_text=True)
    auth.logout()
    return page


def test_audit_rows_of_comments_follow_who_may_read_the_comment(org, open_round, api):
    round_ = open_round(visibility=Visibility.BLIND)
    draft = comment_as(org.staff1, round_, text=SECRET)  # never submitted
    sent = comment_as(org.staff2, round_, text=SENT)
    submit_as(org.head2, round_)

    # The verifier has no part in the round; the administrator sees sent comments only.
    assert _comment_ids_in_api(api, org.verifier) == set()
    assert _comment_ids_in_api(api, org.admin) == {sent.id}
    # The unit that wrote the draft is no audit reader, but the rule is Comment.can_view:
    assert draft.can_view(org.staff1) and not draft.can_view(org.admin)


def test_audit_page_hides_rows_of_comments_the_reader_may_not_see(org, open_round, client, auth):
    round_ = open_round(visibility=Visibility.BLIND)
    draft = comment_as(org.staff1, round_, text=SECRET)
    sent = comment_as(org.staff2, round_, text=SENT)
    submit_as(org.head2, round_)
    verifier_page = _comment_ids_on_page(client, auth, org.verifier)
    admin_page = _comment_ids_on_page(client, auth, org.admin)
    assert f"#{draft.id}" not in verifier_page and f"#{sent.id}" not in verifier_page
    assert f"#{draft.id}" not in admin_page and f"#{sent.id}" in admin_page


def test_audit_api_pages_with_before(org, api):
    from accounts import operations as accounts_ops

    for n in range(5):
        accounts_ops.set_notify_mode(org.staff1, org.staff1.notify_mode)
        del n
    db.session.commit()
    client = api(org.admin)
    first = client.get("/api/v1/audit?limit=2").get_json()["items"]
    second = client.get(f"/api/v1/audit?limit=2&before={first[-1]['id']}").get_json()["items"]
    assert len(first) == len(second) == 2
    assert second[0]["id"] < first[-1]["id"]


def test_audit_rows_of_sheets_follow_who_may_see_the_sheet(org, open_period):
    from accounts import audit
    from accounts.models import User
    from workflow.models import ScoreSheet

    period = open_period(units=[org.r1, org.r2, org.r3])
    sheets = db.session.scalars(select(ScoreSheet).where(ScoreSheet.period_id == period.id)).all()
    for sheet in sheets:
        audit.record(
            "sheet.scores", sheet, actor=org.admin, summary=f"{sheet.unit.short_name}: ghi chú"
        )
    gone = audit.record(
        "sheet.scores", actor=org.admin, object_type="score_sheets", object_id=10**6
    )
    db.session.commit()

    for user in db.session.scalars(select(User)).all():
        readable = set(
            db.session.scalars(
                select(AuditEntry.object_id).where(
                    AuditEntry.object_type == "score_sheets", audit.readable_by(user)
                )
            )
        )
        expected = {sheet.id for sheet in sheets if sheet.can_view(user)}
        if user.can_administer():
            expected.add(gone.object_id)
        assert readable == expected, user.username
    # Not only the privileged: each unit sees its own sheet, the leader's head its members'.
    by_unit = {sheet.unit_id: sheet.id for sheet in sheets}
    only_own = set(
        db.session.scalars(
            select(AuditEntry.object_id).where(
                AuditEntry.object_type == "score_sheets", audit.readable_by(org.staff3)
            )
        )
    )
    assert only_own == {by_unit[org.r3.id]}
