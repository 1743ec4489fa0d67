"""A Bengali reader gets every kind of notice in Bengali: a booked, moved or cancelled visit, the
visit reminders, the daily digest — the e-mail text and the Zalo template's words alike, whoever
made the change and in whatever language they work."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.jobs.template_data import SHORT
from app.visits.help_requests import create_help_request
from app.visits.models import SKILL_TITLES
from app.visits.operations import book_visit, cancel_visit, reschedule_visit

BENGALI = re.compile(r"[\u0980-\u09FF]")


def messages(db, prefix: str) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.key.startswith(prefix)).order_by(Message.id)))


def bengali_skill(skill: str = "eid") -> str:
    with force_locale("bn"):
        return str(SKILL_TITLES[skill])


def assert_bengali(message: Message) -> None:
    assert BENGALI.search(message.subject), message.subject
    assert BENGALI.search(message.body), message.body
    assert bengali_skill() in message.body


@pytest.fixture
def bengali_visit(db, world, make_user):
    """A visit of the Bengali member for a Bengali resident, booked by the Vietnamese manager."""
    resident = make_user(
        "resident", world.units["v1a"], full_name="Resident Bn", email="resident-bn@example.org", locale="bn"
    )
    visit = book_visit(
        world.member_bn,
        utcnow() + timedelta(hours=20),
        60,
        skill="eid",
        place="Nhà văn hoá thôn 1A",
        booked_by=world.manager,
        resident=resident,
        unit=world.units["v1a"],
    )
    db.session.flush()
    return visit, resident


@pytest.mark.parametrize("actor_language", ["vi", "en"])
def test_booked_moved_and_cancelled_visits_reach_bengali_readers_in_bengali(
    app, db, world, bengali_visit, actor_language
):
    visit, resident = bengali_visit
    with force_locale(actor_language):  # the change is made by someone reading another language
        reschedule_visit(world.manager, visit, visit.starts_at + timedelta(hours=1))
        cancel_visit(world.manager, visit, "Mưa to")
    db.session.flush()
    for prefix in (f"booked-visit:{visit.id}:", f"moved-visit:{visit.id}:", f"cancelled-visit:{visit.id}:"):
        notices = {m.user_id: m for m in messages(db, prefix)}
        assert set(notices) == {world.member_bn.id, resident.id}, prefix
        for message in notices.values():
            assert_bengali(message)
            assert message.template_data["skill"] == bengali_skill()[:SHORT]


def test_visit_reminders_reach_bengali_readers_in_bengali(app, db, world, bengali_visit):
    visit, resident = bengali_visit
    db.session.commit()
    run_job(app, "visit_reminders", now=utcnow())
    reminders = {m.user_id: m for m in messages(db, f"visit-24h:{visit.id}:")}
    assert set(reminders) == {world.member_bn.id, resident.id}
    assert reminders[world.member_bn.id].kind == "visit_reminder_member"
    assert reminders[resident.id].kind == "visit_reminder_resident"
    for message in reminders.values():
        assert_bengali(message)
        assert message.template_data["skill"] == bengali_skill()[:SHORT]


def test_the_daily_digest_reaches_a_bengali_member_in_bengali(app, db, world):
    now = utcnow()
    request = create_help_request(
        world.manager,
        skill="eid",
        unit=world.units["v1a"],
        place="Đầu ngõ 3",
        name="Bà Lan",
        phone=None,
        note=None,
        preferred_times="Buổi tối",
        consent=True,
    )
    request.created_at = now - timedelta(hours=2)
    db.session.commit()
    run_job(app, "daily_digests", now=now)
    digests = {m.user_id: m for m in messages(db, "digest:")}
    assert_bengali(digests[world.member_bn.id])
    assert not BENGALI.search(digests[world.member.id].body)  # the English member's stays English


def test_the_weekly_manager_digest_reaches_a_bengali_manager_in_bengali(app, db, world, make_user):
    commune = world.units["c1"]
    commune.name_bn = "এক কমিউন"
    manager = make_user("commune_manager", commune, full_name="Manager Bn", email="manager-bn@example.org", locale="bn")
    db.session.commit()
    run_job(app, "manager_digests", now=utcnow())
    digest = next(m for m in messages(db, "manager-digest:") if m.user_id == manager.id)
    assert BENGALI.search(digest.subject) and BENGALI.search(digest.body)
    assert "এক কমিউন" in digest.subject
    assert digest.template_data["area"] == "এক কমিউন"
    vietnamese = next(m for m in messages(db, "manager-digest:") if m.user_id == world.manager.id)
    assert vietnamese.template_data["area"] == commune.name
