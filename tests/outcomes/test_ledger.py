"""The member ledger: monthly figures, frozen once a month is closed."""

from datetime import date, datetime, timedelta

import pytest

from app.exceptions import Conflict, Invalid, NotAllowed
from app.outcomes import ledger, operations
from app.outcomes.residents import add_resident
from app.visits.availability import LOCAL
from app.visits.models import GroupSession, SessionSignup, Visit


def last_month() -> date:
    return ledger.month_start(ledger.month_start(operations.local_today()) - timedelta(days=1))


def add_done_visit(db, member, unit, start, minutes, resident_record=None):
    visit = Visit(
        member_id=member.id,
        unit_id=unit.id,
        skill="eid",
        place="x",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status="done",
        minutes_spent=minutes,
        resident_record_id=resident_record.id if resident_record else None,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def test_the_ledger_counts_visits_sessions_hours_people_and_milestones(db, units, team, milestones, make_user):
    member = team[0]
    month = last_month()
    day = datetime.combine(month + timedelta(days=3), datetime.min.time(), tzinfo=LOCAL)
    lan = add_resident(member, village=units["v1a"], full_name="Lan", consent=True)
    add_done_visit(db, member, units["v1a"], day.replace(hour=9), 45, lan)
    add_done_visit(db, member, units["v1a"], day.replace(hour=14), 30, lan)  # the same person again
    add_done_visit(db, team[1], units["v1a"], day.replace(hour=9), 60)  # someone else's
    attendee = make_user("resident", units["v1a"])
    session = GroupSession(
        unit_id=units["v1a"].id,
        title="Buổi hỗ trợ",
        place="Nhà văn hóa",
        starts_at=day.replace(hour=8),
        ends_at=day.replace(hour=10),
        skills=["eid"],
        capacity=10,
        signed_up=1,
        host_id=member.id,
        created_by_id=member.id,
    )
    session.signups = [SessionSignup(user_id=attendee.id, attended=True)]
    db.session.add(session)
    operations.record_milestone(
        member,
        lan,
        milestones["eid_installed"],
        on_date=month + timedelta(days=3),
        confirmation="seen_on_phone",
        helped_by=member,
    )
    (row,) = ledger.ledger([member], month)
    assert (row.visits, row.sessions, row.hours_minutes, row.residents_helped, row.milestones_confirmed) == (
        2,
        1,
        45 + 30 + 120,
        2,
        1,
    )
    assert row.closed is False


def test_a_closed_month_does_not_change(db, units, team, make_user):
    admin = make_user("admin", units["province"])
    member = team[0]
    month = last_month()
    start = datetime.combine(month + timedelta(days=5), datetime.min.time(), tzinfo=LOCAL).replace(hour=9)
    visit = add_done_visit(db, member, units["v1a"], start, 40)
    assert ledger.close_month(admin, month, team) == 2
    # A late correction to a visit of the closed month…
    visit.minutes_spent = 400
    add_done_visit(db, member, units["v1a"], start.replace(hour=15), 30)
    (row,) = ledger.ledger([member], month)
    # …does not change the frozen figures.
    assert (row.visits, row.hours_minutes, row.closed) == (1, 40, True)
    assert ledger.live_row(member.id, month).visits == 2
    with pytest.raises(Conflict):
        ledger.close_month(admin, month, team)


def test_only_ended_months_are_closed_and_only_by_an_admin(db, units, team, make_user):
    admin = make_user("admin", units["province"])
    with pytest.raises(Invalid):
        ledger.close_month(admin, operations.local_today(), team)
    with pytest.raises(NotAllowed):
        ledger.close_month(make_user("commune_manager", units["c1"]), last_month(), team)
