"""The teams' promise to call: how many help requests were contacted within it.

Counted from the requests themselves rather than from summary tables, because whether a promise
has passed depends on the moment one asks. A request *counts* once the team has contacted the
person (app.visits.help_requests says what contacted means), or once its promise has ended with no
contact; a request the person cancelled before the promise ended, uncontacted, does not count. It
is *in time* when the first contact came before the promise ended. Requests count in the period
they were filed in.

A request whose standing can no longer change with time — contacted, or cancelled uncontacted
after its promise ended — is *settled*, and is counted in the summary tables PromiseStat and
PromiseTotal, by the week it was filed, as it settles (`track_settled`, on every flush that
changes a request, whatever door changed it). Only the requests still waiting for a first call
are counted from the requests table when one asks, so the dashboards read a few rows per area.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, event, func, inspect, not_, or_, select
from sqlalchemy.orm import Session

from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.reports.models import PromiseStat
from app.reports.summaries import bump, period_sums, summary_rows, week_of
from app.units.models import Unit, path_within
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


def settled(contact_due_at, first_contacted_at, status, closed_at) -> tuple[int, int]:
    """(counts, in time) of a request as the summary tables hold it: (1, 0 or 1) once contacted,
    (1, 0) once cancelled uncontacted at or after the end of its promise, else (0, 0) — no promise,
    withdrawn in time, or still waiting (counted live)."""
    if contact_due_at is None:
        return 0, 0
    if first_contacted_at is not None:
        return 1, int(first_contacted_at < contact_due_at)
    if status == "cancelled" and closed_at is not None and closed_at >= contact_due_at:
        return 1, 0
    return 0, 0


def settled_sums():
    """settled() in SQL: sums of counts and of in time over requests (for the recount)."""
    contacted = HelpRequest.first_contacted_at.is_not(None)
    late_cancel = and_(HelpRequest.status == "cancelled", HelpRequest.closed_at >= HelpRequest.contact_due_at)
    has_promise = HelpRequest.contact_due_at.is_not(None)
    counts = and_(has_promise, or_(contacted, late_cancel))
    in_time = and_(has_promise, contacted, HelpRequest.first_contacted_at < HelpRequest.contact_due_at)
    return func.sum(case((counts, 1), else_=0)), func.sum(case((in_time, 1), else_=0))


_PROMISE_FIELDS = ("unit_id", "created_at", "contact_due_at", "first_contacted_at", "status", "closed_at")


def _standing(request: HelpRequest, *, before: bool) -> tuple[int | None, object, tuple[int, int]]:
    """(unit, filing week, settled()) of a request, as last flushed (`before`) or as it is now."""
    state = inspect(request)
    values = {}
    for name in _PROMISE_FIELDS:
        history = state.attrs[name].history
        if before and history.has_changes():
            values[name] = history.deleted[0] if history.deleted else None
        else:
            values[name] = getattr(request, name)
    created = values["created_at"]
    week = week_of(created) if created is not None else None
    return (
        values["unit_id"],
        week,
        settled(values["contact_due_at"], values["first_contacted_at"], values["status"], values["closed_at"]),
    )


def _add(unit_id, week, figures: tuple[int, int], sign: int) -> None:
    if unit_id is not None and week is not None and any(figures):
        bump(PromiseStat, unit_id, {"week": week}, counted=sign * figures[0], in_time=sign * figures[1])


@event.listens_for(Session, "before_flush")
def track_settled(session, _flush_context, _instances) -> None:
    """Keep PromiseStat in step with every request about to be written (new, changed or deleted)."""
    for request in [*session.new, *session.dirty, *session.deleted]:
        if not isinstance(request, HelpRequest):
            continue
        gone = request in session.deleted
        after = (None, None, (0, 0)) if gone else _standing(request, before=False)
        before = (None, None, (0, 0)) if request in session.new else _standing(request, before=True)
        if before != after:
            _add(*before, -1)
            _add(*after, +1)


def promise_note() -> str:
    return _(
        "Called within the promise: of the requests whose team's promise to call has ended or that "
        "were contacted, the share contacted in time (booked, called, or marked could not reach)."
    )


def share(in_time: int, counted: int) -> float | None:
    return in_time / counted if counted else None


def _week_aligned(moment: datetime | None) -> bool:
    if moment is None:
        return True
    local = moment.astimezone(LOCAL_TZ)
    return local.weekday() == 0 and local.time() == time(0)


def promise_by_unit(
    units: list[Unit], start: datetime | None = None, end: datetime | None = None, *, now: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """(requests that count, of which contacted in time) for each of `units`, each over its
    whole subtree, for requests filed from `start` to before `end`. With whole local weeks (or
    no bounds), the settled requests come from the summary tables and only those waiting for a
    first call from the requests; otherwise every request is counted from the requests."""
    result = {unit.id: (0, 0) for unit in units}
    if not units:
        return result
    now = now or utcnow()
    if not (_week_aligned(start) and _week_aligned(end)):
        return _counted_from_requests(units, start, end, now, waiting_only=False)
    week_from = week_of(start) if start is not None else None
    week_to = week_of(end) - timedelta(days=7) if end is not None else None
    waiting = _counted_from_requests(units, start, end, now, waiting_only=True)
    sums = period_sums(PromiseStat, (), ("counted", "in_time"), [unit.id for unit in units], week_from, week_to)
    summed = {unit_id: (int(c or 0), int(t or 0)) for unit_id, c, t in summary_rows(sums)}
    for unit in units:
        counted, in_time = summed.get(unit.id, (0, 0))
        live_counted, live_in_time = waiting[unit.id]
        result[unit.id] = (counted + live_counted, in_time + live_in_time)
    return result


def _counted_from_requests(
    units: list[Unit], start: datetime | None, end: datetime | None, now: datetime, *, waiting_only: bool
) -> dict[int, tuple[int, int]]:
    """promise_sums() over the requests of each unit's subtree (one grouped query); with
    `waiting_only`, over the requests not yet settled (no first call, not cancelled) alone."""
    paths = sorted({unit.path for unit in units}, key=len)
    tops = [path for path in paths if not any(path != other and path.startswith(other) for other in paths)]
    counted, in_time = promise_sums(now)
    query = (
        select(Unit.path, counted, in_time)
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(or_(*(path_within(Unit.path, path) for path in tops)))
        .group_by(Unit.path)
    )
    if waiting_only:
        # The partial index ix_help_requests_awaiting_call holds exactly these requests.
        query = query.where(
            HelpRequest.first_contacted_at.is_(None),
            HelpRequest.status != "cancelled",
            HelpRequest.contact_due_at <= now,
        )
    if start is not None:
        query = query.where(HelpRequest.created_at >= start)
    if end is not None:
        query = query.where(HelpRequest.created_at < end)
    rows = [(path, int(c or 0), int(t or 0)) for path, c, t in db.session.execute(query)]
    result = {}
    for unit in units:
        inside = [(c, t) for path, c, t in rows if path.startswith(unit.path)]
        result[unit.id] = (sum(c for c, _t in inside), sum(t for _c, t in inside))
    return result
