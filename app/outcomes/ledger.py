"""Each member's monthly figures — visits, sessions, hours, residents helped, milestones
confirmed. A closed month is frozen, so it can back support payments."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

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
    start, end = month_bounds(month)
    row = LedgerRow(member_id, month)
    helped: set[str] = set()
    for visit in db.session.scalars(
        select(Visit).where(
            Visit.member_id == member_id,
            Visit.status == "done",
            Visit.starts_at >= start,
            Visit.starts_at < end,
        )
    ):
        row.visits += 1
        row.hours_minutes += visit.minutes_spent or 0
        if visit.resident_record_id:
            helped.add(f"r{visit.resident_record_id}")
        elif visit.resident_id:
            helped.add(f"u{visit.resident_id}")
        elif visit.request_id:
            helped.add(f"q{visit.request_id}")
        else:
            helped.add(f"v{visit.id}")
    for session in db.session.scalars(
        select(GroupSession).where(
            GroupSession.host_id == member_id,
            GroupSession.cancelled_at.is_(None),
            GroupSession.starts_at >= start,
            GroupSession.starts_at < end,
        )
    ):
        row.sessions += 1
        row.hours_minutes += int((session.ends_at - session.starts_at).total_seconds() // 60)
        for user_id in db.session.scalars(
            select(SessionSignup.user_id).where(
                SessionSignup.session_id == session.id, SessionSignup.attended.is_(True)
            )
        ):
            helped.add(f"u{user_id}")
    row.residents_helped = len(helped)
    row.milestones_confirmed = len(
        db.session.scalars(
            select(MilestoneEvidence.id).where(
                MilestoneEvidence.helped_by_id == member_id,
                MilestoneEvidence.on_date >= month,
                MilestoneEvidence.on_date < next_month(month),
            )
        ).all()
    )
    return row


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
    return [live_row(member.id, month) for member in members]


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
    for member in members:
        row = live_row(member.id, month)
        values = asdict(row)
        values.pop("closed")
        db.session.add(LedgerMonth(closed_by_id=actor.id, **values))
    db.session.flush()
    record("ledger_month_closed", actor=actor, details={"month": month.isoformat(), "members": len(members)})
    return len(members)
