"""/healthz answers while the process lives; /readyz only when the database answers and stands
at the migrations' head."""

from __future__ import annotations

import pytest
from flask_migrate import stamp

from app import create_app
from app.extensions import db as _db
from app.schema import migration_heads
from config import ConfigError, load_config


@pytest.fixture
def fresh_app(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SEED_DEMO": False})
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_liveness_answers_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_follows_the_database_revision(fresh_app):
    client = fresh_app.test_client()
    [head] = sorted(migration_heads())

    # Never migrated.
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "database_not_migrated"

    # The schema of an older release, stamped at the revision before the head.
    with fresh_app.app_context():
        _db.create_all()
        stamp(revision=_script(fresh_app).get_revision(head).down_revision)
        _db.session.remove()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["reason"] == "migrations_not_current"
    assert body["expected"] == [head] and body["database"] != [head]

    # Upgraded.
    with fresh_app.app_context():
        stamp(revision="head")
        _db.session.remove()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": [head]}


def _script(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def test_the_heads_read_from_the_files_are_alembics(app):
    assert migration_heads() == frozenset(_script(app).get_heads())


def test_monitoring_settings_that_cannot_be_read_stop_the_start():
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_config({"APP_ENV": "testing", "LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        load_config({"APP_ENV": "testing", "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, intranet"})
    settings = load_config({"APP_ENV": "testing", "METRICS_ALLOWED_NETWORKS": " 10.1.2.3/8 ,::1", "LOG_FORMAT": "JSON"})
    assert settings["METRICS_ALLOWED_NETWORKS"] == ("10.0.0.0/8", "::1/128")
    assert settings["LOG_FORMAT"] == "json"
    assert load_config({"APP_ENV": "testing"})["LOG_FORMAT"] == "plain"
