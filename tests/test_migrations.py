"""The migrations build the schema the models describe, and take it down again, on the test
database's engine (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.db import render_item
from app.extensions import db


def test_upgrade_to_head_matches_the_models_and_downgrade_to_base_empties(empty_database_url, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    migrated = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "render_item": render_item})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations disagree: {differences}"

        downgrade(revision="base")
        with db.engine.connect() as connection:
            remaining = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()
