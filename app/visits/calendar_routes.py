"""Calendars: the member's weekly agenda, the team calendar of an area, the member's secret
iCalendar feed for their phone, and one visit as an .ics file."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.forms import EmptyForm
from app.db import LOCAL_TZ, YEARS, DayOutOfRange, day_from, local_today
from app.extensions import db, limiter
from app.links import public_host, public_url
from app.privacy.access_log import record_read
from app.units.models import Unit, path_within
from app.views import unit_or_404
from app.visits import calendar, group_sessions, operations
from app.visits.blueprint import bp
from app.visits.forms import NoticeAddressForm
from app.visits.models import VISIT_TITLES, GroupSession, Visit


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def _day_from(value: str) -> date:
    """The day a query argument names (YYYY-MM-DD), or today when it is empty; a 400 for anything
    else (the page links the weeks around it: no overflow near year 1)."""
    try:
        return day_from(value) or local_today()
    except DayOutOfRange:
        abort(400, description=_("Give a week between %(first)d and %(last)d.", first=YEARS[0], last=YEARS[1]))
    except ValueError:
        abort(400, description=_("Give the week as a date, for example 2025-03-10."))


def _week_from_args() -> date:
    """Monday of the week named by ?week=YYYY-MM-DD (any day of it), or of this week."""
    day = _day_from(request.args.get("week", ""))
    return day - timedelta(days=day.weekday())


def _agenda_start_from_args() -> date:
    """The first of the agenda's seven days: ?from=YYYY-MM-DD, the Monday of ?week=YYYY-MM-DD
    (links from before the agenda began on any day), or today, so tomorrow is always shown."""
    start = request.args.get("from", "")
    if start.strip() or "week" not in request.args:
        return _day_from(start)
    return _week_from_args()


def _visited(*visit_lists: list[Visit]) -> list[tuple[int | None, int | None]]:
    """The people the visits name, as (resident record, account) for the read log."""
    return [(visit.resident_record_id, visit.resident_id) for visits in visit_lists for visit in visits]


def _by_day(days: list[date], visits: list[Visit], sessions: list[GroupSession]) -> dict[date, list]:
    """{day: [(starts_at, "visit"|"session", item), ...]} in local days, sorted by time."""
    grouped: dict[date, list] = {day: [] for day in days}
    for kind, items in (("visit", visits), ("session", sessions)):
        for item in items:
            day = item.starts_at.astimezone(LOCAL_TZ).date()
            if day in grouped:
                grouped[day].append((item.starts_at, kind, item))
    for entries in grouped.values():
        entries.sort(key=lambda entry: (entry[0], entry[1], entry[2].id))
    return grouped


# --- the member's agenda and the team calendar --------------------------------------------

#: The agenda shows this many days, from today unless the member pages on.
AGENDA_DAYS = 7


@bp.route("/agenda")
@login_required
def agenda():
    if current_user.role != "tech_team":
        authz.ensure(authz.has_permission(current_user, "visits.view"))
        return redirect(url_for("visits.team_calendar"))
    today = local_today()
    first = _agenda_start_from_args()
    days = [first + timedelta(days=n) for n in range(AGENDA_DAYS)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    visits = operations.visits_in_scope(current_user, start=start, end=end, member=current_user)
    shows_today = first <= today <= days[-1]
    # Earlier visits still waiting for their outcome, so none is forgotten.
    waiting = operations.visits_waiting_for_outcome(current_user, start) if shows_today else []
    operations.load_visit_details([*visits, *waiting])
    record_read(current_user, pairs=_visited(visits, waiting), kind="list")
    sessions = group_sessions.sessions_between(current_user, start, end, host=current_user)
    return render_template(
        "visits/agenda.html",
        today=today,
        first=first,
        last=days[-1],
        by_day=_by_day(days, visits, sessions),
        waiting=waiting,
        shows_today=shows_today,
        starts_today=first == today,
        earlier=first - timedelta(days=AGENDA_DAYS),
        later=first + timedelta(days=AGENDA_DAYS),
        **VISIT_TITLES,
    )


def _calendar_unit_choices() -> list[Unit]:
    """Communes in scope; for a commune's own people, also its villages."""
    root = authz.scope_root(current_user)
    if root is not None:
        return list(db.session.scalars(select(Unit).where(path_within(Unit.path, root.path)).order_by(Unit.path)))
    return list(db.session.scalars(select(Unit).where(Unit.kind.in_(("commune", "ward"))).order_by(Unit.name)))


@bp.route("/calendar")
@login_required
def team_calendar():
    authz.ensure(authz.has_permission(current_user, "visits.view"))
    unit = None
    if request.args.get("unit"):
        unit = unit_or_404(request.args["unit"])
        authz.ensure(authz.unit_in_scope(current_user, unit))
    monday = _week_from_args()
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    visits = operations.visits_in_scope(current_user, unit=unit, start=start, end=end)
    operations.load_visit_details(visits)
    record_read(current_user, pairs=_visited(visits), kind="list")
    sessions = group_sessions.sessions_between(current_user, start, end, unit=unit)
    return render_template(
        "visits/calendar.html",
        unit=unit,
        units=_calendar_unit_choices(),
        monday=monday,
        today=local_today(),
        by_day=_by_day(days, visits, sessions),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        may_manage=authz.has_permission(current_user, "visits.manage"),
        **VISIT_TITLES,
    )


# --- calendar files and feeds --------------------------------------------------------------


def _ics_response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/visits/<int:visit_id>.ics")
@login_required
def visit_ics(visit_id: int):
    visit = operations.visit_for(current_user, visit_id)
    body = calendar.visit_calendar(visit, public_host(), with_address=current_user.visit_address_in_notices)
    return _ics_response(body, f"visit-{visit.id}.ics")


@bp.route("/calendar-feed")
@login_required
def calendar_feed():
    authz.ensure(current_user.role == "tech_team")
    feed = calendar.feed_for(current_user)
    db.session.commit()
    url = public_url(url_for("visits.calendar_feed_ics", token=feed.token))
    return render_template(
        "visits/calendar_feed.html",
        url=url,
        webcal_url="webcal://" + url.split("://", 1)[1] if url else None,
        form=EmptyForm(),
        address_form=NoticeAddressForm(formdata=None, with_address=current_user.visit_address_in_notices),
    )


@bp.route("/calendar-feed/addresses", methods=["POST"])
@login_required
def calendar_feed_addresses():
    """Home addresses in the member's calendar and e-mails about visits, or the village only."""
    authz.ensure(current_user.role == "tech_team")
    form = NoticeAddressForm()
    if not form.validate_on_submit():
        abort(400)
    calendar.set_visit_address_in_notices(current_user, form.with_address.data)
    db.session.commit()
    if form.with_address.data:
        flash(_("Your calendar and e-mails now show the home address of each visit."), "success")
    else:
        flash(_("Your calendar and e-mails now show only the village of each visit."), "success")
    return redirect(url_for("visits.calendar_feed"))


@bp.route("/calendar-feed/new-address", methods=["POST"])
@login_required
def rotate_calendar_feed():
    authz.ensure(current_user.role == "tech_team")
    if not EmptyForm().validate_on_submit():
        abort(400)
    calendar.rotate_token(current_user)
    db.session.commit()
    flash(
        _("Your calendar has a new address. Calendars that used the old address no longer update."),
        "success",
    )
    return redirect(url_for("visits.calendar_feed"))


@bp.route("/calendar/<token>.ics")
@limiter.limit("60 per minute")
def calendar_feed_ics(token: str):
    # No sign-in: phone calendars fetch this address on their own. The long random token is
    # the key; a wrong or replaced one gets 404 and reveals nothing.
    member = calendar.feed_owner(token)
    if member is None:
        abort(404)
    return _ics_response(calendar.member_calendar(member, public_host()))
