"""Fixtures: one app per test session, a clean database for every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set, e.g.
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kynangso_test python -m pytest
"""

from __future__ import annotations

import contextvars
import os
import re

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient

from app import create_app
from app.auth.models import User
from app.extensions import db as _db
from app.extensions import limiter
from app.units.models import Unit

TEST_PASSWORD = "correct horse battery"


def pytest_report_header(config):
    return f"database: {_database_url_for_display()}"


def _database_url_for_display() -> str:
    return os.environ.get("TEST_DATABASE_URL") or "SQLite (temporary file)"


def is_postgresql() -> bool:
    return (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class IsolatedClient(FlaskClient):
    """Runs every request in its own application context, as a real server would.

    Tests hold an app context for their own database work; without this, requests would share
    that context's `g` (and so the signed-in user) and its database session.
    """

    def open(self, *args, **kwargs):
        def request_in_fresh_context():
            _cv_app.set(None)
            return FlaskClient.open(self, *args, **kwargs)

        response = contextvars.copy_context().run(request_in_fresh_context)
        # The request committed through its own session; let the test's session see the result.
        _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url):
    os.environ.setdefault("APP_ENV", "testing")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "SEED_DEMO": False,
            "SERVER_NAME": "localhost",
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def db(app):
    """Each test runs inside a transaction that is rolled back at the end; the code under test
    commits into a savepoint."""
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        limiter.reset()
        try:
            yield _db
        finally:
            _db.session.remove()
            transaction.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture(autouse=True)
def restore_limiter():
    """Flask-Limiter keeps one storage per process (as in production, one app per process).
    Tests that create extra apps re-point it; put it back afterwards."""
    saved = (limiter._storage, limiter._limiter, limiter._key_prefix)
    yield
    limiter._storage, limiter._limiter, limiter._key_prefix = saved


@pytest.fixture
def client(app):
    """A browser that prefers English, so assertions can name the English messages."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


# --- factories ---------------------------------------------------------------------------


_PASSWORD_HASH: dict[str, str] = {}


@pytest.fixture
def make_unit(db):
    counter = {"n": 0}

    def make(kind="commune", parent=None, code=None, name=None, population=1000):
        counter["n"] += 1
        code = code or f"T{counter['n']:04d}"
        unit = Unit(
            code=code,
            kind=kind,
            name=name or f"Unit {code}",
            parent=parent,
            population=population,
            path=(parent.path if parent else "/") + code + "/",
        )
        db.session.add(unit)
        db.session.flush()
        return unit

    return make


@pytest.fixture
def units(make_unit):
    """A small province: two communes with two villages each."""
    province = make_unit("province", code="P", name="Tỉnh Thử", population=None)
    c1 = make_unit("commune", province, code="C1", name="Xã Một", population=5000)
    c2 = make_unit("commune", province, code="C2", name="Xã Hai", population=3000)
    return {
        "province": province,
        "c1": c1,
        "c2": c2,
        "v1a": make_unit("village", c1, code="C1A", name="Thôn 1A", population=2000),
        "v1b": make_unit("village", c1, code="C1B", name="Thôn 1B", population=3000),
        "v2a": make_unit("village", c2, code="C2A", name="Thôn 2A", population=3000),
    }


@pytest.fixture
def make_user(db, units):
    counter = {"n": 0}

    def make(role="cadre", unit=None, username=None, password=TEST_PASSWORD, **fields):
        counter["n"] += 1
        username = username or f"{role.replace('_', '')}{counter['n']}"
        user = User(
            username=username,
            full_name=fields.pop("full_name", f"Người dùng {counter['n']}"),
            role=role,
            unit=unit or units["c1"],
            **fields,
        )
        if password not in _PASSWORD_HASH:
            user.set_password(password)
            _PASSWORD_HASH[password] = user.password_hash
        user.password_hash = _PASSWORD_HASH[password]
        db.session.add(user)
        db.session.flush()
        return user

    return make


@pytest.fixture
def login_as(client):
    """Sign a user in on the test client (through the real sign-in form)."""

    def login(user, password=TEST_PASSWORD):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login


@pytest.fixture
def api_token(client):
    def token_for(user, password=TEST_PASSWORD) -> dict:
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": password})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return token_for


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
