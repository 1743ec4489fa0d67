"""The teams' promise to call: how many help requests were contacted within it.

Counted from the requests themselves rather than from summary tables, because whether a promise
has passed depends on the moment one asks. A request *counts* once the team has contacted the
person (app.visits.help_requests says what contacted means), or once its promise has ended with no
contact; a request the person cancelled before the promise ended, uncontacted, does not count. It
is *in time* when the first contact came before the promise ended. Requests count in the period
they were filed in.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, not_, or_, select

from app.db import utcnow
from app.extensions import db
from app.units.models import Unit
from app.visits.models import HelpRequest


def promise_sums(now: datetime):
    """SQL sums of the requests that count and of those contacted in time."""
    contacted = HelpRequest.first_contacted_at.is_not(None)
    withdrawn = and_(HelpRequest.status == "cancelled", HelpRequest.closed_at < HelpRequest.contact_due_at)
    counts = and_(
        HelpRequest.contact_due_at.is_not(None),
        or_(contacted, and_(HelpRequest.contact_due_at <= now, not_(withdrawn))),
    )
    in_time = and_(
        contacted, HelpRequest.contact_due_at.is_not(None), HelpRequest.first_contacted_at < HelpRequest.contact_due_at
    )
    return func.sum(case((counts, 1), else_=0)), func.sum(case((in_time, 1), else_=0))


def promise_note() -> str:
    return _(
        "Called within the promise: of the requests whose team's promise to call has ended or that "
        "were contacted, the share contacted in time (booked, called, or marked could not reach)."
    )


def share(in_time: int, counted: int) -> float | None:
    return in_time / counted if counted else None


def promise_by_unit(
    units: list[Unit], start: datetime | None = None, end: datetime | None = None, *, now: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """(requests that count, of which contacted in time) for each of `units`, each over its
    whole subtree, for requests filed from `start` to before `end`: one grouped query."""
    result = {unit.id: (0, 0) for unit in units}
    if not units:
        return result
    paths = sorted({unit.path for unit in units}, key=len)
    tops = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    counted, in_time = promise_sums(now or utcnow())
    query = (
        select(Unit.path, counted, in_time)
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(or_(*(Unit.path.startswith(path, autoescape=True) for path in tops)))
        .group_by(Unit.path)
    )
    if start is not None:
        query = query.where(HelpRequest.created_at >= start)
    if end is not None:
        query = query.where(HelpRequest.created_at < end)
    rows = [(path, int(c or 0), int(t or 0)) for path, c, t in db.session.execute(query)]
    for unit in units:
        inside = [(c, t) for path, c, t in rows if path.startswith(unit.path)]
        result[unit.id] = (sum(c for c, _t in inside), sum(t for _c, t in inside))
    return result
