"""The consultation JSON API: every action of the pages, with JSON errors."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from accounts.clock import LOCAL_TZ, now
from accounts.models import AuditEntry, Role
from comments.consultation import operations
from comments.consultation.models import Comment, Consultation, Visibility
from extensions import db
from tests.fixtures.comments import clause_by_label, comment_as, response_of, submit_as

T0 = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)


def _open_body(draft, org, **extra):  # type: ignore[no-untyped-def]
    return {
        "draft_id": draft.id,
        "unit_ids": [org.r1.id, org.r2.id],
        "closes_at": (now() + timedelta(days=5)).isoformat(),
        "visibility": "blind",
        "letter_number": "125/VKS-VP",
        "letter_text": "Đề nghị góp ý.",
        **extra,
    }


def test_open_a_round_by_group_and_list_it(org, create_draft, api, create_user):
    with time_machine.travel(T0, tick=False):
        draft = create_draft(drafter=org.drafter)
        client = api(org.drafter)
        response = client.post(
            "/api/v1/consultations",
            json=_open_body(
                draft,
                org,
                unit_ids=[org.dept.id],
                group_ids=[org.cluster.id],
                closes_at="2026-06-17",
            ),
        )
        assert response.status_code == 201, response.json
        body = response.json
        assert body["round_number"] == 1 and body["version_label"] == "Dự thảo lần 1"
        assert sorted(body["unit_ids"]) == sorted([org.dept.id, org.r1.id, org.r2.id, org.r3.id])
        # A date alone means the end of that day, Vietnam time.
        closes = datetime.fromisoformat(body["closes_at"]).astimezone(LOCAL_TZ)
        assert (closes.date().isoformat(), closes.hour, closes.minute) == ("2026-06-17", 23, 59)
        assert body["is_open"] and body["my_response"] is None

        listed = client.get(f"/api/v1/consultations?draft_id={draft.id}").json["items"]
        assert [c["id"] for c in listed] == [body["id"]]
        mine = api(org.staff1).get("/api/v1/consultations").json["items"]
        assert mine[0]["my_response"]["tracker_status"] == "not_started"
        outsider = api(create_user(Role.UNIT_STAFF)).get("/api/v1/consultations")
        assert outsider.json["items"] == []


def test_open_refusals_are_json(org, create_draft, api):
    draft = create_draft(drafter=org.drafter)
    drafter = api(org.drafter)
    past = drafter.post(
        "/api/v1/consultations",
        json=_open_body(
            draft,
            org,
            opens_at=(now() - timedelta(days=3)).isoformat(),
            closes_at=(now() - timedelta(days=1)).isoformat(),
        ),
    )
    assert past.status_code == 422 and "tương lai" in past.json["error"]["message"]
    garbage = drafter.post(
        "/api/v1/consultations", json=_open_body(draft, org, closes_at="mai kia")
    )
    assert garbage.status_code == 422
    missing = drafter.post("/api/v1/consultations", json=_open_body(draft, org, unit_ids=[999]))
    assert missing.status_code == 422
    staff = api(org.staff1).post("/api/v1/consultations", json=_open_body(draft, org))
    assert staff.status_code == 403 and staff.json["error"]["code"] == "forbidden"
    assert db.session.scalar(select(Consultation.id)) is None
    assert drafter.post("/api/v1/consultations", json=_open_body(draft, org)).status_code == 201
    again = drafter.post("/api/v1/consultations", json=_open_body(draft, org))
    assert again.status_code == 409


def test_comment_edit_and_delete_with_lock_version(org, blind_round, api):
    target = clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7")
    staff, head = api(org.staff1), api(org.head1)
    created = staff.post(
        f"/api/v1/consultations/{blind_round.id}/comments",
        json={"clause_id": target.id, "text": "Đề nghị bỏ điểm đ."},
    )
    assert created.status_code == 201
    comment = created.json
    assert comment["clause_label"] == "điểm đ khoản 4 Điều 7" and comment["lock_version"] == 1
    assert comment["submitted"] is False
    general = staff.post(
        f"/api/v1/consultations/{blind_round.id}/comments", json={"text": "Ý kiến chung."}
    ).json
    assert general["clause_id"] is None and general["clause_label"] == "Ý kiến chung"

    edited = head.patch(
        f"/api/v1/comments/{comment['id']}", json={"text": "Bản của Thủ trưởng.", "lock_version": 1}
    )
    assert edited.status_code == 200 and edited.json["lock_version"] == 2
    stale = staff.patch(
        f"/api/v1/comments/{comment['id']}", json={"text": "Bản của cán bộ.", "lock_version": 1}
    )
    assert stale.status_code == 409
    assert "vừa được người khác sửa" in stale.json["error"]["message"]
    assert stale.json["error"]["details"]["current_lock_version"] == 2
    assert db.session.get(Comment, comment["id"]).text == "Bản của Thủ trưởng."
    assert staff.delete(f"/api/v1/comments/{comment['id']}?lock_version=1").status_code == 409
    assert staff.delete(f"/api/v1/comments/{comment['id']}?lock_version=2").status_code == 204
    assert staff.get(f"/api/v1/comments/{comment['id']}").status_code == 404
    other_unit = api(org.staff2).patch(
        f"/api/v1/comments/{general['id']}", json={"text": "Không phải của tôi.", "lock_version": 1}
    )
    assert other_unit.status_code == 403


def test_a_comment_on_another_versions_clause_is_422(org, blind_round, create_draft, api):
    other = create_draft(drafter=org.drafter, title="Quy chế khác")
    foreign = clause_by_label(other.versions[-1], "khoản 1 Điều 7")
    response = api(org.staff1).post(
        f"/api/v1/consultations/{blind_round.id}/comments",
        json={"clause_id": foreign.id, "text": "Sai phiên bản."},
    )
    assert response.status_code == 422
    assert "không thuộc Dự thảo lần 1" in response.json["error"]["message"]


def test_blind_round_through_the_api(org, open_round, api):
    blind = open_round(visibility=Visibility.BLIND)
    comment_as(org.staff1, blind, "khoản 1 Điều 7", "Ý kiến của KV1.")
    submit_as(org.head1, blind)
    comment_as(org.staff3, blind, None, "Ý kiến riêng của KV3.")
    third = api(org.staff3)
    items = third.get(f"/api/v1/consultations/{blind.id}/comments").json["items"]
    assert [c["text"] for c in items] == ["Ý kiến riêng của KV3."]
    kv1_comment = db.session.scalars(select(Comment).where(Comment.unit_id == org.r1.id)).one()
    assert third.get(f"/api/v1/comments/{kv1_comment.id}").status_code == 403
    kv1 = response_of(blind, org.r1)
    assert third.get(f"/api/v1/consultations/{blind.id}/responses/{kv1.id}").status_code == 403
    # The drafter sees KV1's sent comments but not KV3's draft.
    drafter_items = api(org.drafter).get(f"/api/v1/consultations/{blind.id}/comments").json["items"]
    assert [c["text"] for c in drafter_items] == ["Ý kiến của KV1."]


def test_open_round_through_the_api(org, open_round, api):
    round_ = open_round(visibility=Visibility.OPEN)
    comment_as(org.staff1, round_, "khoản 1 Điều 7", "Ý kiến công khai của KV1.")
    third = api(org.staff3)
    url = f"/api/v1/consultations/{round_.id}/comments"
    assert third.get(url).json["items"] == []
    submit_as(org.head1, round_)
    assert [c["text"] for c in third.get(url).json["items"]] == ["Ý kiến công khai của KV1."]


def test_positions_through_the_api(org, blind_round, api):
    kv1, kv2 = response_of(blind_round, org.r1), response_of(blind_round, org.r2)
    base = f"/api/v1/consultations/{blind_round.id}/responses"
    head1, head2 = api(org.head1), api(org.head2)
    empty = head1.post(f"{base}/{kv1.id}/submit", json={"agrees": False})
    assert empty.status_code == 422 and "chưa có ý kiến" in empty.json["error"]["message"]
    comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Lần đầu.")
    refused = head1.post(f"{base}/{kv1.id}/submit", json={"agrees": True})
    assert refused.status_code == 422 and "thống nhất" in refused.json["error"]["message"]
    staff = api(org.staff1).post(f"{base}/{kv1.id}/submit", json={"agrees": False})
    assert staff.status_code == 403
    other_head = head2.post(f"{base}/{kv1.id}/submit", json={"agrees": False})
    assert other_head.status_code == 403

    preview = head1.get(f"{base}/{kv1.id}").json
    assert [c["text"] for c in preview["comments"]] == ["Lần đầu."]
    stale = head1.post(f"{base}/{kv1.id}/submit", json={"agrees": False, "fingerprint": "0" * 16})
    assert stale.status_code == 409
    sent = head1.post(
        f"{base}/{kv1.id}/submit", json={"agrees": False, "fingerprint": preview["fingerprint"]}
    )
    assert sent.status_code == 200 and sent.json["tracker_status"] == "submitted"
    agreed = head2.post(f"{base}/{kv2.id}/submit", json={"agrees": True})
    assert agreed.json["tracker_status"] == "agreed" and agreed.json["agrees_without_comments"]

    reopened = head1.post(f"{base}/{kv1.id}/reopen")
    assert reopened.status_code == 200 and reopened.json["status"] == "drafting"
    comment = db.session.scalars(select(Comment)).one()
    api(org.staff1).patch(
        f"/api/v1/comments/{comment.id}", json={"text": "Lần hai.", "lock_version": 1}
    )
    again = head1.post(f"{base}/{kv1.id}/submit", json={"agrees": False})
    history = again.json["history"]
    assert [h["action"] for h in history] == ["submit", "reopen", "submit"]
    assert history[0]["snapshot"][0]["text"] == "Lần đầu."
    assert history[2]["snapshot"][0]["label"] == "khoản 1 Điều 7"

    tracker = api(org.drafter).get(f"/api/v1/consultations/{blind_round.id}/tracker").json
    assert tracker["counts"] == {
        "not_started": 1,
        "drafting": 0,
        "submitted": 1,
        "agreed": 1,
        "late": 0,
        "overdue": 0,
    }
    rows = {r["unit_short_name"]: r for r in tracker["items"]}
    assert rows["KV1"]["comment_count"] == 1 and rows["KV3"]["comment_count"] is None
    assert tracker["agreed"] == 1


def test_conference_extension_and_close_through_the_api(org, blind_round, api):
    drafter = api(org.drafter)
    base = f"/api/v1/consultations/{blind_round.id}"
    target = clause_by_label(blind_round.version, "khoản 1 Điều 7")
    today = now().astimezone(LOCAL_TZ).date().isoformat()
    recorded = drafter.post(
        f"{base}/conference-opinions",
        json={
            "meeting_date": today,
            "meeting_form": "Hội nghị trực tuyến",
            "opinions": [
                {"unit_id": org.r1.id, "clause_id": target.id, "text": "Giữ nguyên khoản 1."},
                {"unit_id": org.r3.id, "text": "Thống nhất chung."},
            ],
        },
    )
    assert recorded.status_code == 201
    assert [c["source"] for c in recorded.json["items"]] == ["conference", "conference"]
    assert recorded.json["items"][0]["meeting_form"] == "Hội nghị trực tuyến"
    not_invited = drafter.post(
        f"{base}/conference-opinions",
        json={
            "meeting_date": today,
            "meeting_form": "Hội nghị",
            "opinions": [{"unit_id": org.dept.id, "text": "Ngoài danh sách."}],
        },
    )
    assert not_invited.status_code == 422
    head = api(org.head1).post(
        f"{base}/conference-opinions",
        json={
            "meeting_date": today,
            "meeting_form": "Hội nghị",
            "opinions": [{"unit_id": org.r1.id, "text": "Tự ghi."}],
        },
    )
    assert head.status_code == 403

    kv3 = response_of(blind_round, org.r3)
    new_day = (blind_round.closes_at + timedelta(days=3)).astimezone(LOCAL_TZ).date()
    extended = drafter.post(
        f"{base}/responses/{kv3.id}/extend", json={"deadline": new_day.isoformat()}
    )
    assert extended.status_code == 200
    deadline = datetime.fromisoformat(extended.json["deadline"]).astimezone(LOCAL_TZ)
    assert deadline.date() == new_day and deadline.hour == 23
    assert (
        api(org.head3)
        .post(f"{base}/responses/{kv3.id}/extend", json={"deadline": new_day.isoformat()})
        .status_code
        == 403
    )
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == "position.extend"))
        .one()
        .actor_id
        == org.drafter.id
    )

    assert api(org.head1).post(f"{base}/close").status_code == 403
    closed = drafter.post(f"{base}/close")
    assert closed.status_code == 200 and closed.json["closed_at"] is not None
    late = api(org.staff1).post(f"{base}/comments", json={"text": "Sau khi kết thúc."})
    assert late.status_code == 409 and "đã kết thúc" in late.json["error"]["message"]
    submit = api(org.head2).post(
        f"{base}/responses/{response_of(blind_round, org.r2).id}/submit", json={"agrees": True}
    )
    assert submit.status_code == 409
    assert drafter.post(f"{base}/close").status_code == 409


def test_filters_and_search_through_the_api(org, blind_round, api):
    comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Bổ sung tiêu chí chấm điểm.")
    comment_as(org.staff1, blind_round, None, "Ý kiến chung.")
    submit_as(org.head1, blind_round)
    drafter = api(org.drafter)
    url = f"/api/v1/consultations/{blind_round.id}/comments"
    assert [c["text"] for c in drafter.get(f"{url}?q=tieu%20chi").json["items"]] == [
        "Bổ sung tiêu chí chấm điểm."
    ]
    assert [c["text"] for c in drafter.get(f"{url}?general=true").json["items"]] == [
        "Ý kiến chung."
    ]
    article = clause_by_label(blind_round.version, "Điều 7")
    assert len(drafter.get(f"{url}?clause_id={article.id}").json["items"]) == 1
    assert drafter.get(f"{url}?unit_id={org.r2.id}").json["items"] == []
    assert len(drafter.get(f"{url}?status=submitted").json["items"]) == 2
    assert drafter.get(f"{url}?status=bogus").status_code == 422


def test_attachments_through_the_api(org, blind_round, api, create_user):
    drafter = api(org.drafter)
    base = f"/api/v1/consultations/{blind_round.id}/attachments"
    bad = drafter.post(
        base,
        data={"file": (io.BytesIO(b"GIF89a...."), "anh.gif")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    uploaded = drafter.post(
        base,
        data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "Công văn số 125.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201 and uploaded.json["filename"] == "Công văn số 125.pdf"
    url = uploaded.json["url"]
    assert api(org.staff2).get(url).data == b"%PDF-1.4\n%%EOF\n"
    outsider = create_user(Role.UNIT_HEAD, unit=org.dept)
    assert api(outsider).get(url).status_code == 403
    assert (
        api(org.head1)
        .post(
            base,
            data={"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")},
            content_type="multipart/form-data",
        )
        .status_code
        == 403
    )
    details = api(org.staff1).get(f"/api/v1/consultations/{blind_round.id}").json
    assert [a["filename"] for a in details["attachments"]] == ["Công văn số 125.pdf"]


def test_another_drafter_cannot_see_a_blind_round(org, blind_round, api, create_user):
    comment_as(org.staff1, blind_round, None, "Ý kiến.")
    submit_as(org.head1, blind_round)
    stranger = api(create_user(Role.DRAFTER, unit=org.office))
    for url in (
        f"/api/v1/consultations/{blind_round.id}",
        f"/api/v1/consultations/{blind_round.id}/tracker",
        f"/api/v1/consultations/{blind_round.id}/comments",
    ):
        assert stranger.get(url).status_code == 403, url


def test_nothing_is_written_before_opening(org, open_round, api):
    later = open_round(opens_at=now() + timedelta(days=1), closes_at=now() + timedelta(days=6))
    response = api(org.staff1).post(
        f"/api/v1/consultations/{later.id}/comments", json={"text": "Sớm."}
    )
    assert response.status_code == 409 and "chưa bắt đầu" in response.json["error"]["message"]
    assert operations.round_path(later) == f"/comments/rounds/{later.id}"
