"""The slot finder: weekly availability, exceptions, existing visits and the travel buffer, the
daily cap, the skill filter, windows across midnight, and Vietnam time (UTC+7, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.db import LOCAL_TZ
from app.extensions import db
from app.visits.availability import find_slots
from app.visits.models import (
    AvailabilityException,
    GroupSession,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

MONDAY = date(2030, 1, 7)
TUESDAY = MONDAY + timedelta(days=1)
BUFFER = timedelta(minutes=15)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LOCAL_TZ)


def minute(hhmm: str) -> int:
    hours, minutes = map(int, hhmm.split(":"))
    return hours * 60 + minutes


@pytest.fixture
def team(db, units, make_user):
    """A team in commune C1: Mai (e-ID, cashless) and Nam (phone basics)."""
    team = Team(unit=units["c1"], name="Đội Xã Một")
    mai = make_user("tech_team", units["c1"], full_name="Mai")
    nam = make_user("tech_team", units["v1a"], full_name="Nam")
    db.session.add_all(
        [
            team,
            TeamMember(team=team, user=mai, skills=["eid", "cashless"]),
            TeamMember(team=team, user=nam, skills=["phone_basics"]),
        ]
    )
    db.session.flush()
    team.mai, team.nam = mai, nam
    return team


def weekly(user, weekday: int, start: str, end: str) -> None:
    end_minute = 1440 if end == "24:00" else minute(end)
    db.session.add(
        WeeklyAvailability(user_id=user.id, weekday=weekday, start_minute=minute(start), end_minute=end_minute)
    )
    db.session.flush()


def exception(user, day: date, kind: str, start: str | None = None, end: str | None = None) -> None:
    db.session.add(
        AvailabilityException(
            user_id=user.id,
            on_date=day,
            kind=kind,
            start_minute=minute(start) if start else None,
            end_minute=(1440 if end == "24:00" else minute(end)) if end else None,
        )
    )
    db.session.flush()


def visit(user, unit, day: date, start: str, end: str, status: str = "booked") -> Visit:
    booked = Visit(
        member_id=user.id,
        unit_id=unit.id,
        skill="eid",
        place="Nhà văn hoá",
        starts_at=at(day, start),
        ends_at=at(day, end),
        status=status,
    )
    db.session.add(booked)
    db.session.flush()
    return booked


def slots(unit, skill="eid", start=None, end=None, minutes=60, *, buffer=BUFFER, daily_cap=4, **kwargs):
    return find_slots(
        unit,
        skill,
        start or at(MONDAY, "00:00"),
        end or at(MONDAY + timedelta(days=7), "00:00"),
        timedelta(minutes=minutes),
        buffer=buffer,
        daily_cap=daily_cap,
        **kwargs,
    )


def starts(found) -> list[str]:
    """Local start times as 'Mon 18:00' for readable assertions."""
    return [slot.start.astimezone(LOCAL_TZ).strftime("%a %H:%M") for slot in found]


def test_slots_lie_inside_the_weekly_availability(units, team):
    weekly(team.mai, 1, "18:00", "20:00")  # Tuesday evenings
    found = slots(units["c1"])
    assert starts(found) == ["Tue 18:00", "Tue 18:30", "Tue 19:00"]
    assert all(slot.member == team.mai for slot in found)
    assert all(slot.end - slot.start == timedelta(hours=1) for slot in found)


def test_slots_start_on_the_half_hour_grid_and_stay_inside_the_search_range(units, team):
    weekly(team.mai, 0, "08:10", "10:00")
    assert starts(slots(units["c1"], minutes=30)) == ["Mon 08:30", "Mon 09:00", "Mon 09:30"]
    clipped = slots(units["c1"], start=at(MONDAY, "09:00"), end=at(MONDAY, "09:45"), minutes=30)
    assert starts(clipped) == ["Mon 09:00"]


def test_a_whole_day_away_removes_the_days_slots(units, team):
    weekly(team.mai, 0, "08:00", "10:00")
    weekly(team.mai, 1, "08:00", "10:00")
    exception(team.mai, MONDAY, "away")
    assert starts(slots(units["c1"])) == ["Tue 08:00", "Tue 08:30", "Tue 09:00"]


def test_hours_away_cut_the_window(units, team):
    weekly(team.mai, 0, "08:00", "12:00")
    exception(team.mai, MONDAY, "away", "09:00", "11:00")
    assert starts(slots(units["c1"])) == ["Mon 08:00", "Mon 11:00"]


def test_extra_hours_add_slots_and_join_an_adjacent_window(units, team):
    exception(team.mai, MONDAY + timedelta(days=2), "extra", "14:00", "15:00")  # a Wednesday
    weekly(team.mai, 3, "08:00", "09:00")  # Thursdays …
    exception(team.mai, MONDAY + timedelta(days=3), "extra", "09:00", "10:00")  # … and one hour more
    assert starts(slots(units["c1"])) == ["Wed 14:00", "Thu 08:00", "Thu 08:30", "Thu 09:00"]
    assert starts(slots(units["c1"], minutes=120)) == ["Thu 08:00"]


def test_exceptions_on_other_dates_change_nothing(units, team):
    weekly(team.mai, 0, "08:00", "09:00")
    exception(team.mai, MONDAY + timedelta(days=7), "away")
    exception(team.mai, MONDAY - timedelta(days=7), "away")
    assert starts(slots(units["c1"])) == ["Mon 08:00"]


def test_existing_visits_keep_the_travel_buffer_free(units, team):
    weekly(team.mai, 0, "08:00", "12:00")
    visit(team.mai, units["v1a"], MONDAY, "09:00", "10:00")
    # Busy 08:45–10:15 with the 15-minute buffer on both sides.
    assert starts(slots(units["c1"], minutes=30)) == ["Mon 08:00", "Mon 10:30", "Mon 11:00", "Mon 11:30"]
    assert starts(slots(units["c1"], minutes=30, buffer=timedelta(0))) == [
        "Mon 08:00",
        "Mon 08:30",
        "Mon 10:00",
        "Mon 10:30",
        "Mon 11:00",
        "Mon 11:30",
    ]
    assert starts(slots(units["c1"], minutes=30, buffer=timedelta(minutes=45))) == ["Mon 11:00", "Mon 11:30"]


def test_cancelled_visits_free_their_time_and_done_visits_do_not(units, team):
    weekly(team.mai, 0, "08:00", "10:00")
    visit(team.mai, units["v1a"], MONDAY, "08:00", "09:00", status="cancelled")
    visit(team.mai, units["v1a"], MONDAY, "08:00", "09:00", status="no_show")
    assert starts(slots(units["c1"])) == ["Mon 08:00", "Mon 08:30", "Mon 09:00"]
    visit(team.mai, units["v1a"], MONDAY, "08:00", "08:30", status="done")
    assert starts(slots(units["c1"])) == ["Mon 09:00"]


def test_a_visit_just_after_midnight_blocks_the_evening_before_through_the_buffer(units, team):
    weekly(team.mai, 0, "22:00", "24:00")
    visit(team.mai, units["v1a"], TUESDAY, "00:00", "01:00")
    assert starts(slots(units["c1"], minutes=60)) == ["Mon 22:00", "Mon 22:30"]


def test_group_sessions_the_member_hosts_keep_them_busy(units, team):
    weekly(team.mai, 0, "08:00", "12:00")
    session = GroupSession(
        unit_id=units["v1a"].id,
        title="Buổi sáng",
        place="Nhà văn hoá",
        starts_at=at(MONDAY, "08:00"),
        ends_at=at(MONDAY, "10:00"),
        skills=["eid"],
        capacity=10,
        host_id=team.mai.id,
        created_by_id=team.mai.id,
    )
    db.session.add(session)
    db.session.flush()
    assert starts(slots(units["c1"])) == ["Mon 10:30", "Mon 11:00"]
    session.cancelled_at = datetime.now(UTC)
    db.session.flush()
    assert starts(slots(units["c1"]))[0] == "Mon 08:00"


def test_a_member_with_the_daily_cap_reached_has_no_more_slots_that_day(units, team):
    weekly(team.mai, 0, "08:00", "12:00")
    weekly(team.mai, 1, "08:00", "09:00")
    visit(team.mai, units["v1a"], MONDAY, "08:00", "09:00")
    visit(team.mai, units["v1a"], MONDAY, "10:00", "10:30")
    assert starts(slots(units["c1"], daily_cap=2)) == ["Tue 08:00"]
    assert starts(slots(units["c1"], daily_cap=3)) == ["Mon 11:00", "Tue 08:00"]


def test_the_daily_cap_counts_visits_by_their_local_date(units, team):
    weekly(team.mai, 0, "08:00", "09:00")
    weekly(team.mai, 1, "08:00", "09:00")
    # 00:30 on Tuesday in Vietnam is still Monday (17:30) in UTC: it counts for Tuesday.
    early = visit(team.mai, units["v1a"], TUESDAY, "00:30", "01:00")
    assert early.starts_at.astimezone(UTC).date() == MONDAY
    assert starts(slots(units["c1"], daily_cap=1)) == ["Mon 08:00"]


def test_cancelled_visits_do_not_count_towards_the_cap(units, team):
    weekly(team.mai, 0, "08:00", "09:00")
    visit(team.mai, units["v1a"], MONDAY, "11:00", "12:00", status="cancelled")
    assert starts(slots(units["c1"], daily_cap=1)) == ["Mon 08:00"]


def test_only_members_with_the_skill_are_offered(units, team):
    weekly(team.mai, 0, "08:00", "09:00")
    weekly(team.nam, 0, "10:00", "11:00")
    eid_slots = slots(units["c1"])
    assert [slot.member for slot in eid_slots] == [team.mai] and starts(eid_slots) == ["Mon 08:00"]
    nam_slots = slots(units["v1b"], skill="phone_basics")
    assert [slot.member for slot in nam_slots] == [team.nam] and starts(nam_slots) == ["Mon 10:00"]
    assert slots(units["c1"], skill="selling_online") == []


def test_members_of_another_commune_or_inactive_members_are_not_offered(units, team, make_user):
    other = make_user("tech_team", units["c2"], full_name="Oanh")
    other_team = Team(unit=units["c2"], name="Đội Xã Hai")
    db.session.add_all([other_team, TeamMember(team=other_team, user=other, skills=["eid"])])
    weekly(other, 0, "08:00", "09:00")
    weekly(team.mai, 0, "08:00", "09:00")
    assert [slot.member for slot in slots(units["v1a"])] == [team.mai]
    assert [slot.member for slot in slots(units["c2"])] == [other]
    team.mai.active = False
    db.session.flush()
    assert slots(units["c1"]) == []


def test_two_members_with_the_skill_are_both_offered_in_time_order(units, team):
    next(m for m in team.members if m.user == team.nam).skills = ["phone_basics", "eid"]
    db.session.flush()
    weekly(team.mai, 0, "09:00", "10:00")
    weekly(team.nam, 0, "08:00", "10:00")
    found = slots(units["c1"])
    assert [(s, slot.member.full_name) for s, slot in zip(starts(found), found, strict=True)] == [
        ("Mon 08:00", "Nam"),
        ("Mon 08:30", "Nam"),
        ("Mon 09:00", "Mai"),
        ("Mon 09:00", "Nam"),
    ]


def test_a_window_across_midnight_gives_a_slot_that_crosses_it(units, team):
    weekly(team.mai, 0, "22:00", "24:00")  # Monday 22:00 to midnight …
    weekly(team.mai, 1, "00:00", "01:00")  # … and Tuesday midnight to 01:00
    found = slots(units["c1"], minutes=60)
    assert starts(found) == ["Mon 22:00", "Mon 22:30", "Mon 23:00", "Mon 23:30", "Tue 00:00"]
    crossing = found[3]
    assert crossing.start == at(MONDAY, "23:30") and crossing.end == at(TUESDAY, "00:30")
    assert crossing.start.astimezone(UTC) == datetime(2030, 1, 7, 16, 30, tzinfo=UTC)


def test_without_the_next_mornings_hour_the_evening_ends_at_midnight(units, team):
    weekly(team.mai, 0, "22:00", "24:00")
    assert starts(slots(units["c1"], minutes=60)) == ["Mon 22:00", "Mon 22:30", "Mon 23:00"]


def test_a_search_range_starting_late_at_night_still_sees_the_window_across_midnight(units, team):
    weekly(team.mai, 0, "22:00", "24:00")
    weekly(team.mai, 1, "00:00", "01:00")
    # The range is given in UTC: 16:00–18:30 UTC is 23:00 Monday to 01:30 Tuesday in Vietnam.
    found = slots(
        units["c1"], start=datetime(2030, 1, 7, 16, 0, tzinfo=UTC), end=datetime(2030, 1, 7, 18, 30, tzinfo=UTC)
    )
    assert starts(found) == ["Mon 23:00", "Mon 23:30", "Tue 00:00"]


@pytest.mark.parametrize("day", [date(2030, 1, 7), date(2030, 7, 1), date(2030, 3, 31), date(2030, 10, 28)])
def test_times_are_vietnam_time_all_year_round(units, team, day):
    """Asia/Ho_Chi_Minh is UTC+7 with no daylight saving: 08:00 local is 01:00 UTC in winter and
    in summer, and across the dates other countries change their clocks."""
    weekly(team.mai, day.weekday(), "08:00", "09:00")
    found = slots(units["c1"], start=at(day, "00:00"), end=at(day + timedelta(days=1), "00:00"))
    assert len(found) == 1
    slot = found[0]
    assert slot.start.utcoffset() == timedelta(hours=7)
    assert slot.start.isoformat() == f"{day.isoformat()}T08:00:00+07:00"
    assert slot.start.astimezone(UTC) == datetime.combine(day, time(1, 0), tzinfo=UTC)
    assert slot.end.astimezone(UTC) == datetime.combine(day, time(2, 0), tzinfo=UTC)


def test_slots_before_not_before_are_left_out(units, team):
    weekly(team.mai, 0, "08:00", "10:00")
    assert starts(slots(units["c1"], not_before=at(MONDAY, "08:10"))) == ["Mon 08:30", "Mon 09:00"]
