"""Each member's monthly figures — visits, sessions, hours, residents helped, milestones
confirmed — and the ledger a person sees (their area's members and teams, or their own row). A
closed month is frozen, so it can back support payments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, local_today
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import ClosedMonth, LedgerMonth, MilestoneEvidence
from app.units.models import Unit, path_within
from app.visits.models import GroupSession, SessionSignup, Team, TeamMember, Visit


@dataclass
class LedgerRow:
    member_id: int
    month: date
    visits: int = 0
    sessions: int = 0
    hours_minutes: int = 0
    residents_helped: int = 0
    milestones_confirmed: int = 0
    closed: bool = False

    @property
    def hours(self) -> float:
        return round(self.hours_minutes / 60, 2)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(month, time(0), tzinfo=LOCAL_TZ),
        datetime.combine(next_month(month), time(0), tzinfo=LOCAL_TZ),
    )


def is_closed(month: date) -> bool:
    return db.session.get(ClosedMonth, month_start(month)) is not None


def live_row(member_id: int, month: date) -> LedgerRow:
    return live_rows([member_id], month)[member_id]


#: Members counted per round of queries (keeps every IN list well inside SQLite's limits).
_MEMBERS_PER_QUERY = 500


def live_rows(member_ids: list[int], month: date) -> dict[int, LedgerRow]:
    """The month's live figures of every member given, in four queries per 500 members (not per
    member: a province-wide ledger has thousands)."""
    rows = {member_id: LedgerRow(member_id, month) for member_id in member_ids}
    helped: dict[int, set[str]] = {member_id: set() for member_id in member_ids}
    start, end = month_bounds(month)
    for first in range(0, len(member_ids), _MEMBERS_PER_QUERY):
        chunk = member_ids[first : first + _MEMBERS_PER_QUERY]
        visits = db.session.execute(
            select(
                Visit.member_id,
                Visit.id,
                Visit.minutes_spent,
                Visit.resident_record_id,
                Visit.resident_id,
                Visit.request_id,
            ).where(
                Visit.member_id.in_(chunk),
                Visit.status == "done",
                Visit.starts_at >= start,
                Visit.starts_at < end,
            )
        )
        for member_id, visit_id, minutes, record_id, resident_id, request_id in visits:
            row = rows[member_id]
            row.visits += 1
            row.hours_minutes += minutes or 0
            if record_id:
                helped[member_id].add(f"r{record_id}")
            elif resident_id:
                helped[member_id].add(f"u{resident_id}")
            elif request_id:
                helped[member_id].add(f"q{request_id}")
            else:
                helped[member_id].add(f"v{visit_id}")
        in_month = (
            GroupSession.host_id.in_(chunk),
            GroupSession.cancelled_at.is_(None),
            GroupSession.starts_at >= start,
            GroupSession.starts_at < end,
        )
        for host_id, starts_at, ends_at in db.session.execute(
            select(GroupSession.host_id, GroupSession.starts_at, GroupSession.ends_at).where(*in_month)
        ):
            rows[host_id].sessions += 1
            rows[host_id].hours_minutes += int((ends_at - starts_at).total_seconds() // 60)
        attended = db.session.execute(
            select(GroupSession.host_id, SessionSignup.user_id)
            .join(SessionSignup, SessionSignup.session_id == GroupSession.id)
            .where(*in_month, SessionSignup.attended.is_(True))
        )
        for host_id, user_id in attended:
            helped[host_id].add(f"u{user_id}")
        milestones = db.session.execute(
            select(MilestoneEvidence.helped_by_id, func.count(MilestoneEvidence.id))
            .where(
                MilestoneEvidence.helped_by_id.in_(chunk),
                MilestoneEvidence.on_date >= month,
                MilestoneEvidence.on_date < next_month(month),
            )
            .group_by(MilestoneEvidence.helped_by_id)
        )
        for member_id, count in milestones:
            rows[member_id].milestones_confirmed = count
    for member_id, row in rows.items():
        row.residents_helped = len(helped[member_id])
    return rows


def ledger(members: list[User], month: date) -> list[LedgerRow]:
    """The month's rows: frozen figures for a closed month, live figures otherwise."""
    month = month_start(month)
    if is_closed(month):
        frozen = {
            row.member_id: row
            for row in db.session.scalars(
                select(LedgerMonth).where(
                    LedgerMonth.month == month, LedgerMonth.member_id.in_([m.id for m in members])
                )
            )
        }
        rows = []
        for member in members:
            saved = frozen.get(member.id)
            if saved is None:
                rows.append(LedgerRow(member.id, month, closed=True))
            else:
                rows.append(
                    LedgerRow(
                        member.id,
                        month,
                        saved.visits,
                        saved.sessions,
                        saved.hours_minutes,
                        saved.residents_helped,
                        saved.milestones_confirmed,
                        closed=True,
                    )
                )
        return rows
    live = live_rows([member.id for member in members], month)
    return [live[member.id] for member in members]


@dataclass
class LedgerPage:
    month: date
    unit: Unit | None
    closed: bool
    #: (member, row), by name.
    members: list[tuple[User, LedgerRow]]
    #: (team, sum of its members' rows), by unit and name; empty for a member's own view.
    teams: list[tuple[Team, LedgerRow]]
    total: LedgerRow | None


def sees_others(actor: User) -> bool:
    """Managers and the department see their area's members; a member sees their own row."""
    return authz.has_permission(actor, "reports.view")


def summed(rows: list[LedgerRow], month: date, closed: bool) -> LedgerRow:
    total = LedgerRow(0, month, closed=closed)
    for row in rows:
        total.visits += row.visits
        total.sessions += row.sessions
        total.hours_minutes += row.hours_minutes
        total.residents_helped += row.residents_helped
        total.milestones_confirmed += row.milestones_confirmed
    return total


def ledger_page(actor: User, month: date, unit: Unit | None) -> LedgerPage:
    """The month's ledger as `actor` sees it: the members and teams of their area (under `unit`
    when given) with the area's total, or only their own row."""
    closed = is_closed(month)
    if not sees_others(actor):
        (row,) = ledger([actor], month)
        return LedgerPage(month, unit, closed, [(actor, row)], [], None)
    in_area = authz.unit_scope_filter(actor, Unit.path)
    if unit is not None:
        in_area = in_area & path_within(Unit.path, unit.path)
    members = list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .options(contains_eager(User.unit))
            .where(User.role == "tech_team", in_area)
            .order_by(User.full_name, User.id)
        )
    )
    teams = list(
        db.session.scalars(
            select(Team)
            .join(Unit, Unit.id == Team.unit_id)
            .where(in_area)
            .options(selectinload(Team.unit), selectinload(Team.members).selectinload(TeamMember.user))
            .order_by(Unit.path, Team.name, Team.id)
        )
    )
    people = {member.id: member for member in members}
    for team in teams:
        for membership in team.members:
            people.setdefault(membership.user_id, membership.user)
    rows = {row.member_id: row for row in ledger(list(people.values()), month)}
    return LedgerPage(
        month,
        unit,
        closed,
        [(member, rows[member.id]) for member in members],
        [(team, summed([rows[m.user_id] for m in team.members], month, closed)) for team in teams],
        summed([rows[member.id] for member in members], month, closed),
    )


def may_close(actor: User, month: date, *, closed: bool) -> bool:
    """Is closing `month` (`closed` already or not) offered to `actor`: an administrator, a
    month that has ended and is still open."""
    return authz.has_permission(actor, "ledger.close") and not closed and next_month(month) <= local_today()


def close_month(actor: User, month: date, members: list[User]) -> int:
    """Freeze `month` for every member given (all tech-team members, normally). Only past months
    can be closed, each once. Returns the number of rows frozen."""
    if not authz.has_permission(actor, "ledger.close"):
        raise NotAllowed(_("Only an administrator closes a month."))
    month = month_start(month)
    if next_month(month) > local_today():
        raise Invalid(_("Only a month that has ended can be closed."), field="month")
    if is_closed(month):
        raise Conflict(_("This month is already closed."))
    db.session.add(ClosedMonth(month=month, closed_by_id=actor.id))
    live = live_rows([member.id for member in members], month)
    for member in members:
        values = asdict(live[member.id])
        values.pop("closed")
        db.session.add(LedgerMonth(closed_by_id=actor.id, **values))
    db.session.flush()
    record("ledger_month_closed", actor=actor, details={"month": month.isoformat(), "members": len(members)})
    return len(members)
