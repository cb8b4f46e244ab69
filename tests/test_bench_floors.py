"""The benchmark's floors against their pages, on the bench data, on both databases.

A page's ratio is only meaningful if its floor shows the same text: every field the
floor marks as verbatim must be on the page. And the page must run as many statements
on the small data as on the large, whatever the size.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app import create_app
from bench import data as bench_data
from bench import measure
from bench.floors import create_floor_app, keys
from extensions import db


@pytest.fixture(scope="module")
def bench(pg_server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("bench")
    if pg_server is None:
        url = f"sqlite:///{work / 'bench.sqlite'}"
    else:
        url = pg_server.create_database("draftflow_bench_floors")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-floors",
            "CELERY_BROKER_URL": "memory://",
            "MAIL_SERVER": "",
            "MAIL_OUTBOX_DIR": str(work / "outbox"),
            "UPLOAD_DIR": str(work / "uploads"),
        }
    )
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            data = bench_data.build(conn, now=datetime.now(UTC))
    floor_app = create_floor_app(url)
    yield app, floor_app, data
    floor_app.extensions["floor_engine"].dispose()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("page", measure.PAGES, ids=lambda p: p.name)
def test_every_verbatim_field_of_the_floor_is_on_the_page(bench, page: measure.Page) -> None:
    app, floor_app, data = bench
    client = app.test_client()
    measure.login(client, page.user)
    page_html = measure._get(client, page.url(data, "large"))
    floor_html = measure._get(floor_app.test_client(), page.floor(data, "large"))
    fields = [k for k in keys(floor_html) if k.strip()]
    assert len(fields) >= 10
    missing = [k for k in fields if k not in page_html]
    assert not missing, missing[:5]


@pytest.mark.parametrize("page", measure.PAGES, ids=lambda p: p.name)
def test_statements_per_page_do_not_grow_with_the_data(bench, page: measure.Page) -> None:
    app, _floor_app, data = bench
    client = app.test_client()
    measure.login(client, page.user)
    counts = {}
    with app.app_context():
        engine = db.engine
    for size in ("small", "large"):
        measure._get(client, page.url(data, size))
        with measure.StatementCounter(engine) as counter:
            measure._get(client, page.url(data, size))
        counts[size] = counter.count
    assert counts["small"] == counts["large"] > 0


def test_the_tracker_floor_shows_the_round_and_every_invited_unit(bench) -> None:
    _app, floor_app, data = bench
    tracker = next(p for p in measure.PAGES if p.name == "tracker")
    html = measure._get(floor_app.test_client(), tracker.floor(data, "large"))
    assert html.count('<p class="unit">') == data.large.invited
    assert bench_data.LARGE_DRAFT.title in html
