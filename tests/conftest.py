"""Test setup: one app per test worker, a clean database per test, factories as fixtures.

The same suite runs on SQLite (default) and PostgreSQL (`pytest --db=postgresql`,
which starts a throwaway server). Time is frozen or moved with time-machine; no
test sleeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import Table, text

from app import create_app
from extensions import db, limiter

# Property tests: "ci" (the default) is derandomized, so `make test` runs the same examples
# every time and stays quick; HYPOTHESIS_PROFILE=long runs many more, from a random seed
# (printed on failure with the example, to replay it).
settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=50)
settings.register_profile("long", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytest_plugins = [
    "tests.fixtures.accounts",
    "tests.fixtures.drafts",
    "tests.fixtures.browser",
    "tests.fixtures.comments",
    "tests.fixtures.workflow",
    "tests.fixtures.consolidation",
    "tests.fixtures.conference",
    "tests.fixtures.tasks",
    "tests.fixtures.world",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("DRAFTFLOW_TEST_DB", "sqlite"),
        choices=["sqlite", "postgresql"],
        help="database to run the suite on",
    )
    parser.addoption(
        "--db-bound-only",
        action="store_true",
        default=False,
        help="run only the tests whose outcome can depend on --db (make test's second pass: "
        "the first pass has already run the others)",
    )


# A test can only see which database it runs on through one of these fixtures (`app`,
# `client`, `live_server`, ... all depend on pg_server through database_url), or through the
# `db` marker that gives it the app. Every other test runs the same on either database.
_DB_FIXTURES = {"pg_server", "db_kind"}


def uses_database(item: pytest.Item) -> bool:
    fixturenames = set(getattr(item, "fixturenames", ()))
    return bool(fixturenames & _DB_FIXTURES) or item.get_closest_marker("db") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--db-bound-only"):
        return
    kept = [item for item in items if uses_database(item)]
    dropped = [item for item in items if not uses_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def pg_server(db_kind: str):  # type: ignore[no-untyped-def]
    if db_kind != "postgresql":
        yield None
        return
    from tests.pgserver import PostgresServer

    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(pg_server, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    if pg_server is None:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return pg_server.create_database("draftflow_test")


@pytest.fixture
def fresh_database_url(pg_server, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty database of the kind under test, apart from the shared one."""
    if pg_server is None:
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    return pg_server.create_database(f"fresh_{tmp_path.name[-20:].replace('-', '_')}")


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    Tests run inside an app context of their own; without this, requests would
    reuse it and share `g` (the logged-in user) and the database session with the
    test and with each other.
    """

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "WTF_CSRF_ENABLED": False,
            "CELERY_TASK_ALWAYS_EAGER": True,
            "CELERY_BROKER_URL": "memory://",
            "MAIL_SERVER": "",
            "MAIL_OUTBOX_DIR": str(instance / "outbox"),
            "UPLOAD_DIR": str(instance / "uploads"),
            "PUBLIC_URL": "http://draftflow.test",
        }
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _filled_tables_query(tables: list[Table]) -> str:
    """One query naming the tables that hold a row."""
    return " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
    )


def _wipe(application: Flask) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # TRUNCATE gives every table and index a new file (0.2 s a test); after a test
            # most tables are empty, and deleting the few rows of the others is cheap.
            # Foreign-key triggers are off for the transaction, so the drafts <-> versions
            # cycle needs no order. Sequences restart at 1, as on SQLite.
            filled = conn.execute(text(_filled_tables_query(tables))).scalars().all()
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for name in filled:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
            conn.exec_driver_sql("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            conn.commit()
            return
        # drafts and versions point at each other; switch the checks off to empty them.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in tables:
            conn.execute(table.delete())
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside an app context with an empty database."""
    if "app" not in request.fixturenames and not request.node.get_closest_marker("db"):
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        yield
        limiter.reset()  # the login counters of one test must not slow the next
        db.session.rollback()
        db.session.remove()
        _wipe(application)


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def instance_dir(app: Flask) -> Path:
    return Path(app.config["MAIL_OUTBOX_DIR"]).parent
