"""Follow-up reminders: the assigned member is reminded once when a follow-up is due or overdue,
however often the job runs, in their language, and e-mailed once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import LOCAL_TZ, utcnow
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.outcomes.models import FollowUp, Resident


def messages(db, prefix="follow-up:"):
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.key.startswith(prefix)).order_by(Message.id)))


def follow_up(db, world, *, due_in_days: int, member=None, status="open", reason="Đưa bác ra công an xã kích hoạt"):
    """A follow-up after one of `member`'s visits, due `due_in_days` from today (local time)."""
    earlier = db.session.scalar(select(func.count()).select_from(FollowUp))
    visit = world.book(timedelta(hours=30 + 24 * earlier))  # a day apart: within the daily cap
    resident = Resident(unit_id=world.units["v1a"].id, full_name="Nguyễn Thị Lan", birth_year=1958)
    db.session.add(resident)
    db.session.flush()
    item = FollowUp(
        resident_id=resident.id,
        visit_id=visit.id,
        unit_id=world.units["v1a"].id,
        assigned_to_id=(member or world.member).id,
        due_on=utcnow().astimezone(LOCAL_TZ).date() + timedelta(days=due_in_days),
        reason=reason,
        status=status,
        created_by_id=world.manager.id,
    )
    db.session.add(item)
    db.session.flush()
    return item


def test_a_follow_up_due_today_is_reminded_of_once_however_often_the_job_runs(app, db, world):
    item = follow_up(db, world, due_in_days=0)
    now = utcnow()
    for minutes in (0, 1, 60):
        run_job(app, "follow_up_reminders", now=now + timedelta(minutes=minutes))

    [reminder] = messages(db)
    assert reminder.key == f"follow-up:{item.id}:{item.due_on.isoformat()}"
    assert reminder.user_id == world.member.id
    assert reminder.subject.startswith("Follow-up due today")
    assert "Hello, Member En" in reminder.body
    assert "Đưa bác ra công an xã kích hoạt" in reminder.body
    assert "Nguyễn Thị Lan" in reminder.body
    assert reminder.link == "/outcomes/follow-ups"


def test_an_overdue_follow_up_is_reminded_of_and_future_or_closed_ones_are_not(app, db, world):
    overdue = follow_up(db, world, due_in_days=-3)
    follow_up(db, world, due_in_days=1)
    follow_up(db, world, due_in_days=-1, status="done")
    follow_up(db, world, due_in_days=-1, status="cancelled")
    unassigned = follow_up(db, world, due_in_days=0)
    unassigned.assigned_to_id = None
    db.session.flush()

    run_job(app, "follow_up_reminders", now=utcnow())
    run_job(app, "follow_up_reminders", now=utcnow())

    [reminder] = messages(db)
    assert reminder.key == f"follow-up:{overdue.id}:{overdue.due_on.isoformat()}"
    assert reminder.subject.startswith("Overdue follow-up: was due ")


def test_a_follow_up_moved_to_a_later_date_is_reminded_of_again_on_that_day(app, db, world):
    item = follow_up(db, world, due_in_days=0)
    now = utcnow()
    run_job(app, "follow_up_reminders", now=now)
    item.due_on += timedelta(days=2)
    db.session.flush()
    run_job(app, "follow_up_reminders", now=now + timedelta(days=1))
    assert len(messages(db)) == 1
    for _ in range(3):
        run_job(app, "follow_up_reminders", now=now + timedelta(days=2))
    assert [m.key for m in messages(db)] == [
        f"follow-up:{item.id}:{(item.due_on - timedelta(days=2)).isoformat()}",
        f"follow-up:{item.id}:{item.due_on.isoformat()}",
    ]


def test_the_reminder_is_in_the_members_language(app, db, world):
    english = follow_up(db, world, due_in_days=0)
    bengali = follow_up(db, world, due_in_days=0, member=world.member_bn)
    run_job(app, "follow_up_reminders", now=utcnow())
    by_user = {m.user_id: m for m in messages(db)}
    assert by_user[world.member.id].key.startswith(f"follow-up:{english.id}:")
    assert by_user[world.member_bn.id].key.startswith(f"follow-up:{bengali.id}:")
    # The Bengali member's message is not the English one (dates at least are written in Bengali).
    assert by_user[world.member_bn.id].body != by_user[world.member.id].body.replace("Member En", "Member Bn")


def test_the_reminder_is_emailed_once_across_repeated_runs(app, db, world, smtp):
    follow_up(db, world, due_in_days=-1)
    now = utcnow()
    for _ in range(3):
        run_job(app, "follow_up_reminders", now=now)
        run_job(app, "send_outbox", now=now)
    assert [e.envelope_to[0] for e in smtp.messages] == ["member@example.org"]
    assert smtp.messages[0]["Subject"].startswith("Overdue follow-up")
