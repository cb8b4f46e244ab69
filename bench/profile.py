"""`python -m bench.profile PAGE`: where one page of the bench spends its time.

Builds the bench data in a throwaway SQLite file (or BENCH_DATABASE_URL), signs in as
the page's user, and runs the large page under cProfile. Prints the hottest functions
and the SQL statements of one request, then the page's and its floor's median.

    python -m bench.profile results            # cumulative time, top 40
    python -m bench.profile draft --sort tottime --top 60
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
from datetime import UTC, datetime

from bench import data as bench_data
from bench import measure
from bench.__main__ import WORK, app_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("page", choices=[p.name for p in measure.PAGES])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--size", default="large", choices=["small", "large"])
    parser.add_argument("--sql", action="store_true", help="print every SQL statement")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    import os

    from app import create_app
    from bench.floors import create_floor_app
    from extensions import db

    WORK.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{WORK / 'profile.sqlite'}"
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            (WORK / f"profile.sqlite{suffix}").unlink(missing_ok=True)
    app = create_app(app_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        with db.engine.begin() as conn:
            data = bench_data.build(conn, now=datetime.now(UTC))
        engine = db.engine
    page = next(p for p in measure.PAGES if p.name == args.page)
    client = app.test_client()
    measure.login(client, page.user)
    path = page.url(data, args.size)
    for _ in range(3):
        measure._get(client, path)
    with measure.StatementCounter(engine) as counter:
        measure._get(client, path)
    print(f"{page.name}: {path} — {counter.count} SQL statements")
    if args.sql:
        for statement in counter.statements:
            print("  ", " ".join(statement.split())[:300])

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.runs):
        measure._get(client, path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())

    floor = create_floor_app(url).test_client()
    times = measure.timed_gets(client, path, requests=15, warmup=2)
    floor_times = measure.timed_gets(floor, page.floor(data, args.size), requests=15, warmup=2)
    p50, f50 = statistics.median(times), statistics.median(floor_times)
    print(f"page p50 {p50:.1f} ms, floor p50 {f50:.1f} ms, ratio {p50 / f50:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
