"""PostgreSQL only: the scheduler's advisory lock, and messages created once under concurrency.

These use their own connections (outside the per-test transaction), like separate processes.
"""

from __future__ import annotations

import os
import secrets
import threading

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.pool import NullPool

from app import create_app
from app.auth.models import User
from app.extensions import db as _db
from app.jobs.models import Message
from app.jobs.outbox import enqueue
from app.jobs.scheduler import SCHEDULER_LOCK_KEY, SchedulerLock, start_in_process
from app.units.models import Unit
from tests.conftest import is_postgresql

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(not is_postgresql(), reason="advisory locks and concurrency need PostgreSQL"),
]


@pytest.fixture
def engine():
    engine = create_engine(os.environ["TEST_DATABASE_URL"], poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def separate_app(database_url):
    """An app with its own engine: its commits are real, like another process's."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SEED_DEMO": False, "MAIL_SERVER": ""})
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_a_second_scheduler_cannot_take_the_lock_while_the_first_holds_it(engine):
    first, second = SchedulerLock(engine), SchedulerLock(engine)
    assert first.try_acquire()
    try:
        assert not second.try_acquire()
        assert not second.try_acquire()
        assert first.is_held()
    finally:
        first.release()
    assert second.try_acquire()
    second.release()


def test_the_lock_ends_with_its_connection(engine):
    first = SchedulerLock(engine)
    assert first.try_acquire()
    first.connection.close()  # as when the process dies
    first.connection = None
    second = SchedulerLock(engine)
    assert second.try_acquire()
    second.release()


def test_the_in_process_scheduler_stays_off_while_another_scheduler_runs(engine, separate_app):
    production = SchedulerLock(engine)
    assert production.try_acquire()
    try:
        assert start_in_process(separate_app) is None
    finally:
        production.release()
    running = start_in_process(separate_app)
    assert running is not None
    try:
        assert running.scheduler.running
        assert not SchedulerLock(engine, SCHEDULER_LOCK_KEY).try_acquire()
    finally:
        running.stop(wait=True)  # let the jobs it started at once finish
    assert not running.scheduler.running


def test_simultaneous_enqueues_of_one_key_create_one_message(separate_app):
    code = f"T{secrets.token_hex(4)}"
    with separate_app.app_context():
        unit = Unit(code=code, kind="province", name="Concurrency test", path=f"/{code}/")
        user = User(username=f"u{code.lower()}", full_name="Concurrency", password_hash="x", role="cadre", unit=unit)
        _db.session.add_all([unit, user])
        _db.session.commit()
        user_id, unit_id = user.id, unit.id

    key = f"test:concurrent:{code}"
    start = threading.Barrier(12)
    created, errors = [], []

    def worker():
        with separate_app.app_context():
            try:
                person = _db.session.get(User, user_id)
                start.wait()
                message = enqueue(key, person, "daily_digest", requests=[], day=None, skill_titles={})
                _db.session.commit()
                created.append(message is not None)
            except Exception as error:  # collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert created.count(True) == 1
        with separate_app.app_context():
            assert _db.session.scalar(select(func.count()).select_from(Message).where(Message.key == key)) == 1
    finally:
        with separate_app.app_context():
            _db.session.execute(delete(Message).where(Message.user_id == user_id))
            _db.session.execute(delete(User).where(User.id == user_id))
            _db.session.execute(delete(Unit).where(Unit.id == unit_id))
            _db.session.commit()
