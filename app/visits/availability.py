"""When members are free: weekly windows, date exceptions, existing visits, travel buffers and a
daily cap, turned into bookable slots.

All arithmetic is done in local time (Asia/Ho_Chi_Minh, which has no daylight saving) on
aware datetimes; results are returned as aware datetimes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.db import LOCAL_TZ
from app.extensions import db
from app.units.models import Unit, path_within
from app.visits.models import (
    ACTIVE_VISIT_STATUSES,
    AvailabilityException,
    GroupSession,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    member: User
    start: datetime
    end: datetime


def local_dt(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ) + timedelta(minutes=minute)


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping; touching intervals are joined (22:00–24:00 and 00:00–01:00 make
    one window across midnight)."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    result = []
    for start, end in free:
        pieces = [(start, end)]
        for b_start, b_end in busy:
            next_pieces = []
            for p_start, p_end in pieces:
                if b_end <= p_start or b_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if b_start > p_start:
                    next_pieces.append((p_start, b_start))
                if b_end < p_end:
                    next_pieces.append((b_end, p_end))
            pieces = next_pieces
        result.extend(pieces)
    return merge(result)


def members_for(unit: Unit, skill: str | None = None) -> list[User]:
    """Active tech-team members of the teams in `unit`'s commune (or ward), with `skill`."""
    commune = unit.commune() or unit
    rows = db.session.execute(
        select(TeamMember, User)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .join(User, User.id == TeamMember.user_id)
        .where(path_within(Unit.path, commune.path), User.active.is_(True))
    ).all()
    members: dict[int, User] = {}
    for membership, user in rows:
        if skill is None or skill in (membership.skills or []):
            members[user.id] = user
    return sorted(members.values(), key=lambda user: (user.full_name, user.id))


def free_windows(user_id: int, start: datetime, end: datetime) -> list[Interval]:
    """The member's availability between `start` and `end` (weekly windows plus extra hours,
    minus away dates), merged across midnight."""
    first_day = start.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    last_day = end.astimezone(LOCAL_TZ).date() + timedelta(days=1)
    weekly = defaultdict(list)
    for window in db.session.scalars(select(WeeklyAvailability).where(WeeklyAvailability.user_id == user_id)):
        weekly[window.weekday].append((window.start_minute, window.end_minute))
    exceptions = defaultdict(list)
    for exception in db.session.scalars(
        select(AvailabilityException).where(
            AvailabilityException.user_id == user_id,
            AvailabilityException.on_date >= first_day,
            AvailabilityException.on_date <= last_day,
        )
    ):
        exceptions[exception.on_date].append(exception)

    windows: list[Interval] = []
    away: list[Interval] = []
    day = first_day
    while day <= last_day:
        for s, e in weekly.get(day.weekday(), []):
            windows.append((local_dt(day, s), local_dt(day, e)))
        for exception in exceptions.get(day, []):
            if exception.kind == "extra":
                windows.append((local_dt(day, exception.start_minute), local_dt(day, exception.end_minute)))
            elif exception.start_minute is None:
                away.append((local_dt(day, 0), local_dt(day, 1440)))
            else:
                away.append((local_dt(day, exception.start_minute), local_dt(day, exception.end_minute)))
        day += timedelta(days=1)
    clipped = [(max(s, start), min(e, end)) for s, e in subtract(merge(windows), merge(away))]
    return [(s, e) for s, e in clipped if e > s]


def busy_times(
    user_id: int, start: datetime, end: datetime, buffer: timedelta, *, ignore_visit_id=None
) -> list[Interval]:
    """Active visits and hosted group sessions, each widened by the travel buffer."""
    visits = db.session.scalars(
        select(Visit).where(
            Visit.member_id == user_id,
            Visit.status.in_(ACTIVE_VISIT_STATUSES),
            Visit.starts_at < end + buffer,
            Visit.ends_at > start - buffer,
        )
    )
    sessions = db.session.scalars(
        select(GroupSession).where(
            GroupSession.host_id == user_id,
            GroupSession.cancelled_at.is_(None),
            GroupSession.starts_at < end + buffer,
            GroupSession.ends_at > start - buffer,
        )
    )
    busy = [(v.starts_at - buffer, v.ends_at + buffer) for v in visits if v.id != ignore_visit_id]
    busy += [(s.starts_at - buffer, s.ends_at + buffer) for s in sessions]
    return merge(busy)


def visits_per_day(user_id: int, start: datetime, end: datetime, *, ignore_visit_id=None) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for visit_id, starts_at in db.session.execute(
        select(Visit.id, Visit.starts_at).where(
            Visit.member_id == user_id,
            Visit.status.in_(ACTIVE_VISIT_STATUSES),
            Visit.starts_at >= start - timedelta(days=1),
            Visit.starts_at < end + timedelta(days=1),
        )
    ):
        if visit_id != ignore_visit_id:
            counts[starts_at.astimezone(LOCAL_TZ).date()] += 1
    return counts


def find_slots(
    unit: Unit,
    skill: str,
    start: datetime,
    end: datetime,
    duration: timedelta,
    *,
    buffer: timedelta,
    daily_cap: int,
    step: timedelta = timedelta(minutes=30),
    not_before: datetime | None = None,
    limit: int = 200,
) -> list[Slot]:
    """Free slots of `duration` between `start` and `end` for the members who have `skill`.

    A slot lies inside the member's availability, keeps `buffer` from their other visits and
    sessions, starts on the `step` grid (local time), and is not on a day on which the member
    already has `daily_cap` visits.
    """
    if not_before is not None:
        start = max(start, not_before)
    slots: list[Slot] = []
    for member in members_for(unit, skill):
        free = subtract(free_windows(member.id, start, end), busy_times(member.id, start, end, buffer))
        per_day = visits_per_day(member.id, start, end)
        for window_start, window_end in free:
            t = _align(window_start, step)
            while t + duration <= window_end:
                if per_day.get(t.astimezone(LOCAL_TZ).date(), 0) < daily_cap:
                    slots.append(Slot(member, t.astimezone(LOCAL_TZ), (t + duration).astimezone(LOCAL_TZ)))
                t += step
    slots.sort(key=lambda slot: (slot.start, slot.member.full_name, slot.member.id))
    return slots[:limit]


def _align(moment: datetime, step: timedelta) -> datetime:
    """Round up to the step grid counted from local midnight."""
    local = moment.astimezone(LOCAL_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(local - midnight) // step)  # ceiling division
    return midnight + steps * step


def is_within_availability(user_id: int, start: datetime, end: datetime) -> bool:
    return any(s <= start and end <= e for s, e in free_windows(user_id, start, end))
