"""The consultation pages: what each person sees and what their forms do."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import time_machine
from flask import render_template
from sqlalchemy import select

from accounts.clock import now, to_local
from accounts.models import Role
from comments.consultation import operations
from comments.consultation.models import (
    Comment,
    CommentSource,
    Consultation,
    ConsultationAttachment,
    ResponseStatus,
    Visibility,
)
from extensions import db
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.comments import clause_by_label, comment_as, response_of, submit_as

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def client_for(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    """The visible text of a page, tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def local_input(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


# --- opening -------------------------------------------------------------------------------
def test_the_drafter_opens_a_round_with_an_attachment(app, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    drafter = client_for(app, org.drafter)
    form = drafter.get(f"/comments/drafts/{draft.id}/open")
    assert form.status_code == 200
    assert "Viện kiểm sát nhân dân khu vực 1" in page_text(form)
    response = drafter.post(
        f"/comments/drafts/{draft.id}/open",
        data={
            "version": str(draft.versions[-1].id),
            "units": [str(org.r1.id), str(org.r2.id), str(org.r3.id)],
            "opens_at": local_input(now()),
            "closes_at": local_input(now() + timedelta(days=5)),
            "visibility": "blind",
            "letter_number": "125/VKS-VP",
            "letter_text": "Đề nghị các đơn vị góp ý.",
            "attachments": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "Công văn 125.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, page_text(response)[:500]
    consultation = db.session.scalars(select(Consultation)).one()
    assert response.headers["Location"].endswith(f"/comments/rounds/{consultation.id}/tracker")
    assert {r.unit.short_name for r in consultation.responses} == {"KV1", "KV2", "KV3"}
    [attachment] = consultation.attachments
    assert attachment.filename == "Công văn 125.pdf"
    tracker = page_text(drafter.get(f"/comments/rounds/{consultation.id}/tracker"))
    assert "Công văn 125.pdf" in tracker and "Số 125/VKS-VP" in tracker
    assert "3 Chưa góp ý" in tracker


def test_an_invalid_window_keeps_the_form(app, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    drafter = client_for(app, org.drafter)
    response = drafter.post(
        f"/comments/drafts/{draft.id}/open",
        data={
            "version": str(draft.versions[-1].id),
            "units": [str(org.r1.id)],
            "opens_at": local_input(now() - timedelta(days=3)),
            "closes_at": local_input(now() - timedelta(days=1)),
            "visibility": "open",
            "letter_number": "130/VKS-VP",
        },
    )
    assert response.status_code == 422
    text = page_text(response)
    assert "Hạn góp ý phải là một thời điểm trong tương lai." in text
    assert 'value="130/VKS-VP"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Consultation.id)) is None


# --- the unit's page and its comments ------------------------------------------------------
def test_staff_comment_on_a_clause_and_see_it_inline(app, org, blind_round):
    staff = client_for(app, org.staff1)
    target = clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7")
    page = staff.get(f"/comments/rounds/{blind_round.id}/unit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/comments/rounds/{blind_round.id}/comment?clause={target.id}" in html
    form = staff.get(f"/comments/rounds/{blind_round.id}/comment?clause={target.id}")
    assert "Góp ý: điểm đ khoản 4 Điều 7" in page_text(form)
    saved = staff.post(
        f"/comments/rounds/{blind_round.id}/comment?clause={target.id}",
        data={"text": "Đề nghị bổ sung thời hạn báo cáo."},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"#clause-{target.id}")
    comment = db.session.scalars(select(Comment)).one()
    assert comment.clause_id == target.id and comment.author_id == org.staff1.id
    page = page_text(staff.get(f"/comments/rounds/{blind_round.id}/unit"))
    assert "Đề nghị bổ sung thời hạn báo cáo." in page and "Đang soạn ý kiến" in page


def test_a_clause_of_another_version_gets_a_clear_422(app, org, blind_round, create_draft):
    other = create_draft(drafter=org.drafter, title="Quy chế khác")
    foreign = clause_by_label(other.versions[-1], "khoản 1 Điều 7")
    staff = client_for(app, org.staff1)
    form = staff.get(f"/comments/rounds/{blind_round.id}/comment?clause={foreign.id}")
    assert form.status_code == 422 and "không thuộc Dự thảo lần 1" in page_text(form)
    response = staff.post(
        f"/comments/rounds/{blind_round.id}/comment?clause={foreign.id}",
        data={"text": "Góp ý nhầm phiên bản."},
    )
    assert response.status_code == 422
    assert "không thuộc Dự thảo lần 1" in page_text(response)
    assert "Góp ý nhầm phiên bản." in response.get_data(as_text=True)


def test_a_stale_edit_gets_409_and_keeps_the_text(app, org, blind_round):
    comment = comment_as(org.staff1, blind_round, "khoản 1 Điều 7", "Bản đầu tiên.")
    staff, head = client_for(app, org.staff1), client_for(app, org.head1)
    form = staff.get(f"/comments/{comment.id}/edit")
    assert 'name="lock_version" type="hidden" value="1"' in form.get_data(as_text=True)
    assert (
        head.post(
            f"/comments/{comment.id}/edit",
            data={"text": "Bản của Thủ trưởng.", "lock_version": "1"},
        ).status_code
        == 302
    )
    stale = staff.post(
        f"/comments/{comment.id}/edit", data={"text": "Bản của cán bộ.", "lock_version": "1"}
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert re.search(r"<textarea[^>]*>\s*Bản của cán bộ.</textarea>", html)
    text = page_text(stale)
    assert "vừa được người khác sửa" in text and "Bản của Thủ trưởng." in text
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).text == "Bản của Thủ trưởng."
    # The form now carries the current version: saving again is a deliberate overwrite.
    assert 'name="lock_version" type="hidden" value="2"' in html
    assert (
        staff.post(
            f"/comments/{comment.id}/edit", data={"text": "Bản của cán bộ.", "lock_version": "2"}
        ).status_code
        == 302
    )


def test_commenting_after_the_close_is_refused_with_a_message(app, org, blind_round):
    operations.close_round(blind_round, actor=org.drafter)
    db.session.commit()
    staff = client_for(app, org.staff1)
    response = staff.post(
        f"/comments/rounds/{blind_round.id}/comment", data={"text": "Góp ý sau khi kết thúc."}
    )
    assert response.status_code == 409
    assert "đã kết thúc" in page_text(response)
    assert db.session.scalar(select(Comment.id)) is None
    page = page_text(staff.get(f"/comments/rounds/{blind_round.id}/unit"))
    assert "Đợt lấy ý kiến đã kết thúc; mọi ý kiến chỉ còn để xem." in page
    assert "Góp ý chung" not in page


def test_deleting_a_comment(app, org, blind_round):
    comment = comment_as(org.staff1, blind_round, None, "Sẽ xóa.")
    head = client_for(app, org.head1)
    response = head.post(f"/comments/{comment.id}/delete", data={"lock_version": "1"})
    assert response.status_code == 302
    assert db.session.scalar(select(Comment.id)) is None


def test_deadline_is_shown_as_days_left_or_overdue(app, org, open_round):
    with time_machine.travel(T0, tick=False):
        consultation = open_round(opens_at=T0, closes_at=T0 + timedelta(days=5))
        staff = client_for(app, org.staff1)
        assert "còn 5 ngày" in page_text(staff.get(f"/comments/rounds/{consultation.id}/unit"))
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        staff = client_for(app, org.staff1)  # the session lasts hours, not days
        page = page_text(staff.get(f"/comments/rounds/{consultation.id}/unit"))
        assert "quá hạn 2 ngày" in page and "Quá hạn, chưa gửi" in page


# --- positions -----------------------------------------------------------------------------
def test_the_confirmation_page_lists_what_will_be_sent(app, org, blind_round):
    comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Đề nghị bỏ điểm đ.")
    comment_as(org.staff1, blind_round, None, "Ý kiến chung của KV1.")
    head = client_for(app, org.head1)
    page = head.get(f"/comments/rounds/{blind_round.id}/submit")
    text = page_text(page)
    assert "Các ý kiến sẽ được gửi (2)" in text
    assert "Ý kiến chung Ý kiến chung của KV1." in text
    assert "điểm đ khoản 4 Điều 7 Đề nghị bỏ điểm đ." in text
    fingerprint = re.search(
        r'name="fingerprint" type="hidden" value="(\w+)"', page.get_data(as_text=True)
    )
    assert fingerprint is not None
    sent = head.post(
        f"/comments/rounds/{blind_round.id}/submit",
        data={"agrees": "0", "fingerprint": fingerprint.group(1)},
    )
    assert sent.status_code == 302
    db.session.expire_all()
    response = response_of(db.session.get(Consultation, blind_round.id), org.r1)
    assert response.status == ResponseStatus.SUBMITTED and not response.agrees_without_comments
    assert "Đã gửi ý kiến" in page_text(head.get(f"/comments/rounds/{blind_round.id}/unit"))


def test_agreeing_with_comments_is_refused_on_the_page(app, org, blind_round):
    comment_as(org.staff1, blind_round, None, "Còn ý kiến.")
    head = client_for(app, org.head1)
    page = head.get(f"/comments/rounds/{blind_round.id}/submit?agrees=1")
    assert "không thể gửi “thống nhất với dự thảo”" in page_text(page)
    assert "Xác nhận gửi" not in page_text(page)
    response = head.post(f"/comments/rounds/{blind_round.id}/submit", data={"agrees": "1"})
    assert response.status_code == 422
    assert not response_of(blind_round, org.r1).is_submitted


def test_a_unit_agrees_and_the_head_reopens(app, org, blind_round):
    head = client_for(app, org.head2)
    page = page_text(head.get(f"/comments/rounds/{blind_round.id}/submit?agrees=1"))
    assert "thống nhất với dự thảo, không có ý kiến góp ý" in page
    assert (
        head.post(f"/comments/rounds/{blind_round.id}/submit", data={"agrees": "1"}).status_code
        == 302
    )
    assert head.post(f"/comments/rounds/{blind_round.id}/reopen").status_code == 302
    response = response_of(db.session.get(Consultation, blind_round.id), org.r2)
    db.session.refresh(response)
    assert response.status == ResponseStatus.DRAFTING
    history = page_text(head.get(f"/comments/rounds/{blind_round.id}/responses/{response.id}"))
    assert "Gửi ý kiến" in history and "Mở lại để sửa" in history
    assert "Thống nhất với dự thảo, không có ý kiến góp ý." in history


def test_staff_cannot_open_the_submit_step(app, org, blind_round):
    staff = client_for(app, org.staff1)
    assert staff.get(f"/comments/rounds/{blind_round.id}/submit").status_code == 403
    assert (
        staff.post(f"/comments/rounds/{blind_round.id}/submit", data={"agrees": "1"}).status_code
        == 403
    )


# --- visibility ----------------------------------------------------------------------------
def test_blind_round_hides_other_units_in_the_page(app, org, open_round):
    blind = open_round(visibility=Visibility.BLIND)
    comment_as(org.staff1, blind, "khoản 1 Điều 7", "Ý kiến bí mật của KV1.")
    submit_as(org.head1, blind)
    third = client_for(app, org.staff3)
    page = page_text(third.get(f"/comments/rounds/{blind.id}/unit"))
    assert "Ý kiến bí mật của KV1." not in page and "đợt lấy ý kiến kín" in page
    operations.close_round(blind, actor=org.drafter)
    db.session.commit()
    assert "Ý kiến bí mật của KV1." in page_text(third.get(f"/comments/rounds/{blind.id}/unit"))


def test_open_round_shows_other_units_after_submission(app, org, open_round):
    round_ = open_round(visibility=Visibility.OPEN)
    comment_as(org.staff1, round_, "khoản 1 Điều 7", "Ý kiến công khai của KV1.")
    third = client_for(app, org.staff3)
    assert "Ý kiến công khai của KV1." not in page_text(
        third.get(f"/comments/rounds/{round_.id}/unit")
    )
    submit_as(org.head1, round_)
    assert "Ý kiến công khai của KV1." in page_text(third.get(f"/comments/rounds/{round_.id}/unit"))


# --- the drafter's pages -------------------------------------------------------------------
def test_tracker_and_consolidated_page(app, org, blind_round):
    comment_as(org.staff1, blind_round, "điểm đ khoản 4 Điều 7", "Bổ sung tiêu chí đánh giá.")
    submit_as(org.head1, blind_round)
    submit_as(org.head2, blind_round, agrees=True)
    comment_as(org.staff3, blind_round, None, "Bản nháp của KV3.")
    drafter = client_for(app, org.drafter)
    assert (
        drafter.get(f"/comments/rounds/{blind_round.id}").headers["Location"].endswith("/tracker")
    )
    tracker = page_text(drafter.get(f"/comments/rounds/{blind_round.id}/tracker"))
    assert re.search(r"Viện kiểm sát nhân dân khu vực 1 Đã gửi ý kiến", tracker)
    assert re.search(r"Viện kiểm sát nhân dân khu vực 2 Thống nhất với dự thảo", tracker)
    assert re.search(r"Viện kiểm sát nhân dân khu vực 3 Đang soạn ý kiến", tracker)
    assert "1 Đã gửi ý kiến" in tracker and "1 Thống nhất với dự thảo" in tracker

    page = drafter.get(f"/comments/rounds/{blind_round.id}/comments")
    text = page_text(page)
    assert "Bổ sung tiêu chí đánh giá." in text and "Bản nháp của KV3." not in text
    target = clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7")
    section = re.search(
        rf'id="clause-{target.id}">(.*?)</section>', page.get_data(as_text=True), re.S
    )
    assert section is not None and "(1 ý kiến)" in section.group(1)
    found = page_text(drafter.get(f"/comments/rounds/{blind_round.id}/comments?q=tieu+chi"))
    assert "1 ý kiến" in found and "Bổ sung tiêu chí đánh giá." in found
    none = page_text(drafter.get(f"/comments/rounds/{blind_round.id}/comments?q=khong+co"))
    assert "0 ý kiến" in none
    by_unit = page_text(drafter.get(f"/comments/rounds/{blind_round.id}/comments?unit={org.r2.id}"))
    assert "Bổ sung tiêu chí đánh giá." not in by_unit


def test_conference_opinions_are_recorded_from_the_page(app, org, blind_round):
    drafter = client_for(app, org.drafter)
    target = clause_by_label(blind_round.version, "khoản 1 Điều 7")
    yesterday = (to_local(now()) - timedelta(days=1)).date().isoformat()
    response = drafter.post(
        f"/comments/rounds/{blind_round.id}/conference",
        data={
            "meeting_date": yesterday,
            "meeting_form": "Hội nghị trực tuyến",
            "rows-0-unit": str(org.r1.id),
            "rows-0-clause": str(target.id),
            "rows-0-text": "Đề nghị giữ nguyên khoản 1.",
            "rows-1-unit": str(org.r2.id),
            "rows-1-clause": "general",
            "rows-1-text": "Thống nhất về bố cục.",
            "rows-2-unit": "0",
            "rows-2-clause": "general",
            "rows-2-text": "",
        },
    )
    assert response.status_code == 302
    assert "meeting_form=H" in response.headers["Location"]
    rows = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [(c.unit_id, c.clause_id, c.source) for c in rows] == [
        (org.r1.id, target.id, CommentSource.CONFERENCE),
        (org.r2.id, None, CommentSource.CONFERENCE),
    ]
    page = page_text(drafter.get(response.headers["Location"]))
    assert "Ý kiến tại hội nghị đã ghi nhận (2)" in page and "Hội nghị trực tuyến" in page
    missing_unit = drafter.post(
        f"/comments/rounds/{blind_round.id}/conference",
        data={
            "meeting_date": yesterday,
            "meeting_form": "Hội nghị",
            "rows-0-unit": "0",
            "rows-0-clause": "general",
            "rows-0-text": "Không rõ đơn vị.",
        },
    )
    assert missing_unit.status_code == 422 and "Dòng 1: hãy chọn đơn vị" in page_text(missing_unit)


def test_extend_a_deadline_from_the_tracker(app, org, blind_round):
    drafter = client_for(app, org.drafter)
    kv3 = response_of(blind_round, org.r3)
    form = drafter.get(f"/comments/rounds/{blind_round.id}/responses/{kv3.id}/extend")
    assert form.status_code == 200
    new_deadline = blind_round.closes_at + timedelta(days=3)
    response = drafter.post(
        f"/comments/rounds/{blind_round.id}/responses/{kv3.id}/extend",
        data={"deadline": local_input(new_deadline)},
    )
    assert response.status_code == 302
    db.session.refresh(kv3)
    assert kv3.deadline_override is not None
    assert abs(kv3.deadline_override - new_deadline) < timedelta(minutes=1)
    too_early = drafter.post(
        f"/comments/rounds/{blind_round.id}/responses/{kv3.id}/extend",
        data={"deadline": local_input(blind_round.closes_at - timedelta(days=1))},
    )
    assert too_early.status_code == 422 and "sau hạn chung" in page_text(too_early)


def test_close_from_the_tracker(app, org, blind_round):
    drafter = client_for(app, org.drafter)
    response = drafter.post(f"/comments/rounds/{blind_round.id}/close", data={"confirmed": "1"})
    assert response.status_code == 302
    db.session.refresh(blind_round)
    assert blind_round.closed_at is not None
    again = drafter.post(
        f"/comments/rounds/{blind_round.id}/close",
        data={"confirmed": "1"},
        headers={"Referer": f"/comments/rounds/{blind_round.id}/tracker"},
    )
    assert again.status_code == 303
    assert "đã kết thúc" in page_text(drafter.get(again.headers["Location"]))


def test_closing_asks_first_and_names_what_it_ends(app, org, blind_round):
    drafter = client_for(app, org.drafter)
    asked = drafter.post(f"/comments/rounds/{blind_round.id}/close")
    assert asked.status_code == 303
    assert asked.headers["Location"].endswith(f"/comments/rounds/{blind_round.id}/close")
    db.session.refresh(blind_round)
    assert blind_round.closed_at is None
    text = page_text(drafter.get(asked.headers["Location"]))
    assert "không thể thêm, sửa hay gửi ý kiến nữa" in text
    assert "Đợt kín: các đơn vị được mời sẽ xem được ý kiến của nhau." in text
    assert "không thể hoàn tác" in text
    done = drafter.post(f"/comments/rounds/{blind_round.id}/close", data={"confirmed": "1"})
    assert done.status_code == 302
    db.session.refresh(blind_round)
    assert blind_round.closed_at is not None
    # Asked again about a closed round: a plain 409 with the way back.
    late = drafter.get(f"/comments/rounds/{blind_round.id}/close")
    assert late.status_code == 409
    assert "Quay lại đợt lấy ý kiến" in late.get_data(as_text=True)


# --- attachments ---------------------------------------------------------------------------
def test_attachments_go_to_invited_units_and_drafters_only(app, org, blind_round, create_user):
    operations.add_attachment(
        blind_round,
        operations.AttachmentUpload("Dự thảo kèm theo.pdf", b"%PDF-1.4\n%%EOF\n"),
        actor=org.drafter,
    )
    db.session.commit()
    attachment = db.session.scalars(select(ConsultationAttachment)).one()
    url = f"/comments/attachments/{attachment.id}"
    for user in (org.drafter, org.staff1, org.head3):
        response = client_for(app, user).get(url)
        assert response.status_code == 200, user.username
        assert response.data == b"%PDF-1.4\n%%EOF\n"
        assert response.headers["Content-Type"] == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert (
            disposition.startswith("attachment;") and "filename*=UTF-8''D%E1%BB%B1" in disposition
        )
    outsider = create_user(Role.UNIT_STAFF, unit=org.dept)
    for user in (outsider, org.admin, create_user(Role.DRAFTER, unit=org.office)):
        assert client_for(app, user).get(url).status_code == 403


# --- the panel on the draft page -----------------------------------------------------------
def test_draft_panel_lists_rounds_and_offers_to_open(app, org, create_draft, blind_round):
    fresh = create_draft(drafter=org.drafter, title="Quy chế mới")
    with app.test_request_context("/drafts/"):
        from flask_login import login_user

        login_user(org.drafter)
        html = render_template(
            "comments/_draft_panel.html", draft=fresh, version=fresh.versions[-1]
        )
        assert "Dự thảo chưa được gửi lấy ý kiến." in html
        assert f"/comments/drafts/{fresh.id}/open" in html
        draft = blind_round.draft
        html = render_template(
            "comments/_draft_panel.html", draft=draft, version=draft.versions[-1]
        )
        assert "Lần lấy ý kiến thứ 1" in html and "Đang nhận góp ý" in html
        assert f"/comments/drafts/{draft.id}/open" not in html
    with app.test_request_context("/drafts/"):
        from flask_login import login_user

        login_user(org.head1)
        html = render_template("comments/_draft_panel.html", draft=blind_round.draft, version=None)
        assert "Chưa góp ý" in html and "/open" not in html


def test_index_lists_my_rounds(app, org, blind_round, create_user):
    staff = client_for(app, org.staff1)
    page = page_text(staff.get("/comments/"))
    assert "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua" in page and "Chưa góp ý" in page
    outsider = client_for(app, create_user(Role.UNIT_STAFF, unit=org.dept))
    assert "Chưa có đợt lấy ý kiến nào" in page_text(outsider.get("/comments/"))
