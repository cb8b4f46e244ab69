"""`python -m bench`: build the workload, measure, print a table, write bench/results.json.

    python -m bench               # SQLite in bench/work/ (or BENCH_DATABASE_URL)
    python -m bench --postgres    # a throwaway PostgreSQL server (Debian's binaries)
    python -m bench --load        # also the 50-user load run (locust, 60 s)

The database named by BENCH_DATABASE_URL is emptied first: give it a database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import data as bench_data
from bench import load, measure

HERE = Path(__file__).resolve().parent
# BENCH_WORK lets two runs on one machine keep their files apart.
WORK = Path(os.environ.get("BENCH_WORK") or HERE / "work")
RESULTS = HERE / "results.json"

TARGETS = {
    "page_ratio": 3.0,
    "scan_growth": 1.5,
    "submit_ratio": 0.40,
    "report_s": 5.0,
    "import_s": 2.0,
    "response_import_s": 3.0,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    parser.add_argument("--load", action="store_true", help="also run the 50-user load test")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page first")
    parser.add_argument("--submit-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8, help="concurrent submitting clients")
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--load-users", type=int, default=50)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts: pages,import,unit-import,report,scan,submit",
    )
    return parser.parse_args(argv)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The bench database URL: BENCH_DATABASE_URL, a throwaway PostgreSQL, or SQLite."""
    if os.environ.get("BENCH_DATABASE_URL"):
        yield os.environ["BENCH_DATABASE_URL"]
        return
    if args.postgres:
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            yield server.create_database("draftflow_bench")
        finally:
            server.stop()
        return
    path = WORK / "bench.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    yield f"sqlite:///{path}"


def app_config(url: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": load.SECRET,
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": False,
        "MAIL_SERVER": "",
        "MAIL_OUTBOX_DIR": str(WORK / "outbox"),
        "UPLOAD_DIR": str(WORK / "uploads"),
    }


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK / "uploads", ignore_errors=True)
    parts = set(filter(None, args.only.split(","))) or {
        "pages",
        "import",
        "unit-import",
        "report",
        "scan",
        "submit",
    }
    started = time.perf_counter()
    with database(args) as url:
        report = run(url, args, parts)
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(report["results"], indent=2, ensure_ascii=False) + "\n")
    print_table(report)
    log(f"\nbench/results.json written; {report['seconds']} s in all.")
    return 0


def run(url: str, args: argparse.Namespace, parts: set[str]) -> dict[str, Any]:
    from app import create_app
    from bench.floors import create_floor_app
    from extensions import db

    app = create_app(app_config(url))
    with app.app_context():
        kind = db.engine.dialect.name
        db.drop_all()
        db.create_all()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            data = bench_data.build(conn, now=now)
    log(
        f"[{kind}] data: {data.large.comments:,} comments on a {data.large.clauses:,}-clause draft"
        f" ({len(data.large.version_ids)} versions), {data.large_period.criteria} criteria × "
        f"{len(data.large_period.sheet_ids)} units, built in {data.seconds:.1f} s"
    )
    floor_app = create_floor_app(url)
    results: dict[str, Any] = {"database": "postgresql" if kind == "postgresql" else "sqlite"}
    extra: dict[str, Any] = {"data": data}

    pages: dict[str, measure.PageResult] = {}
    if "pages" in parts:
        for page in measure.PAGES:
            log(f"page {page.name}: {page.describe}")
            try:
                pages[page.name] = measure.measure_page(
                    page, app, floor_app, data, requests=args.requests, warmup=args.warmup
                )
            except Exception as exc:  # one missing page must not hide the others' figures
                pages[page.name] = measure.PageResult(
                    page.name, error=f"{type(exc).__name__}: {exc}"
                )
                log(f"  FAILED: {pages[page.name].error}")
    results["pages"] = {name: r.as_json() for name, r in pages.items()}
    extra["pages"] = pages

    if "import" in parts:
        log("import: 300-article .docx")
        extra["import"] = _guard(lambda: measure.time_import(app))
        results["import_docx_300_articles_s"] = _round(extra["import"], "total_s", 3)
    if "unit-import" in parts:
        log("unit import: a unit's 300-article .docx with 200 Word comments, 100 tracked changes")
        extra["unit_import"] = _guard(lambda: measure.time_response_import(app))
        results["unit_import_300_articles_s"] = _round(extra["unit_import"], "total_s", 3)
    if "report" in parts:
        log("report: consolidation .docx of the 3,000-comment round")
        extra["report"] = _guard(lambda: measure.time_report(app, data.large.consultation_id))
        results["report_docx_3000_comments_s"] = _round(extra["report"], "report_s", 3)
    if "scan" in parts:
        log("reminder scan: 10k then 100k candidates")
        extra["scan"] = _guard(lambda: time_scans(app, data))
        scan = extra["scan"]
        results["reminder_scan"] = (
            {"ms_10k": round(scan["10k"].ms, 1), "ms_100k": round(scan["100k"].ms, 1)}
            if "error" not in scan
            else {"ms_10k": None, "ms_100k": None}
        )
    if "submit" in parts:
        log(
            f"comment submission: gunicorn, 2 workers, {args.clients} clients,"
            f" {args.submit_seconds:g} s"
        )
        extra["submit"] = _guard(
            lambda: load.measure_submit(
                url, data, WORK, seconds=args.submit_seconds, clients=args.clients
            )
        )
        sub = extra["submit"]
        results["comment_submit"] = {"rps": None, "bare_insert_rps": None, "ratio": None}
        if "error" not in sub:
            results["comment_submit"] = {
                "rps": round(sub["rps"], 1),
                "bare_insert_rps": round(sub["bare_rps"], 1),
                "ratio": round(sub["rps"] / sub["bare_rps"], 3) if sub["bare_rps"] else 0.0,
            }
    if args.load:
        log(f"load: {args.load_users} users for {args.load_seconds} s (locust, headless)")
        extra["load"] = _guard(
            lambda: load.load_run(url, data, WORK, users=args.load_users, seconds=args.load_seconds)
        )
    return {"results": results, "extra": extra, "kind": kind}


def _guard(fn: Any) -> dict[str, Any]:
    try:
        return fn()
    except Exception as exc:  # report and carry on with the other measurements
        log(f"  FAILED: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def _round(values: dict[str, Any], key: str, digits: int) -> float | None:
    return round(values[key], digits) if key in values else None


def time_scans(app: Any, data: bench_data.BenchData) -> dict[str, Any]:
    from extensions import db

    moment = measure.scan_moment()
    scan = bench_data.ScanSet()
    with app.app_context():
        with db.engine.begin() as conn:
            bench_data.add_due_items(conn, data, scan, now=moment)
            bench_data.add_candidates(conn, data, scan, 10_000, now=moment)
        small = measure.time_scan(app, scan.pairs, moment=moment)
        with db.engine.begin() as conn:
            bench_data.add_candidates(conn, data, scan, 90_000, now=moment)
        large = measure.time_scan(app, scan.pairs, moment=moment)
    return {"10k": small, "100k": large, "set": scan}


# --- the table ----------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "holds" if ok else "MISSED"


def page_lines(pages: dict[str, measure.PageResult]) -> list[str]:
    header = (
        f"{'page':<14}{'p50 ms':>9}{'p95 ms':>9}{'floor p50':>11}{'ratio':>7}"
        f"{'SQL small/large':>17}{'n':>4}  target: ≤3× floor, same SQL"
    )
    lines = [header, "-" * len(header)]
    for name, page in pages.items():
        if page.error:
            lines.append(f"{name:<14}  not measured: {page.error}")
            continue
        small, large = page.statements_small, page.statements_large
        ok = page.ratio <= TARGETS["page_ratio"] and small == large
        lines.append(
            f"{name:<14}{page.p50_ms:>9.1f}{page.p95_ms:>9.1f}{page.floor_p50_ms:>11.1f}"
            f"{page.ratio:>7.2f}{small:>9}/{large:<7}{page.samples:>4}  {verdict(ok)}"
        )
    return lines


def import_line(imp: dict[str, Any]) -> str:
    ok = imp["total_s"] < TARGETS["import_s"]
    return (
        f"import 300 articles (.docx → saved version): {imp['total_s']:.2f} s "
        f"(parsing {imp['parse_s']:.2f} s); target < 2 s: {verdict(ok)}"
    )


def unit_import_line(imp: dict[str, Any]) -> str:
    ok = imp["total_s"] < TARGETS["response_import_s"]
    return (
        f"unit's marked-up 300 articles, 200 comments + 100 changes (preview + confirm): "
        f"{imp['total_s']:.2f} s (preview {imp['preview_s']:.2f} s, confirm "
        f"{imp['confirm_s']:.2f} s); target < 3 s: {verdict(ok)}"
    )


def report_line(rep: dict[str, Any]) -> str:
    ok = rep["report_s"] < TARGETS["report_s"]
    return (
        f"report .docx, 3,000 comments: {rep['report_s']:.2f} s ({rep['bytes'] // 1024} KB); "
        f"target < 5 s: {verdict(ok)}"
    )


def scan_line(scan: dict[str, Any]) -> str:
    small, large = scan["10k"], scan["100k"]
    growth = large.ms / small.ms if small.ms else 0.0
    return (
        f"reminder scan: {small.candidates:,} candidates {small.ms:.0f} ms, "
        f"{large.candidates:,} candidates {large.ms:.0f} ms (×{growth:.2f}; decided "
        f"{small.planned}/{large.planned}, mails {small.mails}/{large.mails}); "
        f"target ≤ 1.5×: {verdict(growth <= TARGETS['scan_growth'])}"
    )


def submit_line(sub: dict[str, Any]) -> str:
    ratio = sub["rps"] / sub["bare_rps"] if sub["bare_rps"] else 0.0
    return (
        f"comment submission: {sub['rps']:.1f}/s through the API, bare insert "
        f"{sub['bare_rps']:.0f}/s (×{ratio:.3f}; API p95 {sub['p95_ms']:.0f} ms, "
        f"answers {sub['statuses']}); target ≥ 0.40: {verdict(ratio >= TARGETS['submit_ratio'])}"
    )


def load_lines(run_: dict[str, Any]) -> list[str]:
    head = (
        f"load run: {run_['users']} users, {run_['seconds']} s: {run_['requests']:,} requests, "
        f"{run_['failures']} errors, p95 {run_['p95_ms']:.0f} ms; "
        f"target 0 errors: {verdict(run_['failures'] == 0)}"
    )
    return [head, *(f"    {row}" for row in run_.get("rows", []))]


def print_table(report: dict[str, Any]) -> None:
    results, extra = report["results"], report["extra"]
    log(f"\nDraftflow bench on {results['database']}")
    for line in page_lines(extra.get("pages", {})):
        log(line)
    log("")
    for key, name, render in (
        ("import", "import", import_line),
        ("unit_import", "unit import", unit_import_line),
        ("report", "report", report_line),
        ("scan", "reminder scan", scan_line),
        ("submit", "comment submission", submit_line),
    ):
        part = extra.get(key)
        if part:
            log(f"{name}: not measured ({part['error']})" if "error" in part else render(part))
    if extra.get("load"):
        part = extra["load"]
        lines = [f"load run: failed ({part['error']})"] if "error" in part else load_lines(part)
        for line in lines:
            log(line)


if __name__ == "__main__":
    sys.exit(main())
