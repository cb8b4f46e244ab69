"""Score-sheet reminders: the holder before the deadline, escalation after it,
missing evidence, large score gaps, extensions, "Gửi ngay"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from accounts.clock import to_local
from accounts.models import NotifyMode
from extensions import db
from tasks import jobs
from tasks.models import Reminder, ReminderKind, ReminderStatus, SubjectType
from tasks.scans import load_sheet_facts, scan_due_reminders
from tests.fixtures.tasks import PERIOD_OPENED, local, text_of
from tests.fixtures.workflow import DEADLINES, put_scores, sheet_of
from workflow import operations as flow
from workflow.models import Evidence, ScoreSheet, ScoreStage, holders_of, supervisors_of

SELF_DAY = to_local(DEADLINES["self"]).date()


def at(days: int, hour: int = 8) -> datetime:
    return local(SELF_DAY + timedelta(days=days), hour)


def scan_at(moment, **kwargs):  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        return jobs.run_scan(**kwargs)


def kinds_for(user) -> list[tuple[ReminderKind, int]]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    rows = db.session.scalars(
        select(Reminder).where(Reminder.user_id == user.id).order_by(Reminder.id)
    )
    return [(r.kind, r.subject_id) for r in rows]


def test_whoever_holds_a_sheet_is_reminded_before_its_steps_deadline(org, period, mailer):
    scan_at(at(-3))
    expected = [org.head1, org.staff1, org.head2, org.staff2, org.head3, org.staff3]
    assert mailer.recipients() == sorted(u.email for u in expected)
    text = text_of(mailer.to(org.staff2)[0])
    assert "Tự chấm điểm" in text and "còn 3 ngày" in text
    assert f"http://draftflow.test/scoring/sheets/{sheet_of(period, org.r2).id}" in text
    assert org.verifier.email not in mailer.recipients()


def test_an_overdue_sheet_is_escalated_to_the_supervisors_even_when_mail_is_off(
    org, period, mailer
):
    org.head3.notify_mode = NotifyMode.OFF
    db.session.commit()
    scan_at(at(1))
    r1, r2, r3 = (sheet_of(period, u).id for u in (org.r1, org.r2, org.r3))
    # Unit head, plus the head of the unit that reviews it (the Cụm phó for the leader's own sheet).
    assert sorted(kinds_for(org.head1)) == sorted(
        (ReminderKind.SHEET_OVERDUE, s) for s in (r1, r2, r3)
    )
    assert sorted(kinds_for(org.head2)) == sorted((ReminderKind.SHEET_OVERDUE, s) for s in (r1, r2))
    assert kinds_for(org.head3) == [(ReminderKind.SHEET_OVERDUE, r3)]
    assert kinds_for(org.staff1) == []
    (digest,) = mailer.to(org.head1)
    assert "Đôn đốc" in str(digest["Subject"]) and text_of(digest).count("ĐÔN ĐỐC") == 3
    assert len(mailer.to(org.head3)) == 1  # escalations go out whatever the preference
    scan_at(at(2))
    assert len(mailer.sent) == 3


def test_an_extended_sheet_deadline_cancels_the_old_reminder_and_moves_the_next(
    org, period, mailer
):
    sheet = sheet_of(period, org.r1)
    with time_machine.travel(at(-3), tick=False):
        scan_due_reminders(at(-3))
        db.session.commit()
        flow.extend_deadline(
            sheet,
            DEADLINES["self"] + timedelta(days=5),
            "Đơn vị có cán bộ đi công tác",
            org.verifier,
        )
        db.session.commit()
    mailer.clear()
    scan_at(at(-3, 9))
    assert org.head1.email not in mailer.recipients() and org.head2.email in mailer.recipients()
    db.session.expire_all()
    old = db.session.scalars(select(Reminder).where(Reminder.subject_id == sheet.id)).all()
    assert {r.status for r in old} == {ReminderStatus.CANCELLED}
    mailer.clear()
    scan_at(at(2))
    assert sorted(mailer.recipients()) == sorted(
        [org.head1.email, org.staff1.email, org.head2.email, org.head3.email]
    )
    assert "còn 3 ngày" in text_of(mailer.to(org.staff1)[0])


def _submitted(org, period):  # type: ignore[no-untyped-def]
    sheet = sheet_of(period, org.r3)
    with time_machine.travel(PERIOD_OPENED + timedelta(days=1), tick=False):
        flow.apply_sheet_action(sheet, "start", org.head3)
        db.session.commit()
        put_scores(sheet, ScoreStage.SELF)
        flow.apply_sheet_action(sheet, "submit", org.head3)
        db.session.commit()
    return sheet


def _reviewed_with_gaps(org, period):  # type: ignore[no-untyped-def]
    """KV3's sheet, self-scored without evidence for I.1.2 and reviewed far from I.2's
    self-score, scanned on the day before the Cụm's deadline."""
    sheet = _submitted(org, period)
    moment = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    assert sheet.due_at == DEADLINES["cluster"]
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "10", "1.2": "15", "2": "20", "II": "38"})
    db.session.add(
        Evidence(
            sheet_id=sheet.id,
            lineage=_lineage(sheet, "1.1"),
            filename="bao-cao.pdf",
            stored_name="x1.pdf",
            content_type="application/pdf",
            size=10,
        )
    )
    db.session.commit()
    return sheet, moment


def test_missing_evidence_and_a_large_gap_are_flagged_to_the_reviewer(org, period, mailer):
    sheet, moment = _reviewed_with_gaps(org, period)
    mailer.clear()
    scan_at(moment)
    # KV1 leads the Cụm, so its head reviews KV3's sheet.
    assert sorted(kinds_for(org.head1)) == sorted(
        [(ReminderKind.MISSING_EVIDENCE, sheet.id), (ReminderKind.SCORE_GAP, sheet.id)]
    )
    text = text_of(mailer.to(org.head1)[0])
    # Criteria are named by their code, unique across the table, as on the sheet.
    assert "Thiếu minh chứng" in text and "I.1.2 Không có trường hợp đình chỉ" in text
    assert "I.2 Kiểm sát giải quyết vụ việc dân sự: tự chấm 35, Cụm chấm 20" in text
    assert "tự chấm 40" not in text  # a 2-point gap is below REMINDER_SCORE_GAP_POINTS


def test_a_reviewer_reading_english_gets_the_flags_in_english(org, period, mailer):
    _sheet, moment = _reviewed_with_gaps(org, period)
    org.head1.locale = "en"
    db.session.commit()
    mailer.clear()
    scan_at(moment)
    text = text_of(mailer.to(org.head1)[0])
    assert "Missing evidence: Score sheet of" in text
    assert "Self-scored criteria without evidence:" in text
    assert "I.2 Kiểm sát giải quyết vụ việc dân sự: self-score 35, Cluster score 20" in text
    assert "Thiếu minh chứng" not in text and "tự chấm" not in text


def _lineage(sheet: ScoreSheet, code: str) -> str:
    from tests.fixtures.workflow import codes_to_keys

    return codes_to_keys(sheet.period)[code]


def test_bulk_holders_and_supervisors_match_the_workflow_rules(org, period):
    _submitted(org, period)
    db.session.expire_all()
    sheets = db.session.scalars(select(ScoreSheet)).all()
    facts = load_sheet_facts(ScoreSheet.id.in_([s.id for s in sheets]), moment=PERIOD_OPENED)
    for sheet in sheets:
        assert facts[sheet.id].holders == {u.id for u in holders_of(sheet)}
        assert facts[sheet.id].supervisors == {u.id for u in supervisors_of(sheet)}


def test_send_now_reminds_a_sheets_holders_at_once_and_only_once_a_day(org, period, mailer, api):
    sheet = sheet_of(period, org.r2)
    client = api(org.admin)
    with time_machine.travel(PERIOD_OPENED + timedelta(days=2), tick=False):
        assert (
            client.post("/api/v1/reminders/send-now", json={"sheet_id": sheet.id}).status_code
            == 202
        )
        assert mailer.recipients() == sorted([org.head2.email, org.staff2.email])
        client.post("/api/v1/reminders/send-now", json={"sheet_id": sheet.id})
    assert len(mailer.sent) == 2
    db.session.expire_all()
    (row,) = db.session.scalars(
        select(Reminder).where(
            Reminder.user_id == org.head2.id, Reminder.subject_type == SubjectType.SCORE_SHEET
        )
    ).all()
    assert row.offset_days == 17 and row.status == ReminderStatus.SENT
    assert (
        api(org.head2).post("/api/v1/reminders/send-now", json={"sheet_id": sheet.id}).status_code
        == 403
    )
