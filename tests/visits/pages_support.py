"""A small commune with a tech team, used by the agenda, calendar-feed and session tests."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

from app.db import LOCAL_TZ, utcnow
from app.visits import group_sessions, operations
from app.visits.models import Team, TeamMember, WeeklyAvailability


def local_day(days_ahead: int):
    return (utcnow().astimezone(LOCAL_TZ) + timedelta(days=days_ahead)).date()


def at(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    """A local (Asia/Ho_Chi_Minh) time `days_ahead` days from today."""
    return datetime.combine(local_day(days_ahead), time(hour, minute), tzinfo=LOCAL_TZ)


def build_world(db, units, make_user) -> SimpleNamespace:
    """Two communes, each with a team; members available every day 07:00–21:00."""
    w = SimpleNamespace(units=units)
    w.member = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ", locale="en")
    w.colleague = make_user("tech_team", units["c1"], full_name="Lê Thị Hai")
    w.member_c2 = make_user("tech_team", units["c2"], full_name="Phạm Văn Ba")
    w.manager = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    w.manager_c2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    w.department = make_user("department_manager", units["province"], full_name="Sở TTTT")
    w.resident = make_user("resident", units["v1a"], full_name="Bà Năm Mười", phone="0912345678")
    w.resident2 = make_user("resident", units["v1b"], full_name="Ông Sáu")
    w.resident3 = make_user("resident", units["v1a"], full_name="Cô Bảy")
    w.resident_c2 = make_user("resident", units["v2a"], full_name="Chú Tám")
    team = Team(unit=units["c1"], name="Tổ công nghệ số xã Một")
    team_c2 = Team(unit=units["c2"], name="Tổ công nghệ số xã Hai")
    db.session.add_all([team, team_c2])
    db.session.flush()
    db.session.add_all(
        [
            TeamMember(team_id=team.id, user_id=w.member.id, skills=["eid", "cashless"], is_leader=True),
            TeamMember(team_id=team.id, user_id=w.colleague.id, skills=["eid", "safety"]),
            TeamMember(team_id=team_c2.id, user_id=w.member_c2.id, skills=["eid"]),
        ]
    )
    for user in (w.member, w.colleague, w.member_c2):
        db.session.add_all(
            [
                WeeklyAvailability(user_id=user.id, weekday=day, start_minute=7 * 60, end_minute=21 * 60)
                for day in range(7)
            ]
        )
    db.session.flush()
    w.team, w.team_c2 = team, team_c2
    return w


def book(
    w, member=None, start=None, *, minutes=60, skill="eid", place="Nhà văn hoá thôn 1A", resident=None, anytime=False
):
    """Book through the operation, as the commune's manager. `anytime` sets the member's hours,
    travel buffer and daily cap aside (for tests about something else that need a visit at an
    odd hour or back to back)."""
    member = member or w.member
    resident = resident or (w.resident_c2 if member is w.member_c2 else w.resident)
    booked_by = w.manager_c2 if member is w.member_c2 else w.manager
    visit = operations.book_visit(
        member,
        start or at(1, 10),
        minutes,
        skill=skill,
        place=place,
        booked_by=booked_by,
        resident=resident,
        override=anytime,
        override_reason="Giờ hẹn riêng" if anytime else None,
    )
    return visit


def move_to_past(db, item, hours: int = 3) -> None:
    """Make a visit or session have started already (operations refuse past starts)."""
    length = item.ends_at - item.starts_at
    item.starts_at = utcnow() - timedelta(hours=hours)
    item.ends_at = item.starts_at + length
    db.session.flush()


def plan_session(w, *, capacity=2, start=None, unit=None, host=None, title="Sáng Chủ nhật: VNeID"):
    return group_sessions.create_group_session(
        w.member,
        unit=unit or w.units["v1a"],
        title=title,
        place="Nhà văn hoá thôn 1A",
        starts_at=start or at(2, 8),
        duration_minutes=120,
        skills=["eid"],
        capacity=capacity,
        host=host or w.member,
    )
