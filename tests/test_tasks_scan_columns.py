"""What the reminder scan reads instead of every candidate: a response's stored deadline
(`UnitResponse.due_at`) and a sheet's review flags (`ScoreSheet.evidence_missing`,
`ScoreSheet.score_gap`). The models keep them in step whoever writes the rows, and
migration 0003 fills them for rows written before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, update

from accounts.clock import end_of_local_day
from app import create_app
from bench import data as bench_data
from comments.consultation import operations as comment_ops
from comments.consultation.models import Comment, UnitResponse
from extensions import db
from tasks import jobs
from tasks.models import Reminder, ReminderKind
from tests.fixtures.tasks import DEADLINE_DAY, PERIOD_OPENED, local, text_of
from tests.fixtures.workflow import put_scores, sheet_of
from workflow import operations as flow
from workflow.models import Evidence, Score, ScoreSheet, ScoreStage

# The cluster step is due on 27/11: from here it is weeks ahead, outside every window.
FAR_AHEAD = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% bao cao\n"


def flags(sheet: ScoreSheet) -> tuple[bool, Decimal | None]:
    db.session.expire_all()
    row = db.session.get(ScoreSheet, sheet.id)
    assert row is not None
    return row.evidence_missing, row.score_gap


def decided(sheet: ScoreSheet) -> list[tuple[ReminderKind, int]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Reminder).where(Reminder.subject_id == sheet.id).order_by(Reminder.id)
    )
    return [(r.kind, r.user_id) for r in rows]


# --- unit responses ---------------------------------------------------------------------------
def test_a_responses_due_at_is_its_deadline_whoever_writes_it(org, round_closing):
    consultation = round_closing(units=[org.r1, org.r2])
    assert {r.due_at for r in consultation.responses} == {consultation.closes_at}
    extended = end_of_local_day(DEADLINE_DAY + timedelta(days=7))
    response = next(r for r in consultation.responses if r.unit_id == org.r1.id)
    with time_machine.travel(local(DEADLINE_DAY - timedelta(days=3)), tick=False):
        comment_ops.extend_deadline(response, deadline=extended, actor=org.drafter)
        db.session.commit()
    # A row written by ids only (as a factory might), then the round's deadline moved.
    db.session.add(UnitResponse(consultation_id=consultation.id, unit_id=org.r3.id))
    db.session.commit()
    consultation.closes_at += timedelta(days=1)
    db.session.commit()

    db.session.expire_all()
    stored = {r.unit_id: r.due_at for r in db.session.scalars(select(UnitResponse))}
    assert stored == {r.unit_id: r.deadline for r in consultation.responses}
    assert stored[org.r1.id] == extended
    assert stored[org.r2.id] == stored[org.r3.id] == consultation.closes_at


def test_a_response_written_without_due_at_is_still_reminded(org, round_closing, mailer):
    consultation = round_closing(units=[org.r1, org.r2])
    # As raw SQL that skipped the column would leave it (the models never do).
    table = UnitResponse.__table__
    db.session.execute(update(table).where(table.c.unit_id == org.r1.id).values(due_at=None))
    db.session.commit()
    mailer.clear()
    with time_machine.travel(local(DEADLINE_DAY - timedelta(days=1)), tick=False):
        jobs.run_scan()
    db.session.expire_all()
    rows = db.session.scalars(select(Reminder).order_by(Reminder.user_id)).all()
    assert sorted(r.user_id for r in rows) == sorted(
        u.id for u in (org.head1, org.staff1, org.head2, org.staff2)
    )
    assert {(r.deadline, r.offset_days) for r in rows} == {(consultation.closes_at, 1)}
    assert len(mailer.sent) == 4


# --- score sheets -----------------------------------------------------------------------------
def test_review_flags_follow_the_scores_and_the_evidence(org, period):
    sheet = sheet_of(period, org.r3)
    assert flags(sheet) == (False, None)
    with time_machine.travel(PERIOD_OPENED + timedelta(days=1), tick=False):
        flow.apply_sheet_action(sheet, "start", org.head3)
        db.session.commit()
        put_scores(sheet, ScoreStage.SELF)
        assert flags(sheet) == (True, None)
        evidence = flow.upload_evidence(sheet, None, "Báo cáo.pdf", PDF, org.head3)
        db.session.commit()
        assert flags(sheet) == (False, None)
        flow.apply_sheet_action(sheet, "submit", org.head3)
        db.session.commit()
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "10", "1.2": "13", "2": "20"})
    assert flags(sheet) == (False, Decimal(15))  # 2: self 35, cluster 20
    score = db.session.scalars(
        select(Score).where(Score.sheet_id == sheet.id, Score.value == Decimal(20))
    ).one()
    score.value = Decimal(34)
    db.session.commit()
    assert flags(sheet) == (False, Decimal(2))  # 1.2: self 15, cluster 13
    db.session.delete(db.session.get(Evidence, evidence.id))
    db.session.commit()
    assert flags(sheet) == (True, Decimal(2))


def test_a_sheet_due_weeks_ahead_is_flagged_as_soon_as_its_flags_hold(org, period, mailer):
    sheet = sheet_of(period, org.r3)
    with time_machine.travel(PERIOD_OPENED + timedelta(days=1), tick=False):
        flow.apply_sheet_action(sheet, "start", org.head3)
        put_scores(sheet, ScoreStage.SELF)
        evidence = flow.upload_evidence(sheet, None, "Báo cáo.pdf", PDF, org.head3)
        flow.apply_sheet_action(sheet, "submit", org.head3)
        db.session.commit()
    with time_machine.travel(FAR_AHEAD, tick=False):
        jobs.run_scan()
    assert decided(sheet) == []

    put_scores(sheet, ScoreStage.CLUSTER, {"2": "20"})
    with time_machine.travel(FAR_AHEAD + timedelta(hours=1), tick=False):
        jobs.run_scan()
    # KV1 leads the Cụm, so its head reviews KV3's sheet.
    assert decided(sheet) == [(ReminderKind.SCORE_GAP, org.head1.id)]

    db.session.delete(db.session.get(Evidence, evidence.id))
    db.session.commit()
    with time_machine.travel(FAR_AHEAD + timedelta(hours=2), tick=False):
        jobs.run_scan()
    assert decided(sheet) == [
        (ReminderKind.SCORE_GAP, org.head1.id),
        (ReminderKind.MISSING_EVIDENCE, org.head1.id),
    ]
    assert "Thiếu minh chứng" in text_of(mailer.to(org.head1)[-1])


# --- migration 0003 ---------------------------------------------------------------------------
def test_migration_0003_fills_the_columns_as_the_models_keep_them(fresh_database_url, tmp_path):
    fresh = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
            "SECRET_KEY": "x",
            "CELERY_BROKER_URL": "memory://",
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    with fresh.app_context():
        upgrade()
        moment = datetime.now(UTC)
        with db.engine.begin() as conn:
            data = bench_data.build(conn, now=moment)
            scan = bench_data.ScanSet()
            bench_data.add_due_items(conn, data, scan, now=moment)
            bench_data.add_candidates(conn, data, scan, 1_000, now=moment)
        response = db.session.scalars(select(UnitResponse).limit(1)).one()
        response.deadline_override = response.deadline + timedelta(days=3)
        extended = (response.id, response.deadline_override)
        db.session.commit()

        def snapshot() -> tuple[dict[int, datetime], dict[int, tuple[bool, Decimal | None]]]:
            db.session.expire_all()
            responses = {r.id: r.due_at for r in db.session.scalars(select(UnitResponse))}
            sheets = {
                s.id: (s.evidence_missing, s.score_gap)
                for s in db.session.scalars(select(ScoreSheet))
            }
            db.session.rollback()
            return responses, sheets

        def dependants() -> tuple[int, int]:
            # What a table rebuild on SQLite would cascade away with the old table.
            counts = (
                db.session.scalar(select(func.count()).select_from(Comment)),
                db.session.scalar(select(func.count()).select_from(Score)),
            )
            db.session.rollback()
            return counts

        kept, rows = snapshot(), dependants()
        assert min(rows) > 0
        assert kept[0][extended[0]] == extended[1]
        assert {missing for missing, _gap in kept[1].values()} == {True, False}
        assert any(gap for _missing, gap in kept[1].values())
        db.session.close()  # PostgreSQL: no open transaction may hold the tables
        downgrade(revision="0002")
        upgrade()
        filled = snapshot()
        assert dependants() == rows
        assert filled[0] == kept[0]
        assert {k: v for k, v in filled[1].items() if v != kept[1][k]} == {}
        db.session.remove()
        db.engine.dispose()
