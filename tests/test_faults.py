"""Faults: the web server killed with SIGKILL mid-burst, Redis stopped and restarted,
the database locked by another connection.

Real processes (gunicorn, redis-server, Celery), real HTTP on loopback, the test's
database (SQLite file or PostgreSQL). Every process is stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from accounts import operations as account_ops
from accounts.models import Scope, User
from app import create_app, db
from bench.load import Burst, Gunicorn, post_burst
from comments.models import Comment, Consultation, ResponseStatus, UnitResponse
from tasks.models import MailStatus, OutgoingMail, Reminder, ReminderStatus
from tests.fixtures.tasks import Processes, SmtpHandler, celery_bin, wait_for
from tests.pgserver import free_port

pytestmark = pytest.mark.integration

BUSY_MESSAGE = "Hệ thống đang bận, vui lòng thử lại sau giây lát."


def token_for(user: User) -> str:
    _row, secret = account_ops.create_api_token(
        user, name="thử lỗi", scopes=list(Scope), expires_at=None, actor=None
    )
    db.session.commit()
    return secret


def server_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "faults-secret-key-not-for-production",
        "CELERY_BROKER_URL": "memory://",
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    env.update(extra)
    return env


def stored_comments(ids: list[int]) -> dict[int, str]:
    db.session.rollback()  # a fresh snapshot: other processes wrote these
    rows = db.session.execute(select(Comment.id, Comment.text).where(Comment.id.in_(ids)))
    return {row.id: row.text for row in rows}


# --- kill -9 during a burst ---------------------------------------------------------------
def test_kill_9_during_a_burst_loses_no_acknowledged_comment(
    org, blind_round, api, database_url, tmp_path
):
    consultation: Consultation = blind_round
    tokens = [token_for(u) for u in (org.staff1, org.staff2, org.staff3)]
    url = f"/api/v1/consultations/{consultation.id}/comments"

    def make(client: int, n: int) -> tuple[dict[str, Any], dict[str, str]]:
        text = f"Ý kiến số {n} của luồng {client}: đề nghị rút ngắn thời hạn báo cáo."
        return {"text": text}, {"Authorization": f"Bearer {tokens[client % 3]}"}

    server = Gunicorn(
        "app:create_app()", server_env(database_url, tmp_path), log=tmp_path / "g.log"
    )
    server.start()
    burst, stop = Burst(), threading.Event()
    sender = threading.Thread(
        target=post_burst,
        args=(server.url + url, make),
        kwargs={"clients": 6, "seconds": 30, "stop": stop, "burst": burst},
    )
    try:
        sender.start()
        wait_for(lambda: burst.ok >= 40, timeout=30, what="40 acknowledged comments")
        killed = server.kill9()
        time.sleep(0.3)  # the clients keep posting into a dead server for a moment
    finally:
        stop.set()
        sender.join(timeout=30)
        server.stop()
    assert all(not _alive(pid) for pid in killed)

    with burst.lock:
        acknowledged = {body["id"]: body["text"] for body in burst.acknowledged}
    assert len(acknowledged) >= 40
    assert burst.errors, "the kill must have interrupted the burst"
    assert stored_comments(list(acknowledged)) == acknowledged

    # Nothing was left locked or half-written: the database takes comments again.
    after = api(org.staff1).post(url, json={"text": "Sau sự cố: đề nghị giữ nguyên."})
    assert after.status_code == 201


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


# --- Redis stopped, then back -------------------------------------------------------------
class Redis:
    """redis-server on a fixed loopback port, stopped and restarted by PID."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.port = free_port()
        self.proc: Any = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = self.processes.start(
            "redis",
            ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            dict(os.environ),
        )  # fmt: skip

        def answers() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=15, what="redis-server")

    def stop(self) -> None:
        self.processes.kill(self.proc, signal.SIGTERM)


@pytest.fixture
def redis_app(
    app: Flask, database_url: str, processes: Processes, tmp_path: Path
) -> Iterator[tuple[Flask, Redis]]:
    """A second app on the test database whose Celery broker is a real Redis."""
    server = Redis(processes)
    server.start()
    application = create_app(
        {
            **{
                k: app.config[k]
                for k in ("TESTING", "SECRET_KEY", "WTF_CSRF_ENABLED", "PUBLIC_URL")
            },
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CELERY_BROKER_URL": server.url,
            "CELERY_TASK_ALWAYS_EAGER": False,
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    application.test_client_class = app.test_client_class
    yield application, server
    with application.app_context():
        db.engine.dispose()


def test_redis_down_keeps_the_web_working_and_reminders_catch_up(
    org, open_round, redis_app, smtp_server, processes, database_url, tmp_path
):
    application, redis_server = redis_app
    handler: SmtpHandler = smtp_server[0]
    drafter_token = token_for(org.drafter)
    staff_token = token_for(org.staff1)
    head3_token = token_for(org.head3)
    consultation = open_round(days=10)  # opened while Redis was up; nothing due yet
    client = application.test_client()
    drafter = {"Authorization": f"Bearer {drafter_token}"}

    assert (
        client.get(f"/api/v1/consultations/{consultation.id}", headers=drafter).status_code == 200
    )
    already = db.session.scalar(select(func.max(OutgoingMail.id))) or 0  # sent by the eager app
    redis_server.stop()

    # Pages and the comment API still answer.
    web = application.test_client()
    assert (
        web.post(
            "/login", data={"username": "drafter", "password": "mat-khau-thu-nghiem"}
        ).status_code
        == 302
    )
    assert web.get(f"/comments/rounds/{consultation.id}/tracker").status_code == 200
    created = client.post(
        f"/api/v1/consultations/{consultation.id}/comments",
        json={"text": "Đề nghị bổ sung thời hạn gửi báo cáo."},
        headers={"Authorization": f"Bearer {staff_token}"},
    )
    assert created.status_code == 201
    # Actions that queue mail (the drafters hear about a submitted position; a new round
    # tells the invited units) commit and answer quickly; the mails wait in the database.
    response3 = next(r for r in consultation.responses if r.unit_id == org.r3.id)
    started = time.monotonic()
    submitted = client.post(
        f"/api/v1/consultations/{consultation.id}/responses/{response3.id}/submit",
        json={"agrees": True},
        headers={"Authorization": f"Bearer {head3_token}"},
    )
    assert submitted.status_code in (200, 201), submitted.get_data(as_text=True)
    second = _open_round_via_api(client, org, drafter, days=3)
    assert second.status_code == 201, second.get_data(as_text=True)
    assert time.monotonic() - started < 10
    db.session.rollback()
    waiting = db.session.scalars(select(OutgoingMail).where(OutgoingMail.id > already)).all()
    assert waiting and {m.status for m in waiting} == {MailStatus.QUEUED}

    # Redis is back: a worker and beat start, the scan decides what fell due (the new
    # round closes in 3 days: its T−3 reminder) and every queued mail goes out.
    redis_server.start()
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server[1]), MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        PUBLIC_URL="http://draftflow.test", REMINDER_SCAN_SECONDS="1",
        MAIL_RETRY_SWEEP_SECONDS="0.5", MAIL_RETRY_BASE_SECONDS="0.5",
    )  # fmt: skip
    processes.start("worker", [celery_bin(), "-A", "tasks", "worker", "--pool=solo",
                               "--loglevel=INFO", "--without-gossip", "--without-mingle",
                               "--without-heartbeat"], env)  # fmt: skip
    processes.start("beat", [celery_bin(), "-A", "tasks", "beat", "--loglevel=INFO",
                             "--schedule", str(tmp_path / "beat-schedule")], env)  # fmt: skip

    def all_sent() -> bool:
        db.session.rollback()
        reminders = db.session.scalars(select(Reminder)).all()
        mails = db.session.scalars(select(OutgoingMail).where(OutgoingMail.id > already)).all()
        return (
            bool(reminders)
            and all(m.status == MailStatus.SENT for m in mails)
            and all(r.status == ReminderStatus.SENT for r in reminders)
        )

    wait_for(
        all_sent, timeout=45, what="the queued mails and the due reminders", details=processes.logs
    )
    mails = db.session.scalars(select(OutgoingMail).where(OutgoingMail.id > already)).all()
    assert sorted(str(m["Message-ID"]) for m in handler.snapshot()) == sorted(
        m.message_id for m in mails
    )
    # Every member of the three units invited to the 3-day round got its T−3 reminder.
    round_id = second.get_json()["id"]
    responses = db.session.scalars(
        select(UnitResponse.id).where(UnitResponse.consultation_id == round_id)
    ).all()
    reminded = db.session.scalars(
        select(Reminder.user_id).where(
            Reminder.subject_id.in_(responses), Reminder.offset_days == 3
        )
    ).all()
    members = {u.id for u in (org.head1, org.staff1, org.head2, org.staff2, org.head3, org.staff3)}
    assert sorted(reminded) == sorted(members)


def _open_round_via_api(client: Any, org: Any, headers: dict[str, str], *, days: int) -> Any:
    """A new draft, published, sent out for comments through the API; it closes at the
    end of the local day `days` days from today (its T−`days` reminder is due now)."""
    from datetime import timedelta

    from accounts.clock import end_of_local_day, local_today, now
    from drafts import operations as draft_ops
    from drafts.models import DraftKind

    draft = draft_ops.create_draft(
        title="Quy định về chế độ báo cáo", kind=DraftKind.REGULATION, drafting_unit=org.office,
        actor=org.drafter,
    )  # fmt: skip
    version = draft_ops.create_version(draft, actor=org.drafter, nodes=_NODES)
    db.session.flush()
    draft_ops.publish_version(version, actor=org.drafter)
    db.session.commit()
    return client.post(
        "/api/v1/consultations",
        json={
            "draft_id": draft.id,
            "version_id": version.id,
            "unit_ids": [org.r1.id, org.r2.id, org.r3.id],
            "opens_at": (now() - timedelta(minutes=5)).isoformat(),
            "closes_at": end_of_local_day(local_today() + timedelta(days=days)).isoformat(),
            "visibility": "blind",
            "letter_number": "130/VKS-VP",
            "letter_text": "Đề nghị các đơn vị góp ý.",
        },
        headers=headers,
    )


_NODES = [
    {"kind": "article", "number": "1", "title": "Phạm vi", "text": "Quy định chế độ báo cáo.",
     "children": []},
]  # fmt: skip


# --- the database locked or busy ----------------------------------------------------------
@pytest.fixture
def short_lock_wait(app: Flask) -> Iterator[None]:
    """The app gives up waiting for a lock after 300 ms (instead of SQLite's 10 s busy
    timeout, or PostgreSQL's forever), set on every connection the pool hands out."""

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        if db.engine.dialect.name == "postgresql":
            cursor.execute("SET lock_timeout = '300ms'")
        else:
            cursor.execute("PRAGMA busy_timeout = 300")
        cursor.close()

    engine = db.engine
    engine.dispose()
    event.listen(engine, "checkout", on_checkout)
    try:
        yield
    finally:
        event.remove(engine, "checkout", on_checkout)
        engine.dispose()  # pooled connections would keep the short wait


class TableLock:
    """Another connection holding the comments table: SQLite's write lock (BEGIN
    EXCLUSIVE) or PostgreSQL's ACCESS EXCLUSIVE lock on `comments`."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.conn: Any = None

    def __enter__(self) -> TableLock:
        if self.url.startswith("sqlite"):
            import sqlite3

            self.conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            import psycopg

            dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
            self.conn = psycopg.connect(dsn)
            self.conn.execute("LOCK TABLE comments IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback() if not self.url.startswith("sqlite") else self.conn.execute("ROLLBACK")
        self.conn.close()


def test_locked_database_answers_503_with_a_vietnamese_message_never_500(
    org, blind_round, auth, api, short_lock_wait, database_url
):
    consultation: Consultation = blind_round
    staff_api = api(org.staff1)
    auth.login(org.staff1)
    client = auth.client
    comments_url = f"/api/v1/consultations/{consultation.id}/comments"

    with TableLock(database_url):
        refused = staff_api.post(comments_url, json={"text": "Đề nghị sửa khoản 1."})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"]
        assert refused.get_json() == {"error": {"code": "unavailable", "message": BUSY_MESSAGE}}

        form = client.post(
            f"/comments/rounds/{consultation.id}/comment", data={"text": "Đề nghị sửa khoản 2."}
        )
        assert form.status_code == 503
        assert form.headers["Retry-After"]
        assert BUSY_MESSAGE in form.get_data(as_text=True)
        assert form.mimetype == "text/html"

        # Reading goes on where the database allows it (SQLite's WAL readers); where it
        # does not (PostgreSQL's ACCESS EXCLUSIVE), the page says so: never a 500.
        page = client.get(f"/comments/rounds/{consultation.id}/unit")
        assert page.status_code in (200, 503)
        if page.status_code == 503:
            assert BUSY_MESSAGE in page.get_data(as_text=True)

    # Released: the same request goes through, and the refused ones left nothing behind.
    accepted = staff_api.post(comments_url, json={"text": "Đề nghị sửa khoản 1."})
    assert accepted.status_code == 201
    db.session.rollback()
    texts = db.session.scalars(
        select(Comment.text).where(Comment.consultation_id == consultation.id)
    ).all()
    assert texts == ["Đề nghị sửa khoản 1."]
    response = db.session.scalar(
        select(UnitResponse).where(
            UnitResponse.consultation_id == consultation.id, UnitResponse.unit_id == org.r1.id
        )
    )
    assert response is not None and response.status == ResponseStatus.DRAFTING
