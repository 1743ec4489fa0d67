"""A person whose processing is restricted (app.privacy.restriction) is left out of scheduling,
reminders and messages; lifting the restriction restores them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.db import LOCAL_TZ, utcnow
from app.exceptions import Conflict
from app.jobs.models import Message
from app.jobs.outbox import enqueue, send_due
from app.jobs.scheduler import run_job
from app.outcomes.models import FollowUp, Resident
from app.privacy import restriction


def keys(db, prefix: str = "") -> list[tuple[str, int]]:
    db.session.expire_all()
    return [
        (m.key, m.user_id)
        for m in db.session.scalars(select(Message).where(Message.key.startswith(prefix)).order_by(Message.id))
    ]


def test_no_visit_is_booked_for_a_restricted_person_until_the_restriction_is_lifted(db, world):
    restriction.restrict(world.manager, world.resident)
    with force_locale("en"), pytest.raises(Conflict, match="restricted at their request"):
        world.book(timedelta(days=2))
    restriction.lift(world.manager, world.resident)
    assert world.book(timedelta(days=2)).resident_id == world.resident.id


def test_a_restricted_person_gets_no_visit_reminder_and_gets_it_again_once_lifted(app, db, world):
    visit = world.book(timedelta(hours=23))
    restriction.restrict(world.manager, world.resident)
    run_job(app, "visit_reminders", now=utcnow())

    assert [user for _key, user in keys(db, "visit-24h:")] == [world.member.id]

    restriction.lift(world.manager, world.resident)
    run_job(app, "visit_reminders", now=utcnow())
    assert sorted(user for _key, user in keys(db, "visit-24h:")) == sorted([world.member.id, world.resident.id])
    assert all(key.startswith(f"visit-24h:{visit.id}:") for key, _user in keys(db, "visit-24h:"))


def test_the_outbox_writes_nothing_to_a_restricted_person(db, world):
    restriction.restrict(world.manager, world.resident)
    assert enqueue("test:restricted", world.resident, "outcome_nudge", visit=None, skill="eID") is None
    assert keys(db, "test:") == []


def test_a_message_written_before_the_restriction_waits_and_is_sent_once_it_is_lifted(db, world, smtp):
    visit = world.book(timedelta(days=2))
    enqueue("test:before", world.resident, "visit_reminder_resident", visit=visit, soon=False, skill="eID")
    enqueue("test:member", world.member, "outcome_nudge", visit=visit, skill="eID")
    restriction.restrict(world.manager, world.resident)
    db.session.commit()

    assert send_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert [m.envelope_to for m in smtp.messages] == [["member@example.org"]]

    restriction.lift(world.manager, world.resident)
    db.session.commit()
    assert send_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert smtp.messages[-1].envelope_to == ["resident@example.org"]


def test_no_follow_up_reminder_is_written_about_a_restricted_resident(app, db, world):
    today = utcnow().astimezone(LOCAL_TZ).date()
    restricted = Resident(unit_id=world.units["v1a"].id, full_name="Bà Hạn Chế", birth_year=1950)
    other = Resident(unit_id=world.units["v1a"].id, full_name="Ông Bình Thường", birth_year=1951)
    db.session.add_all([restricted, other])
    db.session.flush()
    items = [
        FollowUp(
            resident_id=person.id,
            unit_id=world.units["v1a"].id,
            assigned_to_id=world.member.id,
            due_on=today,
            reason="Gọi lại",
            created_by_id=world.manager.id,
        )
        for person in (restricted, other)
    ]
    db.session.add_all(items)
    db.session.flush()
    restriction.restrict(world.manager, restricted)

    run_job(app, "follow_up_reminders", now=utcnow())
    assert [key for key, _user in keys(db, "follow-up:")] == [f"follow-up:{items[1].id}:{today.isoformat()}"]

    restriction.lift(world.manager, restricted)
    run_job(app, "follow_up_reminders", now=utcnow())
    assert len(keys(db, "follow-up:")) == 2
