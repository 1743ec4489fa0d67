"""Fixtures: one app per test session, a clean database for every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set, e.g.
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/kynangso_test python -m pytest

TEST_NOW runs the whole session as if it started at that moment (the clock keeps running, so a
run started just before midnight crosses it), e.g.
TEST_NOW=2026-05-31T23:59:30+07:00 python -m pytest
A moment without an offset is local time (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import contextvars
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from flask.globals import _cv_app
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from app import create_app
from app.auth.models import User
from app.db import LOCAL_TZ
from app.extensions import db as _db
from app.extensions import limiter
from app.units.models import Unit

TEST_PASSWORD = "correct horse battery"


# Property tests judge answers, not speed: the suite's two CI passes share a 2-core machine, where
# a generated example can take longer than Hypothesis's default 200 ms deadline.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

def pytest_report_header(config):
    return [f"database: {_database_url_for_display()}", f"clock: {_clock_for_display()}"]


def _database_url_for_display() -> str:
    return os.environ.get("TEST_DATABASE_URL") or "SQLite (temporary file)"


def is_postgresql() -> bool:
    return (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


# --- the clock ----------------------------------------------------------------------------


def _test_now() -> datetime | None:
    """The moment TEST_NOW names, or None to run at the real time."""
    value = os.environ.get("TEST_NOW", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(f"TEST_NOW={value!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _clock_for_display() -> str:
    moment = _test_now()
    if moment is None:
        return "real time"
    local = moment.astimezone(LOCAL_TZ)
    return f"started at {local:%A %Y-%m-%d %H:%M:%S} {LOCAL_TZ.key} (TEST_NOW), and running"


_TRAVEL = pytest.StashKey[time_machine.travel]()


def pytest_sessionstart(session):
    """Move every clock Python reads (datetime.now, date.today, time.time) to TEST_NOW before
    the tests are collected; time then passes as usual. The databases' own clocks are not moved,
    so neither the app nor the tests ask SQL for the time. The browser tests' server, another
    process, starts at this process's moment (tests/browser/conftest.py)."""
    moment = _test_now()
    if moment is not None:
        # A timestamp, not the datetime: time-machine would also change the process's time zone
        # for some datetimes, and the tests must hold whatever zone the machine is set to.
        travel = time_machine.travel(moment.timestamp(), tick=True)
        travel.start()
        session.config.stash[_TRAVEL] = travel


def pytest_sessionfinish(session, exitstatus):
    travel = session.config.stash.get(_TRAVEL, None)
    if travel is not None:
        travel.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """The address of a new, empty database next to the test database (SQLite: a file in the
    test's folder; PostgreSQL: `<name>_empty`, dropped afterwards), for tests that need real
    transaction ends or a schema of their own."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"{url.database}_empty"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
        # The tables are the models' own; record them as the migrations' head, as a migrated
        # database would be (/readyz compares the two).
        from flask_migrate import stamp

        stamp()
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


def in_english(client):
    """Switch `client` to English, as the language links do (for the rest of its session, over
    no saved language), so assertions can name the English messages. The API's callers ask by
    Accept-Language. Returns the client."""
    with client.session_transaction() as session:
        session["lang"] = "en"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def client(app):
    """A browser switched to English, so assertions can name the English messages."""
    return in_english(app.test_client())


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
def page_queries(client):
    """`page_queries(url)`: GET `url` on the test client (200 expected) and return the number of
    SQL statements the request sent, and the page's text — to keep N+1 queries off list pages."""

    def count(url: str) -> tuple[int, str]:
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(Engine, "before_cursor_execute", record)
        try:
            response = client.get(url)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        assert response.status_code == 200, response.status_code
        return len(statements), response.get_data(as_text=True)

    return count


@pytest.fixture
def villages(make_unit, units):
    """Six villages of commune C1, to spread people over."""
    return [make_unit("village", units["c1"], name=f"Thôn số {n}") for n in range(6)]


@pytest.fixture
def queries_by_spread(client, villages, page_queries):
    """`queries_by_spread(url, people)`: the SQL statements of GET `url` with `people` in two of
    `villages`, then spread over all six. Equal counts mean the page loads the people's units with
    them, not one query per village. Also checks every village's name is on the page."""

    def measure(url: str, people) -> tuple[int, int]:
        counts = []
        for over in (2, 6):
            for n, person in enumerate(people):
                person.unit = villages[n % over]
            _db.session.flush()
            if not counts:
                client.get(url)  # the first page of a session also counts the menu's notifications
            statements, text = page_queries(url)
            counts.append(statements)
        for village in villages:
            assert village.name in text
        return counts[0], counts[1]

    return measure


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


# --- courses ------------------------------------------------------------------------------

COURSES_DIR = Path(__file__).resolve().parents[1] / "courses"


@pytest.fixture
def real_courses(db):
    """The shipped courses, synced into the test database."""
    from app.learning.content import sync_courses
    from app.learning.models import Course

    sync_courses(COURSES_DIR)
    return {course.slug: course for course in db.session.scalars(db.select(Course))}


@pytest.fixture
def make_course(app, db, tmp_path, monkeypatch):
    """Write a small course folder and sync it. Returns (Course, folder) — edit the folder and
    call `resync()` to test course changes. The app serves the folder's pictures."""
    import yaml

    from app.learning.content import sync_courses
    from app.learning.models import Course

    root = tmp_path / "courses"
    monkeypatch.setitem(app.config, "COURSES_DIR", root)

    def make(slug="test-course", modules=None, audience="resident", languages=("vi", "en")):
        folder = root / slug
        (folder / "lessons").mkdir(parents=True, exist_ok=True)
        modules = modules or [
            {
                "id": "m1",
                "lessons": ["l1", "l2"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["b"]},
                    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "c"]},
                    {"id": "q3", "type": "true_false", "correct": False},
                ],
            }
        ]
        manifest_modules = []
        for module in modules:
            entry = {
                "id": module["id"],
                "title": {lang: f"{module['id']} {lang}" for lang in languages},
                "lessons": [
                    {"id": lesson, "title": {lang: f"{lesson} {lang}" for lang in languages}}
                    for lesson in module["lessons"]
                ],
            }
            for lesson in module["lessons"]:
                for lang in languages:
                    (folder / "lessons" / f"{lesson}.{lang}.md").write_text(
                        f"## {lesson} ({lang})\n\nText of {lesson} in {lang}.\n", encoding="utf-8"
                    )
            if module.get("questions"):
                quiz_file = f"quiz-{module['id']}.yml"
                entry["quiz"] = {
                    "file": quiz_file,
                    "pass_mark": module.get("pass_mark", 60),
                    "max_attempts": module.get("max_attempts", 3),
                }
                if "review" in module:
                    entry["quiz"]["review"] = module["review"]
                questions = []
                for question in module["questions"]:
                    item = {
                        "id": question["id"],
                        "type": question["type"],
                        "prompt": {lang: f"{question['id']}? ({lang})" for lang in languages},
                        "explanation": {lang: f"because {question['id']} ({lang})" for lang in languages},
                        "correct": question["correct"],
                    }
                    if question["type"] != "true_false":
                        item["options"] = [
                            {
                                "id": option,
                                "text": {lang: f"{question['id']}-{option} {lang}" for lang in languages},
                            }
                            for option in question["options"]
                        ]
                    questions.append(item)
                (folder / quiz_file).write_text(yaml.safe_dump({"questions": questions}, allow_unicode=True))
            manifest_modules.append(entry)
        manifest = {
            "slug": slug,
            "version": 1,
            "audience": audience,
            "estimated_minutes": 10,
            "title": {lang: f"Course {slug} {lang}" for lang in languages},
            "summary": {lang: f"Summary {lang}" for lang in languages},
            "modules": manifest_modules,
        }
        (folder / "course.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
        resync()
        return db.session.scalar(db.select(Course).where(Course.slug == slug)), folder

    def resync():
        return sync_courses(root)

    make.resync = resync
    make.root = root
    return make
