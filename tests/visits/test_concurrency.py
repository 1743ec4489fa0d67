"""Simultaneous bookings and sign-ups on PostgreSQL: the database itself keeps one member from
holding two overlapping visits (the exclusion constraint) and a session within its capacity (the
conditional UPDATE and the CHECK on the counter).

Each test builds its own database (<test database>_conc) with committed data, because twenty
threads with their own connections cannot share the per-test rolled-back transaction.
"""

from __future__ import annotations

import os

import pytest
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.exceptions import Conflict
from app.extensions import db
from app.visits.models import GroupSession, SessionSignup, Visit
from tests.visits.concurrency_support import THREADS, booking_work, build_app, dispose, race, seed, signup_work

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs PostgreSQL: the guarantee under test is the database's",
    ),
]


@pytest.fixture
def race_app(empty_database_url):
    """A fresh PostgreSQL database (conftest's empty_database_url, dropped afterwards) with the
    schema and a seeded commune."""
    app = build_app(empty_database_url)
    try:
        yield app, seed(app)
    finally:
        dispose(app)


def stopped_by_the_database(conflict: Conflict) -> bool:
    cause = conflict.__cause__
    return isinstance(cause, IntegrityError) and getattr(cause.orig, "sqlstate", None) == "23P01"


def test_twenty_simultaneous_bookings_of_one_member_make_exactly_one_visit(race_app):
    app, ids = race_app
    outcomes = race(app, booking_work(ids))

    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Conflict)]
    assert unexpected == []
    booked = [o for o in outcomes if isinstance(o, int)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(booked) == 1 and len(conflicts) == THREADS - 1
    assert all(conflict.status == 409 and conflict.message for conflict in conflicts)
    # The winner held its transaction open while the others inserted: the exclusion
    # constraint, not only the application's own check, turned them away.
    assert any(stopped_by_the_database(conflict) for conflict in conflicts)
    with app.app_context():
        visits = list(db.session.scalars(select(Visit)))
        assert [visit.id for visit in visits] == booked
        assert visits[0].member_id == ids.member and visits[0].status == "booked"


def test_twenty_simultaneous_sign_ups_fill_five_places_and_no_more(race_app):
    app, ids = race_app
    session_id = ids.sessions[0]
    outcomes = race(app, signup_work(ids, session_id))

    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Conflict)]
    assert unexpected == []
    signed = [o for o in outcomes if isinstance(o, int)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(signed) == 5 and len(conflicts) == THREADS - 5
    with app.app_context():  # messages are in the default language outside a request
        assert {conflict.message for conflict in conflicts} == {gettext("This session is full.")}
    with app.app_context():
        session = db.session.get(GroupSession, session_id)
        assert session.signed_up == 5
        count = select(func.count()).select_from(SessionSignup).where(SessionSignup.session_id == session_id)
        assert db.session.scalar(count) == 5


def test_one_person_signing_up_twenty_times_at_once_gets_one_place(race_app):
    app, ids = race_app
    session_id = ids.sessions[1]
    outcomes = race(app, signup_work(ids, session_id, same_person=True))

    unexpected = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Conflict)]
    assert unexpected == []
    assert len([o for o in outcomes if isinstance(o, int)]) == 1
    with app.app_context():
        assert {o.message for o in outcomes if isinstance(o, Conflict)} == {gettext("Already signed up.")}
    with app.app_context():
        assert db.session.get(GroupSession, session_id).signed_up == 1
        count = select(func.count()).select_from(SessionSignup).where(SessionSignup.session_id == session_id)
        assert db.session.scalar(count) == 1
