"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from app import create_app
from extensions import db


def test_upgrade_matches_models_and_downgrades(fresh_database_url, tmp_path):
    fresh = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
            "SECRET_KEY": "x",
            "CELERY_BROKER_URL": "memory://",
        }
    )
    with fresh.app_context():
        upgrade()
        engine = create_engine(fresh.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        engine.dispose()
        db.engine.dispose()


def test_0008_gives_users_tokens_and_scrubs_comment_text(fresh_database_url):
    """Old comment audit rows lose their text (an id and a digest stay); every existing
    user gets a session token of their own."""
    import hashlib
    from datetime import UTC, datetime

    from sqlalchemy import text

    fresh = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
            "SECRET_KEY": "x",
            "CELERY_BROKER_URL": "memory://",
        }
    )
    secret = "Nội dung nháp bí mật"
    with fresh.app_context():
        upgrade(revision="0004")
        engine = create_engine(fresh.config["SQLALCHEMY_DATABASE_URI"])
        at = datetime(2026, 11, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO units (id, name, short_name, kind, active, created_at) "
                    "VALUES (1, 'Khu vực 1', 'KV1', 'regional', true, :at)"
                ),
                {"at": at},
            )
            for n in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, full_name, email, unit_id, "
                        "password_hash, active, notify_mode, created_at) VALUES "
                        "(:n, :u, 'A', 'a@vks.test', 1, 'x', true, 'immediate', :at)"
                    ),
                    {"n": n, "u": f"user{n}", "at": at},
                )
            rows = [
                ("comment.create", f"KV1: {secret}", '{"clause_id": 3}'),
                ("comment.edit", f"KV1: {secret} 2", '{"old": "' + secret + '"}'),
                ("comment.delete", f"KV1: {secret}", '{"text": "' + secret + '"}'),
                ("unit.create", "Khu vực 1", "{}"),
            ]
            for action, summary, details in rows:
                conn.execute(
                    text(
                        "INSERT INTO audit_entries (at, actor_id, action, object_type, "
                        "object_id, summary, details) VALUES (:at, 1, :action, :type, 7, "
                        ":summary, :details)"
                    ),
                    {
                        "at": at,
                        "action": action,
                        "type": "units" if action == "unit.create" else "comments",
                        "summary": summary,
                        "details": details,
                    },
                )
        upgrade(revision="0008")
        with engine.connect() as conn:
            tokens = conn.execute(text("SELECT session_token FROM users")).scalars().all()
            entries = conn.execute(
                text("SELECT action, summary, details FROM audit_entries ORDER BY id")
            ).all()
        assert len(set(tokens)) == 2 and all(len(t) >= 32 for t in tokens)
        assert secret not in " ".join(f"{e.summary} {e.details}" for e in entries)
        assert [e.summary for e in entries] == [
            "KV1: ý kiến #7",
            "KV1: ý kiến #7",
            "KV1: ý kiến #7",
            "Khu vực 1",
        ]
        digest = "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
        assert digest in str(entries[1].details) and digest in str(entries[2].details)
        downgrade(revision="base")
        engine.dispose()
        db.engine.dispose()
