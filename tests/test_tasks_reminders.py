"""Consultation reminders: T−3, T−1, the close, extensions, catch-up, digests, preferences."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, select

from accounts.clock import end_of_local_day
from accounts.models import NotifyMode
from comments.consultation import operations as comment_ops
from extensions import db
from notices.models import Notification, OutgoingMail
from tasks import jobs
from tasks.models import Reminder, ReminderKind, ReminderStatus
from tasks.scans import deliver_due, offset_windows, scan_due_reminders, window_offset
from tests.fixtures.tasks import DEADLINE_DAY, local, submit, text_of

D = DEADLINE_DAY


def day(offset: int, hour: int = 8):  # type: ignore[no-untyped-def]
    """A local moment `offset` days from the deadline day."""
    return local(D + timedelta(days=offset), hour)


def scan_at(moment, **kwargs):  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        return jobs.run_scan(**kwargs)


def reminders(**filters):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    query = select(Reminder).filter_by(**filters).order_by(Reminder.id)
    return list(db.session.scalars(query))


def members(org, *units):  # type: ignore[no-untyped-def]
    people = {
        "KV1": [org.head1, org.staff1],
        "KV2": [org.head2, org.staff2],
        "KV3": [org.head3, org.staff3],
    }
    return sorted(u.email for unit in units for u in people[unit])


# --- the pure deadline arithmetic ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("days_before", "hour", "expected"),
    [
        (5, 8, None),
        (4, 23, None),
        (3, 0, 3),
        (3, 8, 3),
        (2, 8, 3),
        (1, 0, 1),
        (1, 8, 1),
        (0, 8, 1),
        (0, 23, 1),
        (-1, 8, None),
    ],
)
def test_offset_due_follows_local_calendar_days(days_before, hour, expected):
    deadline = end_of_local_day(D)
    moment = local(D - timedelta(days=days_before), hour)
    assert window_offset(deadline, moment, [3, 1]) == expected


def test_windows_do_not_overlap_and_cover_the_days_before_the_deadline():
    windows = offset_windows(day(-10), [1, 3])
    assert [w.offset for w in windows] == [3, 1]
    assert windows[0].lower == windows[1].upper
    assert windows[1].lower is None


# --- T−3, T−1, units that submitted --------------------------------------------------------------
def test_t3_then_t1_remind_every_member_of_units_that_have_not_answered(org, round_closing, mailer):
    consultation = round_closing()
    submit(org.head3, consultation, day(-5))
    mailer.clear()

    scan_at(day(-3))
    assert mailer.recipients() == members(org, "KV1", "KV2")
    text = text_of(mailer.to(org.head1)[0])
    assert consultation.draft.title in text and "còn 3 ngày" in text
    assert "http://draftflow.test/" in text
    assert {r.offset_days for r in reminders()} == {3}

    mailer.clear()
    scan_at(day(-2))
    assert mailer.sent == []

    scan_at(day(-1))
    assert mailer.recipients() == members(org, "KV1", "KV2")
    assert "còn 1 ngày" in text_of(mailer.to(org.staff2)[0])
    assert sorted(r.offset_days for r in reminders()) == [1, 1, 1, 1, 3, 3, 3, 3]
    assert all(r.status == ReminderStatus.SENT and r.by_email for r in reminders())
    assert not any(r.user_id in (org.head3.id, org.staff3.id) for r in reminders())


def test_each_member_is_reminded_in_their_own_language(org, round_closing, mailer):
    consultation = round_closing(units=[org.r1])
    org.head1.locale = "en"
    db.session.commit()
    mailer.clear()
    scan_at(day(-3))
    (english,), (vietnamese,) = mailer.to(org.head1), mailer.to(org.staff1)
    title = consultation.draft.title
    assert english["Subject"] == f"[Draftflow] Reminder: Comments on the draft “{title}”"
    assert "(3 days left)" in text_of(english) and "has not submitted its position" in text_of(
        english
    )
    assert "còn 3" not in text_of(english) and "Góp ý" not in english["Subject"]
    assert vietnamese["Subject"] == f"[Draftflow] Nhắc việc: Góp ý dự thảo “{title}”"
    assert "(còn 3 ngày)" in text_of(vietnamese)
    # The in-app notices keep the text each person read.
    notices = {
        n.user_id: n for n in db.session.scalars(select(Notification)).all() if n.reminder_id
    }
    assert notices[org.head1.id].title == f"Comments on the draft “{title}”"
    assert notices[org.staff1.id].title == f"Góp ý dự thảo “{title}”"
    # The mail is written when it goes out: a reader who switched language in between
    # reads the new one (and English counts one day in the singular).
    with time_machine.travel(day(-1), tick=False):
        scan_due_reminders(day(-1))
        deliver_due(day(-1))
        db.session.commit()
        org.staff1.locale = "en"
        db.session.commit()
        for mail in db.session.scalars(select(OutgoingMail).filter_by(status="queued")).all():
            jobs.send_mail(mail.id)
    assert "(1 day left)" in text_of(mailer.to(org.head1)[-1])
    assert "(1 day left)" in text_of(mailer.to(org.staff1)[-1])


def test_a_unit_that_submits_after_the_decision_is_not_reminded(org, round_closing, mailer):
    consultation = round_closing()
    with time_machine.travel(day(-3), tick=False):
        scan_due_reminders(day(-3))
        db.session.commit()
    submit(org.head1, consultation, day(-3, 9))
    mailer.clear()
    with time_machine.travel(day(-3, 10), tick=False):
        deliver_due(day(-3, 10))
        db.session.commit()
        for mail in db.session.scalars(select(OutgoingMail)).all():
            jobs.send_mail(mail.id)
    assert mailer.recipients() == members(org, "KV2", "KV3")
    cancelled = reminders(status=ReminderStatus.CANCELLED)
    assert {r.user_id for r in cancelled} == {org.head1.id, org.staff1.id}
    assert all("đã gửi ý kiến" in r.last_error for r in cancelled)


def test_scanning_twice_decides_and_sends_nothing_twice(org, round_closing, mailer):
    round_closing()
    mailer.clear()
    scan_at(day(-3))
    scan_at(day(-3, 9))
    with time_machine.travel(day(-3, 10), tick=False):
        assert scan_due_reminders(day(-3, 10))["consultation_due"] == 0
        db.session.commit()
    assert len(reminders()) == 6
    assert len(mailer.sent) == 6
    assert len({m["Message-ID"] for m in mailer.sent}) == 6


def test_worker_back_after_days_sends_one_digest_not_every_missed_offset(
    org, round_closing, mailer
):
    round_closing(units=[org.r1])
    mailer.clear()
    scan_at(day(-1, 20))  # the worker was down through T−3 and most of T−1
    assert mailer.recipients() == members(org, "KV1")
    assert [r.offset_days for r in reminders(user_id=org.head1.id)] == [1]


# --- the close --------------------------------------------------------------------------------
def test_at_the_close_the_drafters_learn_which_units_did_not_answer(org, round_closing, mailer):
    consultation = round_closing()
    submit(org.head2, consultation, day(-2))
    mailer.clear()
    scan_at(day(1, 0))
    assert mailer.recipients() == [org.drafter.email]
    text = text_of(mailer.sent[0])
    assert "2 đơn vị chưa gửi ý kiến" in text
    assert org.r1.name in text and org.r3.name in text and org.r2.name not in text
    (close,) = reminders(kind=ReminderKind.CONSULTATION_CLOSED)
    assert close.deadline == consultation.closes_at
    scan_at(day(1, 9))
    assert len(mailer.sent) == 1


def test_no_close_notice_when_every_unit_answered(org, round_closing, mailer):
    consultation = round_closing(units=[org.r1])
    submit(org.head1, consultation, day(-2))
    mailer.clear()
    scan_at(day(1))
    assert mailer.sent == []
    assert reminders() == []


# --- extensions -------------------------------------------------------------------------------
def test_extension_cancels_the_old_deadline_reminder_and_plans_new_ones(org, round_closing, mailer):
    consultation = round_closing(units=[org.r1, org.r2])
    with time_machine.travel(day(-3), tick=False):
        scan_due_reminders(day(-3))
        db.session.commit()
        response = next(r for r in consultation.responses if r.unit_id == org.r1.id)
        comment_ops.extend_deadline(
            response, deadline=end_of_local_day(D + timedelta(days=7)), actor=org.drafter
        )
        db.session.commit()
    mailer.clear()
    scan_at(day(-3, 9))
    # KV1's reminder was for the old deadline: cancelled, not sent.
    assert mailer.recipients() == members(org, "KV2")
    old = reminders(user_id=org.head1.id)
    assert [(r.status, r.deadline) for r in old] == [
        (ReminderStatus.CANCELLED, consultation.closes_at)
    ]
    assert "Hạn đã đổi" in old[0].last_error

    mailer.clear()
    scan_at(day(4))  # three days before the new deadline (and after the round's close)
    assert mailer.recipients() == sorted([*members(org, "KV1"), org.drafter.email])
    assert "(được gia hạn đến 27/11/2026 23:59)" in text_of(mailer.to(org.drafter)[0])
    new = reminders(user_id=org.head1.id, status=ReminderStatus.SENT)
    assert [r.deadline for r in new] == [end_of_local_day(D + timedelta(days=7))]


# --- digests and preferences ------------------------------------------------------------------
def test_one_mail_per_person_lists_all_their_items(org, round_closing, mailer):
    first = round_closing(units=[org.r1], title="Quy chế thi đua, khen thưởng")
    second = round_closing(units=[org.r1], title="Quy chế văn thư, lưu trữ")
    mailer.clear()
    scan_at(day(-3))
    assert mailer.recipients() == members(org, "KV1")
    text = text_of(mailer.to(org.head1)[0])
    assert first.draft.title in text and second.draft.title in text
    assert "2 việc" in str(mailer.to(org.head1)[0]["Subject"])


def test_off_sees_reminders_in_the_app_only(org, round_closing, mailer):
    org.staff1.notify_mode = NotifyMode.OFF
    db.session.commit()
    round_closing(units=[org.r1])
    mailer.clear()
    scan_at(day(-3))
    assert mailer.recipients() == [org.head1.email]
    (reminder,) = reminders(user_id=org.staff1.id)
    assert reminder.status == ReminderStatus.SENT and not reminder.by_email
    notices = db.session.scalars(
        select(Notification).where(
            Notification.user_id == org.staff1.id, Notification.kind == "reminder"
        )
    ).all()
    assert len(notices) == 1 and notices[0].mail_id is None


def test_daily_waits_for_the_digest(org, round_closing, mailer):
    org.head1.notify_mode = NotifyMode.DAILY
    db.session.commit()
    round_closing(units=[org.r1])
    mailer.clear()
    scan_at(day(-3, 9))
    assert mailer.recipients() == [org.staff1.email]
    assert reminders(user_id=org.head1.id)[0].status == ReminderStatus.PLANNED
    scan_at(day(-2, 7), digest=True)
    assert mailer.recipients() == sorted([org.staff1.email, org.head1.email])
    digest = mailer.to(org.head1)[0]
    assert "còn 2 ngày" in text_of(digest)
    # The notice of the round's opening waited for the digest too.
    assert "Đề nghị góp ý" in text_of(digest)


def test_the_scan_issues_the_same_statements_for_10_or_40_units(
    org, create_unit, create_user, round_closing
):
    def statements_for(count: int) -> int:
        units = [create_unit() for _ in range(count)]
        for unit in units:
            create_user(unit=unit)
        round_closing(units=units, day=D + timedelta(days=30 * count))
        seen: list[str] = []

        def count_it(*args):  # type: ignore[no-untyped-def]
            seen.append(args[2])

        moment = local(D + timedelta(days=30 * count - 3))
        event.listen(db.engine, "before_cursor_execute", count_it)
        try:
            with time_machine.travel(moment, tick=False):
                planned = scan_due_reminders(moment)
        finally:
            event.remove(db.engine, "before_cursor_execute", count_it)
        db.session.rollback()
        assert planned["consultation_due"] == count
        return len(seen)

    assert statements_for(10) == statements_for(40)
