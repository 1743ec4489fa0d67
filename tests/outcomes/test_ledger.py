"""The member ledger: monthly figures, frozen once a month is closed."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.db import LOCAL_TZ, local_today
from app.exceptions import Conflict, Invalid, NotAllowed
from app.outcomes import ledger, operations
from app.outcomes.residents import add_resident
from app.visits.models import GroupSession, SessionSignup, Visit


def last_month() -> date:
    return ledger.month_start(ledger.month_start(local_today()) - timedelta(days=1))


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
    day = datetime.combine(month + timedelta(days=3), datetime.min.time(), tzinfo=LOCAL_TZ)
    lan = add_resident(member, village=units["v1a"], full_name="Lan", legal_basis="state_task")
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
    start = datetime.combine(month + timedelta(days=5), datetime.min.time(), tzinfo=LOCAL_TZ).replace(hour=9)
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
        ledger.close_month(admin, local_today(), team)
    with pytest.raises(NotAllowed):
        ledger.close_month(make_user("commune_manager", units["c1"]), last_month(), team)


def test_many_members_are_counted_together_as_each_alone_in_a_fixed_number_of_queries(db, units, make_user):
    """A province-wide ledger has thousands of members: their figures come from a few queries,
    the same as computing each member's alone."""
    month = last_month()
    day = datetime.combine(month + timedelta(days=8), datetime.min.time(), tzinfo=LOCAL_TZ)
    members = [make_user("tech_team", units["v1a"]) for _ in range(8)]
    for n, member in enumerate(members):
        for hour in range(n % 3):
            add_done_visit(db, member, units["v1a"], day.replace(hour=8 + hour), 20 + n)
        if n % 2:
            session = GroupSession(
                unit_id=units["v1a"].id,
                title="Buổi hỗ trợ",
                place="Nhà văn hóa",
                starts_at=day.replace(hour=14),
                ends_at=day.replace(hour=15),
                skills=["eid"],
                capacity=10,
                signed_up=1,
                host_id=member.id,
                created_by_id=member.id,
            )
            session.signups = [SessionSignup(user_id=make_user("resident", units["v1a"]).id, attended=True)]
            db.session.add(session)
    db.session.flush()

    def statements_for(people):
        sent = []
        record = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(Engine, "before_cursor_execute", record)
        try:
            rows = ledger.ledger(people, month)
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        return len(sent), rows

    few, _rows = statements_for(members[:2])
    many, rows = statements_for(members)
    assert many == few
    alone = [ledger.live_row(member.id, month) for member in members]
    assert rows == alone
    assert [row.visits for row in rows] == [n % 3 for n in range(8)]
    assert [row.sessions for row in rows] == [n % 2 for n in range(8)]
    assert [row.residents_helped for row in rows] == [n % 3 + n % 2 for n in range(8)]
