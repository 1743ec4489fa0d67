"""A booked, cancelled or moved visit: the member and the resident are told (not whoever made the
change), in their language and by e-mail, and reminders still waiting for the old time are
withdrawn — never one already sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.exceptions import Conflict
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.visits.operations import book_visit, cancel_visit, reschedule_visit


def messages(db, prefix=""):
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.key.startswith(prefix)).order_by(Message.id)))


def test_a_cancelled_visit_is_announced_and_its_waiting_reminders_withdrawn(app, db, world, smtp):
    visit = world.book(timedelta(hours=20))
    run_job(app, "visit_reminders", now=utcnow())
    assert len(messages(db, f"visit-24h:{visit.id}:")) == 2

    cancel_visit(world.manager, visit, "Bà con đi vắng")
    db.session.commit()

    assert messages(db, f"visit-24h:{visit.id}:") == []
    notices = {m.user_id: m for m in messages(db, "cancelled-visit:")}
    assert set(notices) == {world.member.id, world.resident.id}  # not the manager who cancelled
    to_member = notices[world.member.id]
    assert to_member.subject.startswith("Cancelled: support visit on ")
    assert "Reason: Bà con đi vắng" in to_member.body
    assert "You do not need to go." in to_member.body
    assert "Person: Resident Vi" in to_member.body
    assert to_member.link == f"/visits/visits/{visit.id}"
    to_resident = notices[world.resident.id]  # Vietnamese
    assert to_resident.subject.startswith("Đã hủy: buổi hỗ trợ vào ")
    assert "tổ công nghệ sẽ cùng bạn hẹn một thời gian khác" in to_resident.body

    run_job(app, "send_outbox", now=utcnow())
    run_job(app, "visit_reminders", now=utcnow())  # a cancelled visit gets no new reminder
    sent = sorted(e.envelope_to[0] for e in smtp.messages)
    assert sent == ["member@example.org", "resident@example.org"]
    assert all("Cancelled" in e["Subject"] or "Đã hủy" in e["Subject"] for e in smtp.messages)


def test_the_member_who_cancels_is_not_told_but_the_resident_is(app, db, world):
    visit = world.book(timedelta(hours=30))
    cancel_visit(world.member, visit, "Sick")
    assert [m.user_id for m in messages(db, "cancelled-visit:")] == [world.resident.id]


def test_a_reminder_already_sent_stays_sent(app, db, world, smtp):
    visit = world.book(timedelta(hours=20))
    run_job(app, "visit_reminders", now=utcnow())
    run_job(app, "send_outbox", now=utcnow())
    cancel_visit(world.manager, visit, "Rain")
    db.session.commit()
    reminders = messages(db, f"visit-24h:{visit.id}:")
    assert len(reminders) == 2 and {m.status for m in reminders} == {"sent"}


def test_a_moved_visit_is_announced_with_both_times_and_reminded_of_its_new_time(app, db, world):
    visit = world.book(timedelta(hours=20))
    now = utcnow()
    run_job(app, "visit_reminders", now=now)
    old_keys = {m.key for m in messages(db, f"visit-24h:{visit.id}:")}

    reschedule_visit(world.manager, visit, visit.starts_at + timedelta(hours=2))
    db.session.commit()

    assert messages(db, f"visit-24h:{visit.id}:") == []
    moved = {m.user_id: m for m in messages(db, "moved-visit:")}
    assert set(moved) == {world.member.id, world.resident.id}
    body = moved[world.member.id].body
    assert moved[world.member.id].subject.startswith("Moved: support visit now on ")
    assert "New time: " in body and "Earlier time: " in body

    run_job(app, "visit_reminders", now=now + timedelta(minutes=5))
    new_keys = {m.key for m in messages(db, f"visit-24h:{visit.id}:")}
    assert len(new_keys) == 2 and not new_keys & old_keys


def test_moving_a_visit_twice_tells_people_twice_and_a_refused_move_tells_nobody(app, db, world):
    visit = world.book(timedelta(hours=20))
    other = world.book(timedelta(hours=40))
    reschedule_visit(world.manager, visit, visit.starts_at + timedelta(hours=1))
    reschedule_visit(world.manager, visit, visit.starts_at + timedelta(hours=1))
    assert len(messages(db, "moved-visit:")) == 4
    with pytest.raises(Conflict):
        reschedule_visit(world.manager, visit, other.starts_at)
    assert len(messages(db, "moved-visit:")) == 4
    reschedule_visit(world.manager, visit, visit.starts_at)  # the same time: nothing moved
    assert len(messages(db, "moved-visit:")) == 4


def test_the_cancel_page_tells_the_people_too(client, login_as, db, world):
    visit = world.book(timedelta(hours=20))
    db.session.commit()
    login_as(world.manager)
    response = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Mất điện"})
    assert response.status_code == 302
    assert {m.user_id for m in messages(db, "cancelled-visit:")} == {world.member.id, world.resident.id}


def test_a_booked_visit_is_announced_to_the_resident_and_the_member_not_to_who_booked(app, db, world, smtp):
    visit = world.book(timedelta(days=2), keep_booking_notices=True)
    db.session.commit()
    notices = {m.user_id: m for m in messages(db, f"booked-visit:{visit.id}:")}
    assert set(notices) == {world.member.id, world.resident.id}  # not the manager who booked
    to_resident = notices[world.resident.id]  # Vietnamese
    assert to_resident.kind == "visit_booked"
    assert to_resident.subject.startswith("Đã hẹn: buổi hỗ trợ vào ")
    assert "Người đến hỗ trợ: Member En" in to_resident.body
    assert "Nhà văn hoá thôn 1A" in to_resident.body
    to_member = notices[world.member.id]  # English; the address stays on the visit's page
    assert to_member.subject.startswith("Booked: support visit on ")
    assert "Person: Resident Vi" in to_member.body
    assert "Nhà văn hoá thôn 1A" not in to_member.body

    run_job(app, "send_outbox", now=utcnow())
    run_job(app, "send_outbox", now=utcnow() + timedelta(minutes=5))
    assert sorted(e.envelope_to[0] for e in smtp.messages) == ["member@example.org", "resident@example.org"]


def test_the_member_who_books_is_not_told(db, world):
    visit = book_visit(
        world.member,
        utcnow() + timedelta(days=2),
        60,
        skill="eid",
        place="Nhà văn hoá thôn 1A",
        booked_by=world.member,
        resident=world.resident,
        unit=world.units["v1a"],
    )
    db.session.commit()
    assert [m.user_id for m in messages(db, f"booked-visit:{visit.id}:")] == [world.resident.id]
