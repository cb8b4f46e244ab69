"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from app import create_app, db


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
