"""Reminders end to end: a real Redis, real Celery workers and beats (subprocesses),
a real SMTP server, and the test database (SQLite file or PostgreSQL).

A consultation closes in 3 days; KV1 and KV2 have not answered, KV3 has. Exactly one
mail must reach each member of KV1 and KV2, none KV3, whatever the number of scans,
beats or workers, and whatever the SMTP server or the worker does.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from extensions import db
from notices.models import MailStatus, OutgoingMail
from tasks import jobs
from tasks.models import Reminder, ReminderStatus, ScanRun
from tests.fixtures.comments import submit_as
from tests.fixtures.tasks import Processes, SmtpHandler, celery_bin, wait_for

pytestmark = pytest.mark.integration

TIMEOUT = 40


@pytest.fixture
def waiting_round(org, open_round):  # type: ignore[no-untyped-def]
    """A round closing in 3 days; KV3 has answered, KV1 and KV2 have not."""
    consultation = open_round(days=3)
    submit_as(org.head3, consultation, agrees=True)
    return consultation


def expected_recipients(org) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(u.email for u in (org.head1, org.staff1, org.head2, org.staff2))


def recipients(messages) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in messages)


class Cluster:
    """Workers and beats for one test, configured through the environment."""

    def __init__(
        self,
        processes: Processes,
        database_url: str,
        redis_url: str,
        smtp_port: int,
        tmp_path: Path,
        **settings: str,
    ) -> None:
        self.processes = processes
        self.tmp_path = tmp_path
        env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(smtp_port),
            MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
            PUBLIC_URL="http://draftflow.test",
            REMINDER_SCAN_SECONDS="1",
            MAIL_RETRY_SWEEP_SECONDS="0.5",
            MAIL_RETRY_BASE_SECONDS="0.5",
            MAIL_SEND_LEASE_SECONDS="4",
            MAIL_TIMEOUT="3",
        )
        env.update(settings)
        self.env = env
        self.count = 0

    def worker(self):  # type: ignore[no-untyped-def]
        self.count += 1
        return self.processes.start(
            f"worker{self.count}",
            [
                celery_bin(),
                "-A",
                "tasks",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                f"w{self.count}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.env,
        )

    def beat(self):  # type: ignore[no-untyped-def]
        self.count += 1
        return self.processes.start(
            f"beat{self.count}",
            [
                celery_bin(),
                "-A",
                "tasks",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(self.tmp_path / f"beat{self.count}-schedule"),
            ],
            self.env,
        )


@pytest.fixture
def cluster(processes, database_url, redis_url, smtp_server, tmp_path):  # type: ignore[no-untyped-def]
    def factory(**settings: str) -> Cluster:
        return Cluster(processes, database_url, redis_url, smtp_server[1], tmp_path, **settings)

    return factory


def finished_runs() -> int:
    db.session.rollback()  # a fresh snapshot: the workers write from other processes
    return (
        db.session.scalar(select(func.count(ScanRun.id)).where(ScanRun.finished_at.is_not(None)))
        or 0
    )


def digest_mails() -> list[OutgoingMail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.kind == "digest")))


def test_one_mail_per_missing_member_with_two_workers_and_two_beats(
    org, waiting_round, cluster, smtp_server, processes
):
    handler: SmtpHandler = smtp_server[0]
    setup = cluster()
    for _ in range(2):
        setup.worker()
        setup.beat()
    wait_for(
        lambda: len(handler.snapshot()) >= 4,
        timeout=TIMEOUT,
        what="the first mails",
        details=processes.logs,
    )
    # Let both beats fire several more scans; none may decide or send anything again.
    runs = finished_runs()
    wait_for(
        lambda: finished_runs() >= runs + 6,
        timeout=TIMEOUT,
        what="more scans",
        details=processes.logs,
    )
    again = jobs.run_scan()  # and a scan from here, at the same time
    assert again["planned"] == 0 and again["mails"] == 0

    messages = handler.snapshot()
    assert recipients(messages) == expected_recipients(org)
    assert len({m["Message-ID"] for m in messages}) == 4
    assert "còn 3 ngày" in messages[0].get_body(preferencelist=("plain",)).get_content()
    db.session.rollback()
    rows = db.session.scalars(select(Reminder)).all()
    assert len(rows) == 4 and {r.status for r in rows} == {ReminderStatus.SENT}


def test_smtp_refusing_twice_delays_the_mail_but_delivers_it_once(
    org, waiting_round, cluster, smtp_server, processes
):
    handler: SmtpHandler = smtp_server[0]
    handler.refuse = 2
    setup = cluster()
    setup.worker()
    setup.beat()
    wait_for(
        lambda: len(digest_mails()) == 4
        and all(m.status == MailStatus.SENT for m in digest_mails()),
        timeout=TIMEOUT,
        what="all mails sent",
        details=processes.logs,
    )
    assert handler.refused == 2
    assert recipients(handler.snapshot()) == expected_recipients(org)
    attempts = sorted(m.attempts for m in digest_mails())
    assert sum(attempts) == 6 and attempts[-1] >= 2
    retried = db.session.scalars(select(Reminder).where(Reminder.attempts > 1)).all()
    assert retried and all(r.status == ReminderStatus.SENT for r in retried)


def test_smtp_down_past_the_retry_budget_marks_reminders_failed_visibly(
    org, waiting_round, cluster, smtp_server, processes, client, auth
):
    handler: SmtpHandler = smtp_server[0]
    handler.always_refuse = True
    setup = cluster(MAIL_MAX_ATTEMPTS="3")
    setup.worker()
    setup.beat()
    wait_for(
        lambda: len(digest_mails()) == 4
        and all(m.status == MailStatus.FAILED for m in digest_mails()),
        timeout=TIMEOUT,
        what="all mails given up",
        details=processes.logs,
    )
    assert handler.snapshot() == []
    rows = db.session.scalars(select(Reminder)).all()
    assert {(r.status, r.attempts) for r in rows} == {(ReminderStatus.FAILED, 3)}
    assert all("421" in r.last_error for r in rows)
    auth.login(org.admin)
    page = client.get("/admin/reminders?status=failed").get_data(as_text=True)
    assert page.count("Gửi thất bại") >= 4 and org.staff2.full_name in page


def test_a_worker_killed_mid_send_loses_nothing_and_decides_nothing_twice(
    org, waiting_round, cluster, smtp_server, processes
):
    handler: SmtpHandler = smtp_server[0]
    handler.hold = True  # the server takes the first mail, then hangs before "250 OK"
    setup = cluster()
    first = setup.worker()
    setup.beat()
    wait_for(
        handler.holding.is_set,
        timeout=TIMEOUT,
        what="the first mail to reach the server",
        details=processes.logs,
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    handler.release.set()
    setup.worker()
    wait_for(
        lambda: len(digest_mails()) == 4
        and all(m.status == MailStatus.SENT for m in digest_mails()),
        timeout=TIMEOUT,
        what="every mail sent after the restart",
        details=processes.logs,
    )
    messages = handler.snapshot()
    per_person = Counter(recipients({m["Message-ID"]: m for m in messages}.values()))
    # Each person: one mail (one Message-ID). The mail the server had taken when the
    # worker died was sent again after its lease expired, with the same Message-ID.
    assert sorted(per_person) == expected_recipients(org) and set(per_person.values()) == {1}
    assert len(messages) == 5
    rows = db.session.scalars(select(Reminder)).all()
    assert len(rows) == 4 and {r.status for r in rows} == {ReminderStatus.SENT}
