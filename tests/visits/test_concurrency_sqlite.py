"""Simultaneous bookings on SQLite: a booking takes the database's write lock before it checks
for overlaps, so bookings are serialised and only one of twenty wins. Runs on a temporary
SQLite file whatever the suite's database (PostgreSQL has its own test in test_concurrency.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.exceptions import Conflict
from app.extensions import db
from app.visits.models import Visit
from tests.visits.concurrency_support import THREADS, booking_work, build_app, dispose, race, seed


@pytest.fixture
def sqlite_race_app(tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'race.db'}")
    try:
        yield app, seed(app)
    finally:
        dispose(app)


def test_twenty_simultaneous_bookings_on_sqlite_make_exactly_one_visit(sqlite_race_app):
    app, ids = sqlite_race_app
    outcomes = race(app, booking_work(ids))

    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Conflict)]
    assert unexpected == []
    booked = [o for o in outcomes if isinstance(o, int)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(booked) == 1 and len(conflicts) == THREADS - 1
    assert all(conflict.status == 409 and conflict.message for conflict in conflicts)
    with app.app_context():
        assert [visit.id for visit in db.session.scalars(select(Visit))] == booked
