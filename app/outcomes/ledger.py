"""Each member's monthly figures — visits, sessions, hours, residents helped, milestones
confirmed. A closed month is frozen, so it can back support payments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import ClosedMonth, LedgerMonth, MilestoneEvidence
from app.outcomes.operations import local_today
from app.visits.availability import LOCAL
from app.visits.models import GroupSession, SessionSignup, Visit


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
        datetime.combine(month, time(0), tzinfo=LOCAL),
        datetime.combine(next_month(month), time(0), tzinfo=LOCAL),
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
