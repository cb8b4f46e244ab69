"""The conference pages, without JavaScript: the drafter sets the meeting up, the secretary
records one opinion per save and comes back to the form with the clause kept, the room's
screen refreshes itself, and everyone else is refused with a plain message."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from accounts.models import AuditEntry
from comments.conference.models import Conference, Opinion
from comments.consultation import operations as round_operations
from comments.consultation.models import Comment, CommentSource
from extensions import db
from tests.fixtures.conference import speak


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def base(consultation_id: int) -> str:
    return f"/comments/rounds/{consultation_id}/meeting"


def test_the_drafter_sets_up_the_conference_and_assigns_a_secretary(
    client, auth, org, blind_round, secretary
):
    auth.login(org.drafter)
    url = base(blind_round.id)
    assert "Tổ chức hội nghị" in page_text(client.get(url))
    missing = client.post(url, data={"starts_at": "2026-12-03T08:30", "mode": "online"})
    assert missing.status_code == 422
    response = client.post(
        url,
        data={
            "starts_at": "2026-12-03T08:30",
            "mode": "online",
            "place": "Hội trường tầng 3",
            "chair_name": "Nguyễn Văn Chủ",
            "chair_title": "Phó Viện trưởng",
        },
    )
    assert response.status_code == 302
    conference = db.session.scalars(select(Conference)).one()
    assert (
        conference.place == "Hội trường tầng 3" and conference.held_on.isoformat() == "2026-12-03"
    )
    assert (
        client.post(f"{url}/secretaries", data={"secretaries": [secretary.id]}).status_code == 302
    )
    db.session.expire_all()
    assert [s.user_id for s in conference.secretaries] == [secretary.id]
    # A user without the role is not offered, and is refused when sent anyway.
    refused = client.post(f"{url}/secretaries", data={"secretaries": [org.staff1.id]})
    assert refused.status_code == 303  # back to the page, with the message
    assert "không có vai trò thư ký hội nghị" in page_text(client.get(url))
    text = page_text(client.get(url))
    assert "Đỗ Thị Thư" in text and "Đơn vị dự họp" in text


def test_the_secretary_records_one_opinion_per_save_and_keeps_the_clause(
    client, auth, org, conference, secretary
):
    auth.login(secretary)
    url = f"{base(conference.consultation_id)}/record"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<input[^>]*autofocus[^>]*name="speaker"', html)
    assert 'list="clause-labels"' in html and '<option value="khoản 4 Điều 7">' in html
    first = client.post(
        url,
        data={"speaker": "Lê Văn Trưởng", "unit": org.r1.id, "clause": "7.4", "text": "Ý kiến 1."},
    )
    assert first.status_code == 302
    assert first.headers["Location"].endswith("/record?clause=7.4")
    back = client.get(first.headers["Location"])
    assert re.search(
        r'name="clause"[^>]*value="7.4"|value="7.4"[^>]*name="clause"', back.get_data(as_text=True)
    )
    assert "Đã ghi ý kiến của Lê Văn Trưởng." in page_text(back)
    second = client.post(
        url,
        data={
            "speaker": "Phạm Thị Cán",
            "unit": org.r2.id,
            "clause": "Điều 7 khoản 4 điểm đ",
            "text": "Ý kiến 2.",
        },
    )
    assert second.status_code == 302
    third = client.post(
        url, data={"speaker": "Trần Văn Ba", "unit": org.r3.id, "clause": "", "text": "Ý kiến 3."}
    )
    assert third.status_code == 302
    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [c.source for c in comments] == [CommentSource.CONFERENCE] * 3
    labels = [c.clause.number if c.clause else None for c in comments]
    assert labels == ["4", "đ", None]
    assert "Ý kiến đã ghi (3)" in page_text(client.get(url))


def test_a_bad_entry_keeps_what_was_typed(client, auth, org, conference, secretary):
    auth.login(secretary)
    url = f"{base(conference.consultation_id)}/record"
    unknown = client.post(
        url,
        data={
            "speaker": "Lê Văn Trưởng",
            "unit": org.r1.id,
            "clause": "9.9",
            "text": "Giữ lại nội dung này.",
        },
    )
    assert unknown.status_code == 422
    assert "Không tìm thấy điều khoản “9.9”" in page_text(unknown)
    assert "Giữ lại nội dung này." in unknown.get_data(as_text=True)
    no_unit = client.post(url, data={"speaker": "A", "unit": 0, "clause": "", "text": "Nội dung."})
    assert no_unit.status_code == 422 and "Hãy chọn đơn vị" in page_text(no_unit)
    assert db.session.scalars(select(Opinion)).all() == []


def test_others_are_refused(client, auth, org, conference, create_user):
    from accounts.models import Role

    stranger = create_user(Role.CONFERENCE_SECRETARY, unit=org.office)
    url = base(conference.consultation_id)
    for user in (stranger, org.head1, org.staff1):
        auth.login(user)
        for path in ("/record", "/current", "/attendance", "/conclusions"):
            method = client.get if path == "/record" else client.post
            response = method(f"{url}{path}")
            assert response.status_code == 403, (user.username, path)
        auth.logout()
    auth.login(org.head1)
    assert client.get(f"{url}/minutes.docx").status_code == 403
    assert client.post(url, data={"place": "x"}).status_code == 403


def test_the_screen_shows_the_current_clause_and_refreshes_without_javascript(
    client, auth, org, conference, secretary
):
    speak(conference, secretary, org.r1, "khoản 4 Điều 7", "Về khoản 4.")
    speak(conference, secretary, org.r2, "Điều 2", "Về Điều 2.")
    auth.login(secretary)
    url = base(conference.consultation_id)
    assert client.post(f"{url}/current", data={"on_screen": "7.4"}).status_code == 302
    screen = client.get(f"{url}/presenter")
    html = screen.get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in html
    text = page_text(screen)
    assert "Khoản 4 Điều 7" in text and "Về khoản 4." in text and "Về Điều 2." not in text
    state = client.get(f"{url}/presenter.json").get_json()
    assert state["focus"] == "clause" and [o["text"] for o in state["opinions"]] == ["Về khoản 4."]
    client.post(f"{url}/current", data={"on_screen": "chung"})
    assert client.get(f"{url}/presenter.json").get_json()["focus"] == "general"
    client.post(f"{url}/current", data={"on_screen": ""})
    everything = client.get(f"{url}/presenter.json").get_json()
    assert everything["focus"] == "all" and len(everything["opinions"]) == 2
    bad = client.post(f"{url}/current", data={"on_screen": "Điều 99"})
    assert bad.status_code == 303
    assert "Không tìm thấy điều khoản “Điều 99”" in page_text(client.get(f"{url}/record"))


def test_the_screen_follows_the_rounds_visibility(client, auth, org, conference, secretary):
    """A blind round: another invited unit sees only its own opinions until the close."""
    speak(conference, secretary, org.r1, None, "Của khu vực 1.")
    speak(conference, secretary, org.r2, None, "Của khu vực 2.")
    auth.login(org.head2)
    url = base(conference.consultation_id)
    texts = [o["text"] for o in client.get(f"{url}/presenter.json").get_json()["opinions"]]
    assert texts == ["Của khu vực 2."]
    auth.logout()
    round_operations.close_round(conference.consultation, org.drafter)
    db.session.commit()
    auth.login(org.head2)
    texts = [o["text"] for o in client.get(f"{url}/presenter.json").get_json()["opinions"]]
    assert texts == ["Của khu vực 1.", "Của khu vực 2."]


def test_attendance_and_conclusions(client, auth, org, conference, secretary):
    auth.login(secretary)
    url = base(conference.consultation_id)
    response = client.post(
        f"{url}/attendance",
        data={
            f"status-{org.r1.id}": "1",
            f"representatives-{org.r1.id}": "Lê Văn Trưởng",
            f"status-{org.r2.id}": "0",
            f"status-{org.r3.id}": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    rows = {a.unit_id: (a.attended, a.representatives) for a in conference.attendances}
    assert rows == {org.r1.id: (True, "Lê Văn Trưởng"), org.r2.id: (False, "")}
    saved = client.post(
        f"{url}/conclusions",
        data={"conclusions": "Giao Văn phòng tiếp thu.", "lock_version": conference.lock_version},
    )
    assert saved.status_code == 302
    stale = client.post(f"{url}/conclusions", data={"conclusions": "Khác.", "lock_version": 1})
    assert stale.status_code == 409 and "vừa được người khác sửa" in page_text(stale)
    html = stale.get_data(as_text=True)
    assert re.search(r'name="conclusions">\s*Khác\.</textarea>', html)  # what was typed stays
    db.session.expire_all()
    assert conference.conclusions == "Giao Văn phòng tiếp thu."
    codes = set(db.session.scalars(select(AuditEntry.action)))
    assert {"conference.attendance", "conference.conclusions"} <= codes


def test_a_closed_round_answers_409_with_a_plain_message(client, auth, org, conference, secretary):
    round_operations.close_round(conference.consultation, org.drafter)
    db.session.commit()
    auth.login(secretary)
    url = f"{base(conference.consultation_id)}/record"
    assert "không ghi thêm ý kiến được nữa" in page_text(client.get(url))
    response = client.post(url, data={"speaker": "A", "unit": org.r1.id, "clause": "", "text": "B"})
    assert response.status_code == 409 and "đã kết thúc" in page_text(response)


def test_the_secretary_finds_their_conferences(client, auth, org, conference, secretary):
    auth.login(secretary)
    home = client.get("/")
    assert 'href="/comments/conferences"' in home.get_data(as_text=True)
    text = page_text(client.get("/comments/conferences"))
    assert conference.consultation.draft.title in text and "Ghi ý kiến" in text


def test_the_secretary_takes_back_a_slip(client, auth, org, conference, secretary):
    wrong = speak(conference, secretary, org.r2, text="Ghi nhầm.")
    url = f"{base(conference.consultation_id)}/opinions/{wrong.id}/delete"
    auth.login(org.head1)
    assert client.post(url).status_code == 403
    auth.logout()
    auth.login(secretary)
    record = client.get(f"{base(conference.consultation_id)}/record").get_data(as_text=True)
    assert f'action="{url}"' in record
    response = client.post(url, data={"clause": "7.4"})
    assert response.status_code == 302 and response.headers["Location"].endswith("?clause=7.4")
    assert db.session.scalars(select(Opinion)).all() == []
