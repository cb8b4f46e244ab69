"""Timing pages against their floors, counting SQL statements, and the one-shot timings
(import, report, reminder scan).

Pages go through the real application: `create_app()` and Flask's test client, logged
in once through the real login form (its CSRF token included), so sessions, Flask-Login,
permissions, templates and the ORM are all in the measured path.
"""

from __future__ import annotations

import gc
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from bench import data as bench_data
from bench.floors import keys


# --- counting statements ------------------------------------------------------------------
class StatementCounter:
    """Counts SQL statements on an engine while active (a before_cursor_execute listener)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


# --- timing -------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed_gets(
    client: FlaskClient, url: str, *, requests: int, warmup: int, budget_s: float = 25.0
) -> list[float]:
    """Milliseconds per GET after `warmup` untimed ones; every answer must be 200. Stops
    early once `budget_s` is spent (with at least 5 samples), so a slow page or a busy
    machine cannot push the whole bench past its time limit."""
    for _ in range(warmup):
        _get(client, url)
    gc.collect()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    for _ in range(requests):
        started = time.perf_counter()
        _get(client, url)
        times.append((time.perf_counter() - started) * 1000)
        if len(times) >= 5 and time.perf_counter() > deadline:
            break
    return times


def _get(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response.get_data(as_text=True)


def login(client: FlaskClient, username: str, password: str = bench_data.PASSWORD) -> None:
    """Sign in through the real form, CSRF token included; the client keeps the cookie."""
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": password}
    if found:
        form["csrf_token"] = found.group(1)
    response = client.post("/login", data=form)
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")


# --- pages --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    name: str
    user: str
    describe: str
    url: Callable[[bench_data.BenchData, str], str]  # (data, "large"|"small") -> path
    floor: Callable[[bench_data.BenchData, str], str]


def _draft(d: bench_data.BenchData, size: str) -> bench_data.DraftSet:
    return d.large if size == "large" else d.small


def _period(d: bench_data.BenchData, size: str) -> bench_data.PeriodSet:
    return d.large_period if size == "large" else d.small_period


PAGES: list[Page] = [
    Page(
        "draft",
        "soanthao",
        "drafter's view of the round: every clause with its comments",
        lambda d, s: f"/comments/rounds/{_draft(d, s).consultation_id}/comments",
        lambda d, s: f"/__floor/draft/{_draft(d, s).consultation_id}",
    ),
    Page(
        "tracker",
        "soanthao",
        "tracker of the invited units",
        lambda d, s: f"/comments/rounds/{_draft(d, s).consultation_id}/tracker",
        lambda d, s: f"/__floor/tracker/{_draft(d, s).consultation_id}",
    ),
    Page(
        "consolidation",
        "soanthao",
        "every comment with its answer",
        lambda d, s: f"/consolidation/{_draft(d, s).consultation_id}",
        lambda d, s: f"/__floor/consolidation/{_draft(d, s).consultation_id}",
    ),
    Page(
        "diff",
        "soanthao",
        "version 1 against version 3, with the comments behind each change",
        lambda d, s: (
            f"/consolidation/drafts/{_draft(d, s).draft_id}/diff"
            f"?old={_draft(d, s).version_ids[0]}&new={_draft(d, s).version_ids[-1]}"
        ),
        lambda d, s: f"/__floor/diff/{_draft(d, s).version_ids[0]}/{_draft(d, s).version_ids[-1]}",
    ),
    Page(
        "results",
        "thamdinh",
        "scoring results of the period (totals, rank, classification)",
        lambda d, s: f"/scoring/periods/{_period(d, s).period_id}/results",
        lambda d, s: f"/__floor/results/{_period(d, s).period_id}",
    ),
]


@dataclass
class PageResult:
    name: str
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    floor_p50_ms: float = 0.0
    statements_small: int = 0
    statements_large: int = 0
    floor_statements: int = 0
    page_bytes: int = 0
    checked_keys: int = 0
    samples: int = 0
    error: str = ""

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.floor_p50_ms if self.floor_p50_ms else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "floor_p50_ms": round(self.floor_p50_ms, 2),
            "ratio": round(self.ratio, 2),
            "statements_small": self.statements_small,
            "statements_large": self.statements_large,
        }


def check_same_content(floor_html: str, page_html: str, *, sample: int = 150) -> int:
    """Every sampled verbatim field of the floor must be in the page; returns how many
    were checked. The page escapes text as Jinja does, like the floor."""
    found = [k for k in keys(floor_html) if k.strip()]
    if not found:
        raise AssertionError("the floor shows nothing to compare")
    step = max(1, len(found) // sample)
    picked = found[::step]
    missing = [k for k in picked if k not in page_html]
    if missing:
        raise AssertionError(
            f"{len(missing)} of {len(picked)} floor fields are not on the page, e.g. {missing[0]!r}"
        )
    return len(picked)


def measure_page(
    page: Page,
    app: Flask,
    floor_app: Flask,
    data: bench_data.BenchData,
    *,
    requests: int,
    warmup: int,
) -> PageResult:
    from extensions import db

    result = PageResult(page.name)
    client = app.test_client()
    login(client, page.user)
    floor = floor_app.test_client()
    with app.app_context():
        engine = db.engine
    floor_engine = floor_app.extensions["floor_engine"]
    # Content first: the page and its floor must show the same things.
    page_html = _get(client, page.url(data, "large"))
    floor_html = _get(floor, page.floor(data, "large"))
    result.page_bytes = len(page_html.encode())
    result.checked_keys = check_same_content(floor_html, page_html)
    for size in ("small", "large"):
        _get(client, page.url(data, size))
        with StatementCounter(engine) as counter:
            _get(client, page.url(data, size))
        setattr(result, f"statements_{size}", counter.count)
    with StatementCounter(floor_engine) as counter:
        _get(floor, page.floor(data, "large"))
    result.floor_statements = counter.count
    times = timed_gets(client, page.url(data, "large"), requests=requests, warmup=warmup)
    floor_times = timed_gets(floor, page.floor(data, "large"), requests=requests, warmup=warmup)
    result.samples = len(times)
    result.p50_ms = statistics.median(times)
    result.p95_ms = percentile(times, 95)
    result.floor_p50_ms = statistics.median(floor_times)
    return result


# --- one-shot timings ---------------------------------------------------------------------
@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def time_import(app: Flask, *, runs: int = 3) -> dict[str, float]:
    """Parse a 300-article .docx and save it as a new version through the drafts
    operation (what the import page's confirmation does), on a fresh draft each run."""
    from sqlalchemy import select

    from accounts.models import User
    from drafts import operations
    from drafts.models import DraftKind
    from drafts.parsing import parse_regulation
    from extensions import db

    document = bench_data.regulation_docx(300)
    parse_times, total_times = [], []
    with app.test_request_context():
        drafter = db.session.scalar(select(User).where(User.username == "soanthao"))
        assert drafter is not None
        for run in range(runs):
            draft = operations.create_draft(
                title=f"Quy chế nhập từ tệp (lần đo {run + 1})",
                kind=DraftKind.REGULATION,
                drafting_unit=drafter.unit,
                actor=drafter,
            )
            db.session.commit()
            with stopwatch() as parse_box:
                parsed = parse_regulation(document)
            with stopwatch() as total_box:
                version = operations.import_version(
                    draft, actor=drafter, data=document, filename="quy-che-300-dieu.docx"
                )
                db.session.commit()
            parse_times.append(parse_box[0])
            total_times.append(total_box[0])
            articles = sum(1 for n in _walk(parsed.nodes) if n.kind == "article")
            if articles != 300 or len(version.clauses) < 2000:
                raise AssertionError(
                    f"import gave {articles} articles, {len(version.clauses)} clauses"
                )
    return {"parse_s": statistics.median(parse_times), "total_s": statistics.median(total_times)}


def time_response_import(app: Flask, *, runs: int = 3) -> dict[str, Any]:
    """Import a unit's marked-up copy of a 300-article draft (200 Word comments, 100 tracked
    changes): the preview (read in the upload sandbox, every item placed) and the
    confirmation (read again, 300 comments and the kept file saved), as the drafter
    importing for a unit does; a fresh round each run."""
    from datetime import timedelta

    from sqlalchemy import select

    from accounts.clock import now
    from accounts.models import Unit, User
    from comments.consultation import imports
    from comments.consultation import operations as comment_operations
    from comments.consultation.models import Visibility
    from drafts import exports
    from drafts import operations as draft_operations
    from drafts.models import DraftKind
    from extensions import db

    source = bench_data.regulation_docx(300)
    preview_times, confirm_times, total_times = [], [], []
    with app.test_request_context():
        drafter = db.session.scalar(select(User).where(User.username == "soanthao"))
        unit = db.session.scalar(
            select(Unit).where(Unit.active, Unit.id != drafter.unit_id).order_by(Unit.id)
        )
        assert drafter is not None and unit is not None
        for run in range(runs):
            draft = draft_operations.create_draft(
                title=f"Quy chế gửi lấy ý kiến (lần đo {run + 1})",
                kind=DraftKind.REGULATION,
                drafting_unit=drafter.unit,
                actor=drafter,
            )
            version = draft_operations.import_version(
                draft, actor=drafter, data=source, filename="quy-che.docx"
            )
            db.session.flush()
            draft_operations.publish_version(version, actor=drafter)
            consultation = comment_operations.open_consultation(
                draft,
                version,
                units=[unit],
                opens_at=now() - timedelta(hours=1),
                closes_at=now() + timedelta(days=7),
                visibility=Visibility.BLIND,
                letter_number=f"{run + 1}/VKS-VP",
                letter_text="",
                actor=drafter,
            )
            db.session.commit()
            marked = bench_data.marked_up_docx(exports.for_comment_docx(version).data)
            response = consultation.responses[0]
            with stopwatch() as total_box:
                with stopwatch() as preview_box:
                    preview = imports.preview_import(
                        response, data=marked, filename="gop-y.docx", actor=drafter
                    )
                with stopwatch() as confirm_box:
                    created = imports.confirm_import(
                        response, token=preview.token, choices={}, actor=drafter
                    )
                    db.session.commit()
            preview_times.append(preview_box[0])
            confirm_times.append(confirm_box[0])
            total_times.append(total_box[0])
            kinds = sorted({(i.kind, i.method) for i in preview.items})
            if len(created) != 300 or kinds != [("comment", "bookmark"), ("proposal", "bookmark")]:
                raise AssertionError(f"import gave {len(created)} comments, {kinds}")
    return {
        "preview_s": statistics.median(preview_times),
        "confirm_s": statistics.median(confirm_times),
        "total_s": statistics.median(total_times),
    }


def _walk(nodes: Any) -> Iterator[Any]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


def time_report(app: Flask, consultation_id: int, *, runs: int = 2) -> dict[str, float]:
    """The consolidation report (.docx) of the 3,000-comment round, through the export
    function the download route calls."""
    from comments.consolidation import exports
    from comments.consultation.models import Consultation
    from extensions import db

    times, size = [], 0
    with app.test_request_context():
        for _ in range(runs):
            db.session.expire_all()
            consultation = db.session.get(Consultation, consultation_id)
            with stopwatch() as box:
                download = exports.consolidation_docx(consultation)
            times.append(box[0])
            size = len(download.data)
    return {"report_s": statistics.median(times), "bytes": size}


@dataclass
class ScanTiming:
    candidates: int
    ms: float
    planned: int
    mails: int
    runs: list[float] = field(default_factory=list)


def time_scan(
    app: Flask, candidates: int, *, runs: int = 3, moment: datetime | None = None
) -> ScanTiming:
    """One reminder scan (decide + deliver, as the beat task does before sending), in a
    transaction rolled back after each run so every run decides the same things."""
    from extensions import db
    from tasks import scans

    moment = moment or datetime.now(UTC)
    times, planned, mails = [], 0, 0
    with app.app_context():
        for _ in range(runs):
            db.session.rollback()
            started = time.perf_counter()
            counts = scans.scan_due_reminders(moment)
            delivery = scans.deliver_due(moment)
            db.session.flush()
            times.append((time.perf_counter() - started) * 1000)
            planned, mails = sum(counts.values()), len(delivery.mail_ids)
            db.session.rollback()
    return ScanTiming(candidates, statistics.median(times), planned, mails, times)


def scan_moment() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)
