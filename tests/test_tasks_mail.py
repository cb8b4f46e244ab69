"""Mail: only after commit, retries with backoff, the sending lease, the backends, the templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import formatdate

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from accounts.clock import now
from accounts.models import NotifyMode, Role
from extensions import db
from notices.models import MailStatus, Notification, OutgoingMail
from notices.notify import notify
from tasks import jobs
from tasks.mail import (
    MailError,
    OutboxBackend,
    SmtpBackend,
    build_message,
    header_datetime,
    render_mail,
)
from tasks.models import Reminder, ReminderStatus
from tests.fixtures.tasks import DEADLINE_DAY, html_of, local, text_of

T3 = local(DEADLINE_DAY - timedelta(days=3))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def mails(kind: str | None = None) -> list[OutgoingMail]:
    db.session.expire_all()
    query = select(OutgoingMail).order_by(OutgoingMail.id)
    if kind:
        query = query.where(OutgoingMail.kind == kind)
    return list(db.session.scalars(query))


# --- after commit ---------------------------------------------------------------------------------
def test_a_rolled_back_operation_notifies_no_one(org, mailer):
    notify([org.head1, org.staff1], kind="test.notice", title="Không được gửi")
    db.session.rollback()
    db.session.commit()  # a later commit must not resurrect the dropped notices
    assert mailer.sent == []
    assert count(Notification) == 0 and count(OutgoingMail) == 0


def test_a_committed_operation_notifies_in_app_and_by_mail_after_commit(org, mailer):
    notify(
        [org.head1],
        kind="test.notice",
        title="Phiếu bị trả lại",
        body="Lý do: thiếu minh chứng.",
        url="/scoring/",
    )
    notify([org.head1], kind="test.notice", title="Hạn mới")
    assert mailer.sent == []  # nothing before the commit
    db.session.commit()
    (message,) = mailer.sent  # two notices, one person, one mail
    assert message["Message-ID"] == mails()[0].message_id
    text = text_of(message)
    assert "Phiếu bị trả lại" in text and "Hạn mới" in text
    assert "http://draftflow.test/scoring/" in text
    assert count(Notification) == 2
    assert mails()[0].status == MailStatus.SENT


def test_notify_follows_each_persons_preference_and_escalations_always_go(org, mailer):
    org.staff1.notify_mode = NotifyMode.OFF
    org.head1.notify_mode = NotifyMode.DAILY
    db.session.commit()
    notify([org.staff1, org.head1, org.head2], kind="test.notice", title="Thông báo thường")
    db.session.commit()
    assert mailer.recipients() == [org.head2.email]
    mailer.clear()
    notify([org.staff1, org.head1], kind="test.escalation", title="Quá hạn", escalation=True)
    db.session.commit()
    assert mailer.recipients() == sorted([org.staff1.email, org.head1.email])
    pending = db.session.scalars(select(Notification).where(Notification.digest_pending)).all()
    assert [n.user_id for n in pending] == [org.head1.id]


# --- retries ----------------------------------------------------------------------------------
def test_refused_twice_then_sent_on_the_third_attempt(org, round_closing, mailer):
    round_closing(units=[org.r1])
    mailer.clear()
    mailer.fail_times = 3
    with time_machine.travel(T3, tick=False) as clock:
        jobs.run_scan()
        assert mailer.sent == [] and {m.attempts for m in mails("digest")} == {1}
        assert jobs.sweep() == []  # the backoff has not elapsed
        clock.shift(timedelta(seconds=61))
        jobs.sweep()  # one of the two mails fails again, the other goes
        clock.shift(timedelta(seconds=121))
        jobs.sweep()
    assert len(mailer.sent) == 2
    assert sorted(m.attempts for m in mails("digest")) == [2, 3]
    reminder = db.session.scalars(select(Reminder).where(Reminder.attempts == 3)).one()
    assert reminder.status == ReminderStatus.SENT and reminder.retried


def test_backoff_doubles_until_the_budget_is_spent_then_the_reminder_is_failed(
    org, round_closing, mailer, app
):
    round_closing(units=[org.r1])
    mailer.clear()
    mailer.fail_times = 100
    waits = []
    with time_machine.travel(T3, tick=False) as clock:
        jobs.run_scan()
        for _ in range(app.config["MAIL_MAX_ATTEMPTS"] - 1):
            queued = [m for m in mails("digest") if m.status == MailStatus.QUEUED]
            wait = queued[0].next_attempt_at - now()
            waits.append(wait.total_seconds())
            clock.shift(wait)
            jobs.sweep()
    assert waits == [60, 120, 240, 480]
    assert {(m.status, m.attempts) for m in mails("digest")} == {(MailStatus.FAILED, 5)}
    failed = db.session.scalars(select(Reminder)).all()
    assert {(r.status, r.attempts) for r in failed} == {(ReminderStatus.FAILED, 5)}
    assert all("421" in r.last_error for r in failed)
    assert mailer.sent == []


def test_a_permanent_refusal_is_not_retried(org, mailer):
    mailer.fail_times, mailer.permanent = 1, True
    notify([org.head1], kind="test.notice", title="Người nhận không tồn tại")
    db.session.commit()
    (mail,) = mails()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)


def test_an_administrator_can_send_a_failed_mail_again(org, mailer, api):
    mailer.fail_times, mailer.permanent = 1, True
    notify([org.head1], kind="test.notice", title="Gửi lại sau khi sửa cấu hình")
    db.session.commit()
    (mail,) = mails()
    assert api(org.head1).post(f"/api/v1/mails/{mail.id}/retry").status_code == 403
    response = api(org.admin).post(f"/api/v1/mails/{mail.id}/retry")
    assert response.status_code == 200 and response.json["status"] == "sent"
    assert len(mailer.sent) == 1


# --- the sending lease ------------------------------------------------------------------------
def test_a_mail_held_by_a_live_worker_is_not_sent_twice_and_is_resent_when_its_lease_expires(
    org, mailer, app
):
    mailer.fail_times = 1  # keep the mail queued after its first attempt
    notify([org.head1], kind="test.notice", title="Một thư")
    db.session.commit()
    (mail,) = mails()
    with time_machine.travel(mail.next_attempt_at, tick=False) as clock:
        assert jobs._claim(mail.id, now()) == 2  # a worker takes it... and dies
        assert jobs.send_mail(mail.id) == "skipped"  # a second worker leaves it alone
        assert jobs.sweep() == []
        clock.shift(timedelta(seconds=app.config["MAIL_SEND_LEASE_SECONDS"] + 1))
        assert jobs.sweep() == [mail.id]
    (message,) = mailer.sent
    assert message["Message-ID"] == mail.message_id
    assert mails()[0].status == MailStatus.SENT and mails()[0].attempts == 3


# --- backends ---------------------------------------------------------------------------------
def _message(app):  # type: ignore[no-untyped-def]
    rendered = render_mail(
        "notice",
        "[Draftflow] Thử",
        {"user": type("U", (), {"full_name": "Trần Thị Bình"})(), "items": [], "notices": []},
    )
    return build_message(
        to_address="binh@vks.test",
        to_name="Trần Thị Bình",
        message_id="<abc@draftflow.test>",
        rendered=rendered,
    )


def test_smtp_backend_delivers_to_a_real_server_and_classifies_refusals(app, smtp_server):
    handler, port = smtp_server
    config = {**app.config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT": 5}
    backend = SmtpBackend(config)
    backend.send(_message(app))
    (received,) = handler.snapshot()
    assert received["Message-ID"] == "<abc@draftflow.test>"
    assert "Trần Thị Bình" in str(received["To"])
    handler.refuse = 1
    with pytest.raises(MailError) as refused:
        backend.send(_message(app))
    assert not refused.value.permanent and "421" in refused.value.message
    closed = SmtpBackend({**config, "MAIL_PORT": 1})
    with pytest.raises(MailError) as down:
        closed.send(_message(app))
    assert not down.value.permanent


def test_outbox_backend_writes_one_eml_per_message_id(app, tmp_path):
    backend = OutboxBackend(tmp_path / "outbox")
    backend.send(_message(app))
    backend.send(_message(app))  # a resend after a crash replaces the file
    (path,) = (tmp_path / "outbox").iterdir()
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["Subject"] == "[Draftflow] Thử"
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}


def test_every_mail_has_vietnamese_text_and_html_with_absolute_links(org, round_closing, mailer):
    consultation = round_closing(units=[org.r1])
    mailer.clear()
    with time_machine.travel(T3, tick=False):
        jobs.run_scan()
    message = mailer.to(org.head1)[0]
    text, html = text_of(message), html_of(message)
    link = f"http://draftflow.test/comments/rounds/{consultation.id}"
    for body in (text, html):
        assert "Kính gửi" in body and consultation.draft.title in body
        assert "http://draftflow.test/account/preferences" in body
    assert link in text
    assert f'<a href="{link}">' in html
    assert str(message["From"]).endswith("<no-reply@draftflow.local>")


def test_the_default_backend_fills_the_outbox_that_admins_can_read(org, app, client, auth):
    notify([org.head1], kind="test.notice", title="Thư vào hộp thư đi")
    db.session.commit()
    auth.login(org.admin)
    listing = client.get("/admin/outbox")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Thư vào hộp thư đi" in page
    name = mails()[0].message_id
    from tasks.mail import outbox_name

    shown = client.get(f"/admin/outbox/{outbox_name(name)}")
    assert shown.status_code == 200 and "Kính gửi" in shown.get_data(as_text=True)
    html = client.get(f"/admin/outbox/{outbox_name(name)}/html")
    assert html.status_code == 200 and "sandbox" in html.headers["Content-Security-Policy"]
    assert client.get("/admin/outbox/..%2Fsecret_key").status_code == 404
    auth.logout()
    auth.login(org.head1)
    assert client.get("/admin/outbox").status_code == 403


def test_the_outbox_shows_dates_in_local_time_like_every_other_page(org, client, auth):
    sent = datetime(2026, 12, 3, 23, 45, 43, tzinfo=UTC)
    with time_machine.travel(sent, tick=False):
        notify([org.head1], kind="test.notice", title="Thư lúc gần nửa đêm")
        db.session.commit()
    auth.login(org.admin)
    from tasks.mail import outbox_name

    listing = client.get("/admin/outbox").get_data(as_text=True)
    shown = client.get(f"/admin/outbox/{outbox_name(mails()[0].message_id)}")
    for page in (listing, shown.get_data(as_text=True)):
        assert "04/12/2026 06:45" in page
        assert "-0000" not in page and "Dec 2026" not in page


@settings(max_examples=50, derandomize=True)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31)))
def test_a_mail_date_header_reads_back_as_the_moment_it_was_written(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert header_datetime(formatdate(moment.timestamp())) == moment
    assert header_datetime(formatdate(moment.timestamp(), localtime=False, usegmt=True)) == moment


def test_an_unreadable_mail_date_is_shown_as_nothing() -> None:
    assert header_datetime(None) is None
    assert header_datetime("") is None
    assert header_datetime("hôm qua") is None


def test_inactive_people_are_not_notified(org, mailer, create_user):
    gone = create_user(Role.UNIT_STAFF, unit=org.r1)
    gone.active = False
    db.session.commit()
    notify([gone], kind="test.notice", title="Không gửi")
    db.session.commit()
    assert mailer.sent == [] and count(Notification) == 0


def test_a_mail_speaks_its_readers_language(org, mailer, client, auth):
    # head1 switches to English in the header; head2 never chooses.
    auth.login(org.head1)
    client.post("/lang", data={"lang": "en", "next": "/"})
    auth.logout()
    db.session.expire_all()
    assert db.session.get(type(org.head1), org.head1.id).locale == "en"
    notify([org.head1, org.head2], kind="test.notice", title="Thông báo thử")
    db.session.commit()
    english, vietnamese = text_of(mailer.to(org.head1)[0]), text_of(mailer.to(org.head2)[0])
    assert english.startswith(f"Dear {org.head1.full_name},")
    assert "Kính gửi" not in english
    assert vietnamese.startswith(f"Kính gửi {org.head2.full_name},")


def test_the_language_is_kept_in_the_account_and_editable(org, client, auth):
    auth.login(org.staff1)
    page = client.get("/account/preferences").get_data(as_text=True)
    assert 'name="language"' in page
    saved = client.post("/account/preferences", data={"notify_mode": "immediate", "language": "en"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(org.staff1), org.staff1.id).locale == "en"
    # The pages follow at once, and again at the next login.
    assert "Account" in client.get("/account/preferences").get_data(as_text=True)
    auth.logout()
    auth.login(org.staff1)
    assert "Hello" in client.get("/").get_data(as_text=True)
    refused = client.post(
        "/account/preferences", data={"notify_mode": "immediate", "language": "fr"}
    )
    assert refused.status_code == 200
    db.session.expire_all()
    assert db.session.get(type(org.staff1), org.staff1.id).locale == "en"
