"""Reminders, digests and nudges: each created once however often the job runs, in the
recipient's language, and e-mailed once."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.visits.help_requests import create_help_request
from app.visits.models import SKILL_TITLES, HelpRequest
from app.visits.operations import cancel_visit


def messages(db, prefix=""):
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.key.startswith(prefix)).order_by(Message.id)))


def recipients(db, prefix=""):
    return sorted(m.user.username for m in messages(db, prefix))


def test_a_visit_23_hours_ahead_gets_one_24_hour_reminder_for_member_and_resident(app, db, world):
    visit = world.book(timedelta(hours=23))
    now = utcnow()
    for _ in range(3):
        run_job(app, "visit_reminders", now=now)

    reminders = messages(db, "visit-24h:")
    assert sorted(m.user_id for m in reminders) == sorted([world.member.id, world.resident.id])
    assert all(m.key.startswith(f"visit-24h:{visit.id}:") for m in reminders)
    assert messages(db, "visit-1h:") == []
    member_message = next(m for m in reminders if m.user_id == world.member.id)
    assert member_message.subject.startswith("Reminder: support visit on ")
    assert "You have a support visit." in member_message.body
    assert "Help with: E-ID app (VNeID)" in member_message.body
    assert "Resident Vi" in member_message.body
    assert {m.link for m in reminders} == {f"/visits/visits/{visit.id}"}


def test_the_one_hour_reminder_comes_once_in_the_last_hour(app, db, world):
    visit = world.book(timedelta(hours=5))
    now = utcnow()
    run_job(app, "visit_reminders", now=now)
    for minutes in (0, 5, 10):
        run_job(app, "visit_reminders", now=now + timedelta(hours=4, minutes=minutes))

    assert len(messages(db, "visit-24h:")) == 2
    one_hour = messages(db, "visit-1h:")
    assert sorted(m.user_id for m in one_hour) == sorted([world.member.id, world.resident.id])
    member_message = next(m for m in one_hour if m.user_id == world.member.id)
    assert member_message.subject.startswith("In one hour: support visit at ")
    # After the start, nothing more.
    run_job(app, "visit_reminders", now=visit.starts_at + timedelta(minutes=1))
    assert len(messages(db, "visit-")) == 4


def test_a_visit_booked_less_than_an_hour_ahead_gets_only_the_one_hour_reminder(app, db, world):
    world.book(timedelta(minutes=40))
    run_job(app, "visit_reminders", now=utcnow())
    assert messages(db, "visit-24h:") == []
    assert len(messages(db, "visit-1h:")) == 2


def test_no_reminder_for_a_cancelled_visit_or_a_resident_without_email(app, db, world, make_user):
    cancelled = world.book(timedelta(hours=10))
    cancel_visit(world.manager, cancelled, "Resident is ill")
    world.resident.email = None
    world.book(timedelta(hours=20))
    db.session.flush()
    run_job(app, "visit_reminders", now=utcnow())
    assert [m.user_id for m in messages(db, "visit-")] == [world.member.id]


def test_a_rescheduled_visit_is_reminded_of_its_new_time(app, db, world):
    visit = world.book(timedelta(hours=20))
    now = utcnow()
    run_job(app, "visit_reminders", now=now)
    visit.starts_at += timedelta(hours=2)
    visit.ends_at += timedelta(hours=2)
    db.session.flush()
    run_job(app, "visit_reminders", now=now + timedelta(minutes=5))
    assert len(messages(db, f"visit-24h:{visit.id}:{world.member.id}:")) == 2


def test_reminders_are_emailed_once_across_repeated_runs(app, db, world, smtp):
    world.book(timedelta(hours=23))
    now = utcnow()
    for _ in range(3):
        run_job(app, "visit_reminders", now=now)
        run_job(app, "send_outbox", now=now)
    assert sorted(e.envelope_to[0] for e in smtp.messages) == ["member@example.org", "resident@example.org"]
    # The e-mail carries the page's full address (from SERVER_NAME or PUBLIC_URL).
    assert all("http://localhost/visits/visits/" in e.get_content() for e in smtp.messages)


def test_the_reminder_is_in_the_recipients_language(app, db, world):
    world.book(timedelta(hours=23))
    run_job(app, "visit_reminders", now=utcnow())
    by_user = {m.user_id: m for m in messages(db, "visit-24h:")}
    english = by_user[world.member.id]
    vietnamese = by_user[world.resident.id]  # locale "vi"
    assert english.subject.startswith("Reminder: ")
    assert "Hello, Member En" in english.body
    assert vietnamese.body != english.body
    with force_locale("vi"):
        assert str(SKILL_TITLES["eid"]) in vietnamese.body


def _request(world, db, *, unit, created_at, skill="eid"):
    request = create_help_request(
        world.manager,
        skill=skill,
        unit=unit,
        place="Đầu ngõ 3",
        name="Bà Lan",
        phone=None,
        note=None,
        preferred_times="Buổi tối",
        consent=True,
    )
    request.created_at = created_at
    db.session.flush()
    return request


def test_the_daily_digest_lists_new_requests_of_the_commune_once_a_day(app, db, world, units, make_user):
    other_manager = make_user("commune_manager", units["c2"], email="m2@example.org")
    now = utcnow()
    _request(world, db, unit=units["v1a"], created_at=now - timedelta(hours=3))
    _request(world, db, unit=units["c1"], created_at=now - timedelta(hours=2), skill="cashless")
    old = _request(world, db, unit=units["v1b"], created_at=now - timedelta(days=3))
    handled = _request(world, db, unit=units["v1b"], created_at=now - timedelta(hours=1))
    handled.status = "cancelled"
    db.session.flush()

    for _ in range(3):
        run_job(app, "daily_digests", now=now)

    digests = messages(db, "digest:")
    # C1's team members and C1's manager; C2 had no new request; nobody twice.
    assert sorted(m.user_id for m in digests) == sorted([world.member.id, world.member_bn.id, world.manager.id])
    assert other_manager.id not in {m.user_id for m in digests}
    english = next(m for m in digests if m.user_id == world.member.id)
    assert english.subject.startswith("2 new help requests")
    assert "E-ID app (VNeID)" in english.body
    assert "Cashless payment" in english.body
    assert "Buổi tối" in english.body
    assert english.link == "/visits/triage"
    assert old.created_at < now - timedelta(days=1)
    for message in digests:
        if message.user_id != world.member.id:
            assert message.subject != english.subject  # vi and bn differ from English

    # The next day: only what is new since the previous digest.
    tomorrow = now + timedelta(days=1)
    _request(world, db, unit=units["v1a"], created_at=now + timedelta(hours=5), skill="safety")
    run_job(app, "daily_digests", now=tomorrow)
    run_job(app, "daily_digests", now=tomorrow + timedelta(hours=1))
    latest = messages(db, f"digest:{world.member.id}:")
    assert len(latest) == 2
    assert latest[-1].subject.startswith("1 new help request ")
    assert "Scams and online safety" in latest[-1].body
    assert "Cashless payment" not in latest[-1].body


def test_no_digest_when_nothing_is_new(app, db, world):
    run_job(app, "daily_digests", now=utcnow())
    assert messages(db, "digest:") == []
    assert db.session.scalar(select(HelpRequest.id)) is None


def test_the_outcome_nudge_comes_48_hours_after_the_visit_once(app, db, world):
    visit = world.book(timedelta(hours=2))
    done = world.book(timedelta(hours=4))
    done.status = "done"  # completed (complete_visit refuses visits not yet started)
    db.session.flush()

    run_job(app, "outcome_nudges", now=visit.ends_at + timedelta(hours=47))
    assert messages(db, "nudge:") == []
    for hours in (49, 50, 51):
        run_job(app, "outcome_nudges", now=visit.ends_at + timedelta(hours=hours))

    [nudge] = messages(db, "nudge:")
    assert nudge.key == f"nudge:{visit.id}"
    assert nudge.user_id == world.member.id
    assert nudge.subject.startswith("Please record the outcome of your visit on ")
    assert nudge.link == f"/visits/visits/{visit.id}"


def test_run_once_from_the_command_line(app, db, world):
    world.book(timedelta(hours=23))
    at = utcnow().isoformat()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run-once", "visit_reminders", "--at", at])
    assert result.exit_code == 0, result.output
    assert "visit_reminders: 2" in result.output
    result = runner.invoke(args=["jobs", "run-once", "visit_reminders", "--at", at])
    assert "visit_reminders: 0" in result.output
    result = runner.invoke(args=["jobs", "run-once", "visit_reminders", "--at", "tomorrow"])
    assert result.exit_code != 0
    result = runner.invoke(args=["jobs", "run-once", "no_such_job"])
    assert result.exit_code != 0
