"""Races against a real, committed database: a separate app on its own database, a tiny commune,
and a runner that starts many threads at the same moment.

These tests cannot use the per-test rolled-back transaction of tests/conftest.py: every thread
needs its own connection and has to see what the others committed.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

from app import create_app
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Conflict
from app.extensions import db
from app.units.models import Unit
from app.visits import group_sessions, operations
from app.visits.models import GroupSession, Team, TeamMember, WeeklyAvailability

THREADS = 20
#: How long a winner keeps its transaction open before committing, so that the others reach the
#: database while it is still uncommitted (and the database itself has to stop them).
HOLD_SECONDS = 0.5


def build_app(url: str):
    """An app on `url` with the schema created; a pool large enough for every thread at once."""
    options = {"pool_pre_ping": True, "pool_size": THREADS + 5, "max_overflow": 5, "pool_timeout": 60}
    if url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False}
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SEED_DEMO": False,
            "SCHEDULER_IN_PROCESS": False,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def seed(app) -> SimpleNamespace:
    """A commune with one team member (e-ID, free around the clock), a manager, THREADS residents
    and two group sessions of five places each, a day before the time the bookings race for.
    Committed; returns the ids."""
    with app.app_context():
        province = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        commune = Unit(code="C1", kind="commune", name="Xã Một", parent=province, path="/P/C1/")
        village = Unit(code="C1A", kind="village", name="Thôn 1A", parent=commune, path="/P/C1/C1A/")

        def person(username, role, unit):
            return User(username=username, full_name=username, role=role, unit=unit, password_hash="!")

        manager = person("manager", "commune_manager", commune)
        member = person("member", "tech_team", commune)
        residents = [person(f"resident{i}", "resident", village) for i in range(THREADS)]
        team = Team(unit=commune, name="Đội Xã Một")
        db.session.add_all([province, commune, village, manager, member, *residents, team])
        db.session.add(TeamMember(team=team, user=member, skills=["eid"]))
        db.session.flush()
        db.session.add_all(
            WeeklyAvailability(user_id=member.id, weekday=day, start_minute=0, end_minute=24 * 60) for day in range(7)
        )
        starts_at = utcnow().replace(microsecond=0) + timedelta(days=3)
        sessions = [
            GroupSession(
                unit_id=village.id,
                title=f"Buổi {n}",
                place="Nhà văn hoá",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                skills=["eid"],
                capacity=5,
                host_id=member.id,
                created_by_id=manager.id,
            )
            for n in (1, 2)
        ]
        db.session.add_all(sessions)
        db.session.commit()
        return SimpleNamespace(
            manager=manager.id,
            member=member.id,
            residents=[resident.id for resident in residents],
            sessions=[session.id for session in sessions],
            visits_at=starts_at + timedelta(days=1),
        )


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def race(app, work, threads: int = THREADS) -> list:
    """Run `work(i, barrier)` in `threads` threads, each in its own app context (so its own
    session and connection). `work` loads what it needs, waits on the barrier, then acts. Returns
    what each returned or raised."""
    barrier = threading.Barrier(threads)
    outcomes: list = [None] * threads

    def run(i: int) -> None:
        with app.app_context():
            try:
                outcomes[i] = work(i, barrier)
            except BaseException as error:  # reported by the test, never lost in the thread
                outcomes[i] = error
                barrier.abort()
            finally:
                db.session.rollback()
                db.session.remove()

    workers = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread did not finish"
    return outcomes


def booking_work(ids: SimpleNamespace):
    """Each thread books the same member for an overlapping hour (thread i starts i minutes
    later), for a different resident. Returns the visit id, or the Conflict."""

    def work(i: int, barrier: threading.Barrier):
        member = db.session.get(User, ids.member)
        manager = db.session.get(User, ids.manager)
        resident = db.session.get(User, ids.residents[i])
        barrier.wait(timeout=60)
        try:
            visit = operations.book_visit(
                member,
                ids.visits_at + timedelta(minutes=i),
                60,
                skill="eid",
                place="Nhà văn hoá",
                booked_by=manager,
                resident=resident,
            )
        except Conflict as conflict:
            db.session.rollback()
            return conflict
        time.sleep(HOLD_SECONDS)
        db.session.commit()
        return visit.id

    return work


def signup_work(ids: SimpleNamespace, session_id: int, *, same_person: bool = False):
    """Each thread signs a resident (a different one, or all the same) up for the session.
    Returns the sign-up id, or the Conflict."""

    def work(i: int, barrier: threading.Barrier):
        session = db.session.get(GroupSession, session_id)
        person = db.session.get(User, ids.residents[0 if same_person else i])
        barrier.wait(timeout=60)
        try:
            signup = group_sessions.sign_up(session, person, by=person)
        except Conflict as conflict:
            db.session.rollback()
            return conflict
        db.session.commit()
        return signup.id

    return work
