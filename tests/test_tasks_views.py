"""The notification centre, the unread count in the nav, the reminder log, the JSON API."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import event, select

from extensions import db
from notices.models import Notification
from notices.notify import notify
from tasks import jobs
from tasks.models import Reminder, ReminderStatus
from tests.fixtures.tasks import DEADLINE_DAY, local, text_of

T3 = local(DEADLINE_DAY - timedelta(days=3))


def nav_label(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/notifications").get_data(as_text=True)
    start = page.index('href="/notifications"')
    return page[page.index(">", start) + 1 : page.index("</a>", start)]


def test_notification_centre_lists_marks_read_and_counts_unread_in_the_nav(
    org, client, auth, mailer
):
    notify([org.head1], kind="test.notice", title="Phiếu chấm điểm bị trả lại", url="/scoring/")
    notify([org.head1], kind="test.notice", title="Gia hạn góp ý")
    notify([org.head2], kind="test.notice", title="Không phải của bạn")
    db.session.commit()
    auth.login(org.head1)
    assert nav_label(client) == "Thông báo (2)"
    page = client.get("/notifications").get_data(as_text=True)
    assert "Phiếu chấm điểm bị trả lại" in page and "Không phải của bạn" not in page

    mine = db.session.scalars(
        select(Notification).where(Notification.user_id == org.head1.id).order_by(Notification.id)
    ).all()
    opened = client.post(f"/notifications/{mine[0].id}/open")
    assert opened.status_code == 303 and opened.headers["Location"] == "/scoring/"
    assert nav_label(client) == "Thông báo (1)"
    other = db.session.scalars(
        select(Notification).where(Notification.user_id == org.head2.id)
    ).one()
    assert client.post(f"/notifications/{other.id}/read").status_code == 403
    assert client.post("/notifications/read-all").status_code == 303
    assert nav_label(client) == "Thông báo"
    assert "Bạn đã đọc hết thông báo." in client.get("/notifications").get_data(as_text=True)


def test_a_notification_never_redirects_outside_the_app(org, client, auth, mailer):
    notify([org.head1], kind="test.notice", title="Liên kết lạ", url="https://example.org/phishing")
    db.session.commit()
    notice = db.session.scalars(select(Notification)).one()
    auth.login(org.head1)
    response = client.post(f"/notifications/{notice.id}/open")
    assert response.headers["Location"] == "/notifications"


def test_reminder_log_shows_filters_and_sends_now_for_administrators_only(
    org, round_closing, client, auth, mailer
):
    consultation = round_closing(units=[org.r1, org.r2])
    mailer.clear()
    with time_machine.travel(T3, tick=False):
        jobs.run_scan()
    auth.login(org.head1)
    assert client.get("/admin/reminders").status_code == 403
    assert (
        client.post(
            "/admin/reminders/send-now",
            data={"subject": "consultation", "subject_id": consultation.id},
        ).status_code
        == 403
    )
    auth.logout()
    auth.login(org.admin)
    page = client.get("/admin/reminders").get_data(as_text=True)
    assert "Nhắc hạn góp ý" in page and org.staff2.full_name in page and "(T−3)" in page
    assert "Quét định kỳ" in page
    filtered = client.get(f"/admin/reminders?status=sent&user={org.head2.username}").get_data(
        as_text=True
    )
    assert org.head2.full_name in filtered and org.staff1.full_name not in filtered
    assert "Chưa có lần nhắc nào." in client.get("/admin/reminders?status=failed").get_data(
        as_text=True
    )

    mailer.clear()
    with time_machine.travel(T3 + timedelta(days=1), tick=False):
        auth.login(org.admin)
        response = client.post(
            "/admin/reminders/send-now",
            data={"subject": "consultation", "subject_id": consultation.id},
        )
        assert response.status_code == 303
        assert mailer.recipients() == sorted(
            u.email for u in (org.head1, org.staff1, org.head2, org.staff2)
        )
        assert "còn 2 ngày" in text_of(mailer.sent[0])
        client.post(
            "/admin/reminders/send-now",
            data={"subject": "consultation", "subject_id": consultation.id},
        )
        assert len(mailer.sent) == 4  # a second click the same day says nothing new
        bad = client.post(
            "/admin/reminders/send-now",
            data={"subject": "sheet", "subject_id": "x"},
            headers={"Referer": "/admin/reminders"},
        )
        assert bad.status_code == 303
        assert "Hãy chọn một đợt lấy ý kiến" in client.get("/admin/reminders").get_data(
            as_text=True
        )


def test_reminder_log_issues_the_same_statements_for_few_or_many_rows(
    org, round_closing, client, auth, mailer
):
    auth.login(org.admin)

    def statements() -> int:
        seen: list[str] = []

        def count(*args):  # type: ignore[no-untyped-def]
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/admin/reminders").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    round_closing(units=[org.r1])
    with time_machine.travel(T3, tick=False):
        jobs.run_scan()
    few = statements()
    round_closing(units=[org.r1, org.r2, org.r3], title="Quy chế văn thư, lưu trữ")
    with time_machine.travel(T3 + timedelta(hours=1), tick=False):
        jobs.run_scan()
    assert len(db.session.scalars(select(Reminder)).all()) == 8
    assert statements() == few


def test_api_notifications_and_reminders(org, api, mailer, round_closing):
    notify([org.head1], kind="test.notice", title="Thông báo qua API")
    db.session.commit()
    client = api(org.head1)
    listing = client.get("/api/v1/notifications?unread=1").json
    assert listing["unread"] == 1 and listing["items"][0]["title"] == "Thông báo qua API"
    notice_id = listing["items"][0]["id"]
    read = client.post(f"/api/v1/notifications/{notice_id}/read")
    assert read.status_code == 200 and read.json["read"] is True
    assert client.post("/api/v1/notifications/read-all").json == {"marked": 0}
    assert api(org.head2).post(f"/api/v1/notifications/{notice_id}/read").status_code == 403

    round_closing(units=[org.r1])
    with time_machine.travel(T3, tick=False):
        jobs.run_scan()
    assert client.get("/api/v1/reminders").status_code == 403
    admin = api(org.admin)
    rows = admin.get("/api/v1/reminders?status=sent&kind=consultation_due").json["items"]
    assert {r["username"] for r in rows} == {org.head1.username, org.staff1.username}
    assert all(r["offset_days"] == 3 and r["by_email"] for r in rows)
    mails = admin.get("/api/v1/mails?status=sent").json["items"]
    assert {m["to"] for m in mails} >= {org.head1.email, org.staff1.email}
    invalid = admin.post("/api/v1/reminders/send-now", json={"consultation_id": 1, "sheet_id": 2})
    assert invalid.status_code == 422
    assert admin.post("/api/v1/reminders/send-now", json={"sheet_id": 999}).status_code == 404
    assert (
        db.session.scalars(select(Reminder).where(Reminder.status != ReminderStatus.SENT)).all()
        == []
    )
