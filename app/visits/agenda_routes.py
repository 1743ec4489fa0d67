"""The member's agenda, the team calendar, the visit page, group sessions and calendar feeds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.db import local_today, utcnow
from app.exceptions import Conflict, DomainError, Invalid, NotAllowed
from app.extensions import db, limiter
from app.units.models import Unit
from app.visits import calendar, operations
from app.visits.agenda_forms import (
    CancelVisitForm,
    CompleteVisitForm,
    GroupSessionForm,
    RescheduleForm,
    SignUpResidentForm,
    skill_choices,
)
from app.visits.availability import LOCAL
from app.visits.blueprint import bp
from app.visits.models import (
    SKILL_TITLES,
    VISIT_STATUS_TITLES,
    GroupSession,
    HelpRequest,
    SessionSignup,
    Team,
    TeamMember,
    Visit,
)

#: Operations name some fields differently from the forms on these pages.
FIELD_ALIASES = {"start": "date", "unit_code": "unit", "host_id": "host"}
RESIDENT_CHOICES_LIMIT = 500
#: The vocabularies the shared template macros show.
TITLES = {"skill_titles": SKILL_TITLES, "status_titles": VISIT_STATUS_TITLES}


# --- helpers -------------------------------------------------------------------------------


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def _week_from_args() -> date:
    """Monday of the week named by ?week=YYYY-MM-DD (any day of it), or of this week."""
    value = request.args.get("week", "").strip()
    try:
        day = date.fromisoformat(value) if value else local_today()
    except ValueError:
        abort(400, description=_("Give the week as a date, for example 2025-03-10."))
    return day - timedelta(days=day.weekday())


def _status_for(error: DomainError) -> int:
    if isinstance(error, NotAllowed):
        return 403
    return 409 if isinstance(error, Conflict) else 400


def _show_error(form, error: DomainError) -> None:
    name = FIELD_ALIASES.get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def _preload_visits(visits: list[Visit]) -> None:
    """Fill each visit's member, resident, request and unit with four queries in all."""
    if not visits:
        return
    people_ids = {v.member_id for v in visits} | {v.resident_id for v in visits if v.resident_id}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
    request_ids = {v.request_id for v in visits if v.request_id}
    requests = (
        {r.id: r for r in db.session.scalars(select(HelpRequest).where(HelpRequest.id.in_(request_ids)))}
        if request_ids
        else {}
    )
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_({v.unit_id for v in visits})))}
    for visit in visits:
        set_committed_value(visit, "member", people.get(visit.member_id))
        set_committed_value(visit, "resident", people.get(visit.resident_id))
        set_committed_value(visit, "request", requests.get(visit.request_id))
        set_committed_value(visit, "unit", units.get(visit.unit_id))


def _sessions_between(start: datetime, end: datetime, *, host: User | None = None, unit: Unit | None = None):
    """Group sessions (not cancelled) in the current person's scope, with unit and host loaded."""
    query = (
        select(GroupSession, Unit, User)
        .join(Unit, Unit.id == GroupSession.unit_id)
        .join(User, User.id == GroupSession.host_id)
        .where(
            authz.unit_scope_filter(current_user, Unit.path),
            GroupSession.cancelled_at.is_(None),
            GroupSession.ends_at > start,
            GroupSession.starts_at < end,
        )
        .order_by(GroupSession.starts_at, GroupSession.id)
    )
    if host is not None:
        query = query.where(GroupSession.host_id == host.id)
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    sessions = []
    for session, session_unit, session_host in db.session.execute(query):
        set_committed_value(session, "unit", session_unit)
        set_committed_value(session, "host", session_host)
        sessions.append(session)
    return sessions


def _by_day(days: list[date], visits: list[Visit], sessions: list[GroupSession]) -> dict[date, list]:
    """{day: [(starts_at, "visit"|"session", item), ...]} in local days, sorted by time."""
    grouped: dict[date, list] = {day: [] for day in days}
    for kind, items in (("visit", visits), ("session", sessions)):
        for item in items:
            day = item.starts_at.astimezone(LOCAL).date()
            if day in grouped:
                grouped[day].append((item.starts_at, kind, item))
    for entries in grouped.values():
        entries.sort(key=lambda entry: (entry[0], entry[1], entry[2].id))
    return grouped


def _unit_by_code(code: str | None) -> Unit | None:
    code = (code or "").strip()
    if not code:
        return None
    return db.session.scalar(select(Unit).where(Unit.code == code))


# --- the member's agenda and the team calendar --------------------------------------------


@bp.route("/agenda")
@login_required
def agenda():
    if current_user.role != "tech_team":
        authz.ensure(authz.has_permission(current_user, "visits.view"))
        return redirect(url_for("visits.team_calendar"))
    today = local_today()
    monday = _week_from_args()
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    visits = operations.visits_in_scope(current_user, start=start, end=end, member=current_user)
    is_this_week = monday <= today < monday + timedelta(days=7)
    # Earlier visits still waiting for their outcome, so none is forgotten.
    waiting = (
        db.session.scalars(
            select(Visit)
            .where(
                Visit.member_id == current_user.id,
                Visit.status == "booked",
                Visit.ends_at <= utcnow(),
                Visit.starts_at < start,
            )
            .order_by(Visit.starts_at)
            .limit(20)
        ).all()
        if is_this_week
        else []
    )
    _preload_visits([*visits, *waiting])
    sessions = _sessions_between(start, end, host=current_user)
    return render_template(
        "visits/agenda.html",
        today=today,
        monday=monday,
        by_day=_by_day(days, visits, sessions),
        waiting=waiting,
        is_this_week=is_this_week,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        **TITLES,
    )


def _calendar_unit_choices() -> list[Unit]:
    """Communes in scope; for a commune's own people, also its villages."""
    root = authz.scope_root(current_user)
    if root is not None:
        return list(
            db.session.scalars(select(Unit).where(Unit.path.startswith(root.path, autoescape=True)).order_by(Unit.path))
        )
    return list(db.session.scalars(select(Unit).where(Unit.kind.in_(("commune", "ward"))).order_by(Unit.name)))


@bp.route("/calendar")
@login_required
def team_calendar():
    authz.ensure(authz.has_permission(current_user, "visits.view"))
    unit = None
    if request.args.get("unit"):
        unit = _unit_by_code(request.args["unit"])
        if unit is None:
            abort(404)
        authz.ensure(authz.unit_in_scope(current_user, unit))
    monday = _week_from_args()
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = local_midnight(days[0]), local_midnight(days[-1] + timedelta(days=1))
    visits = operations.visits_in_scope(current_user, unit=unit, start=start, end=end)
    _preload_visits(visits)
    sessions = _sessions_between(start, end, unit=unit)
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
        **TITLES,
    )


# --- the visit page ----------------------------------------------------------------------


def _load_visit(visit_id: int) -> tuple[Visit, bool]:
    """The visit and whether the viewer is team staff for it (else the visited resident)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    staff = visit.member_id == current_user.id or authz.may(current_user, "visits.view", visit.unit)
    authz.ensure(staff or (visit.resident_id is not None and visit.resident_id == current_user.id))
    return visit, staff


def _may_change(visit: Visit) -> bool:
    return visit.member_id == current_user.id or authz.may(current_user, "visits.manage", visit.unit)


def _render_visit(visit: Visit, staff: bool, status: int = 200, **forms):
    may_change = staff and _may_change(visit)
    started = visit.starts_at <= utcnow()
    if may_change:
        local_start = visit.starts_at.astimezone(LOCAL)
        forms.setdefault(
            "reschedule_form",
            RescheduleForm(
                formdata=None,
                date=local_start.date(),
                time=local_start.time().replace(second=0, microsecond=0),
                duration_minutes=int((visit.ends_at - visit.starts_at).total_seconds() // 60),
            ),
        )
        forms.setdefault("cancel_form", CancelVisitForm(formdata=None))
        forms.setdefault("complete_form", CompleteVisitForm(formdata=None, skills_done=[visit.skill]))
        forms.setdefault("no_show_form", EmptyForm(formdata=None))
        forms["complete_form"].skills_done.choices = skill_choices()
    return (
        render_template(
            "visits/visit.html",
            visit=visit,
            staff=staff,
            may_change=may_change,
            started=started,
            **TITLES,
            **forms,
        ),
        status,
    )


@bp.route("/visits/<int:visit_id>")
@login_required
def visit_detail(visit_id: int):
    visit, staff = _load_visit(visit_id)
    return _render_visit(visit, staff)


def _visit_action(visit_id: int, form, form_name: str, apply, success: str):
    """Run one change on the visit: 400/409 with the message and nothing changed on failure."""
    visit, staff = _load_visit(visit_id)
    authz.ensure(staff and _may_change(visit))
    if form_name == "complete_form":
        form.skills_done.choices = skill_choices()
    if not form.validate_on_submit():
        return _render_visit(visit, staff, 400, **{form_name: form})
    try:
        apply(visit, form)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, NotAllowed):
            abort(403, description=error.message)
        _show_error(form, error)
        return _render_visit(visit, staff, _status_for(error), **{form_name: form})
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/reschedule", methods=["POST"])
@login_required
def reschedule_visit(visit_id: int):
    def apply(visit, form):
        starts_at = datetime.combine(form.date.data, form.time.data, tzinfo=LOCAL)
        operations.reschedule_visit(current_user, visit, starts_at, form.duration_minutes.data)

    return _visit_action(visit_id, RescheduleForm(), "reschedule_form", apply, _("The visit has been moved."))


@bp.route("/visits/<int:visit_id>/cancel", methods=["POST"])
@login_required
def cancel_visit(visit_id: int):
    def apply(visit, form):
        operations.cancel_visit(current_user, visit, form.reason.data)

    return _visit_action(visit_id, CancelVisitForm(), "cancel_form", apply, _("The visit has been cancelled."))


@bp.route("/visits/<int:visit_id>/no-show", methods=["POST"])
@login_required
def visit_no_show(visit_id: int):
    def apply(visit, form):
        operations.mark_no_show(current_user, visit)

    return _visit_action(
        visit_id, EmptyForm(), "no_show_form", apply, _("The visit is marked: the resident was not there.")
    )


@bp.route("/visits/<int:visit_id>/complete", methods=["POST"])
@login_required
def complete_visit(visit_id: int):
    def apply(visit, form):
        operations.complete_visit(
            current_user,
            visit,
            skills_done=form.skills_done.data or [],
            resolved=form.outcome.data == "resolved",
            minutes_spent=form.minutes_spent.data,
            notes=form.notes.data,
            rating=form.rating.data,
            follow_up_reason=form.follow_up_reason.data,
            follow_up_due=form.follow_up_due.data,
            milestones=[(key, form.milestone_confirmation.data) for key in form.milestones.data or []],
            credit_learning=bool(form.credit_learning.data),
        )

    return _visit_action(
        visit_id, CompleteVisitForm(), "complete_form", apply, _("The outcome of the visit has been recorded.")
    )


def _ics_response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _uid_domain() -> str:
    return request.host.split(":")[0] or "localhost"


@bp.route("/visits/<int:visit_id>.ics")
@login_required
def visit_ics(visit_id: int):
    visit, _staff = _load_visit(visit_id)
    return _ics_response(calendar.visit_calendar(visit, _uid_domain()), f"visit-{visit.id}.ics")


# --- group sessions ------------------------------------------------------------------------


def _load_session(session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id)
    if session is None:
        abort(404)
    authz.ensure(authz.unit_in_scope(current_user, session.unit))
    return session


def _may_run(session: GroupSession) -> bool:
    """May the current person sign others up and record attendance?"""
    return session.host_id == current_user.id or authz.may(current_user, "visits.manage", session.unit)


def _session_units() -> list[Unit]:
    """Villages and communes where the planner may hold a session: those with a team nearby."""
    team_units = db.session.scalars(
        select(Unit).join(Team, Team.unit_id == Unit.id).where(authz.unit_scope_filter(current_user, Unit.path))
    ).all()
    prefixes = sorted({(unit.commune() or unit).path for unit in team_units})
    if not prefixes:
        return []
    clause = Unit.path.startswith(prefixes[0], autoescape=True)
    for prefix in prefixes[1:]:
        clause = clause | Unit.path.startswith(prefix, autoescape=True)
    return list(db.session.scalars(select(Unit).where(clause).order_by(Unit.path)))


def _session_hosts() -> list[User]:
    rows = db.session.scalars(
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(
            authz.unit_scope_filter(current_user, Unit.path),
            User.active.is_(True),
            User.role == "tech_team",
        )
        .order_by(User.full_name, User.id)
    ).unique()
    return list(rows)


@bp.route("/sessions")
@login_required
def sessions():
    now = utcnow()
    upcoming = _sessions_between(now, now + timedelta(days=366))
    mine = set(
        db.session.scalars(
            select(SessionSignup.session_id).where(
                SessionSignup.user_id == current_user.id,
                SessionSignup.session_id.in_([s.id for s in upcoming]),
            )
        )
    )
    return render_template(
        "visits/sessions.html",
        sessions=upcoming,
        mine=mine,
        may_plan=authz.has_permission(current_user, "visits.manage"),
        staff=authz.has_permission(current_user, "visits.view"),
        form=EmptyForm(),
        **TITLES,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    authz.ensure(authz.has_permission(current_user, "visits.manage"))
    form = GroupSessionForm()
    units = _session_units()
    hosts = _session_hosts()
    form.unit.choices = [
        SelectChoice(unit.code, f"{'— ' * max(unit.level - 2, 0)}{unit.display_name}") for unit in units
    ]
    form.host.choices = [SelectChoice(str(user.id), user.full_name) for user in hosts]
    form.skills.choices = skill_choices()
    if request.method == "GET" and current_user.role == "tech_team":
        form.host.data = str(current_user.id)
    if form.validate_on_submit():
        host = next((user for user in hosts if str(user.id) == form.host.data), None)
        try:
            if host is None:
                raise Invalid(_("The host must be a member of a team in this commune."), field="host_id")
            session = operations.create_group_session(
                current_user,
                unit=_unit_by_code(form.unit.data),
                title=form.title.data,
                place=form.place.data,
                starts_at=datetime.combine(form.date.data, form.time.data, tzinfo=LOCAL),
                duration_minutes=form.duration_minutes.data,
                skills=form.skills.data or [],
                capacity=form.capacity.data,
                host=host,
            )
        except DomainError as error:
            db.session.rollback()
            if isinstance(error, NotAllowed):
                abort(403, description=error.message)
            _show_error(form, error)
            return render_template("visits/session_form.html", form=form), _status_for(error)
        db.session.commit()
        flash(_("The session has been planned."), "success")
        return redirect(url_for("visits.session_detail", session_id=session.id))
    status = 400 if request.method == "POST" else 200
    return render_template("visits/session_form.html", form=form), status


def _render_session(session: GroupSession, status: int = 200, signup_form=None):
    may_run = _may_run(session)
    staff = may_run or authz.may(current_user, "visits.view", session.unit)
    signups = []
    if staff:
        signups = db.session.execute(
            select(SessionSignup, User)
            .join(User, User.id == SessionSignup.user_id)
            .where(SessionSignup.session_id == session.id)
            .order_by(User.full_name, User.id)
        ).all()
    if may_run and signup_form is None:
        signup_form = SignUpResidentForm(formdata=None)
    if signup_form is not None:
        signed = {user.id for _signup, user in signups}
        commune = session.unit.commune() or session.unit
        residents = db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .options(contains_eager(User.unit))
            .where(
                Unit.path.startswith(commune.path, autoescape=True),
                User.role == "resident",
                User.active.is_(True),
            )
            .order_by(User.full_name, User.id)
            .limit(RESIDENT_CHOICES_LIMIT)
        )
        signup_form.person.choices = [
            SelectChoice(str(user.id), f"{user.full_name} ({user.unit.display_name})")
            for user in residents
            if user.id not in signed
        ]
    is_signed_up = db.session.scalar(
        select(SessionSignup.id).where(SessionSignup.session_id == session.id, SessionSignup.user_id == current_user.id)
    )
    now = utcnow()
    return (
        render_template(
            "visits/session.html",
            session=session,
            places_left=max(session.capacity - session.signed_up, 0),
            open_for_signup=session.cancelled_at is None and session.starts_at > now,
            started=session.starts_at <= now,
            staff=staff,
            may_run=may_run,
            signups=signups,
            is_signed_up=is_signed_up is not None,
            signup_form=signup_form,
            form=EmptyForm(formdata=None),
            **TITLES,
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>")
@login_required
def session_detail(session_id: int):
    return _render_session(_load_session(session_id))


def _session_error(session: GroupSession, error: DomainError, signup_form=None):
    db.session.rollback()
    if isinstance(error, NotAllowed):
        abort(403, description=error.message)
    if signup_form is not None:
        _show_error(signup_form, error)
    else:
        flash(error.message, "error")
    return _render_session(session, _status_for(error), signup_form)


@bp.route("/sessions/<int:session_id>/sign-up", methods=["POST"])
@login_required
def session_sign_up(session_id: int):
    session = _load_session(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operations.sign_up(session, current_user, by=current_user)
    except DomainError as error:
        return _session_error(session, error)
    db.session.commit()
    flash(_("You are signed up. See you there!"), "success")
    return redirect(url_for("visits.session_detail", session_id=session.id))


@bp.route("/sessions/<int:session_id>/sign-up-resident", methods=["POST"])
@login_required
def session_sign_up_resident(session_id: int):
    session = _load_session(session_id)
    authz.ensure(_may_run(session))
    form = SignUpResidentForm()
    if not form.validate_on_submit():
        return _render_session(session, 400, form)
    person = db.session.get(User, int(form.person.data)) if form.person.data.isdigit() else None
    commune = session.unit.commune() or session.unit
    try:
        if person is None or person.role != "resident" or not commune.contains(person.unit):
            raise Invalid(_("Choose a resident of this commune."), field="person")
        operations.sign_up(session, person, by=current_user)
    except DomainError as error:
        return _session_error(session, error, form)
    db.session.commit()
    flash(_("%(name)s is signed up.", name=person.full_name), "success")
    return redirect(url_for("visits.session_detail", session_id=session.id))


@bp.route("/sessions/<int:session_id>/signups/<int:user_id>/cancel", methods=["POST"])
@login_required
def session_cancel_signup(session_id: int, user_id: int):
    session = _load_session(session_id)
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    authz.ensure(person.id == current_user.id or _may_run(session))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        operations.cancel_signup(session, person, by=current_user)
    except DomainError as error:
        return _session_error(session, error)
    db.session.commit()
    if person.id == current_user.id:
        flash(_("Your sign-up has been cancelled."), "success")
    else:
        flash(_("The sign-up of %(name)s has been cancelled.", name=person.full_name), "success")
    return redirect(url_for("visits.session_detail", session_id=session.id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
@login_required
def session_attendance(session_id: int):
    session = _load_session(session_id)
    authz.ensure(_may_run(session))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        attended = {int(value) for value in request.form.getlist("attended")}
    except ValueError:
        abort(400)
    try:
        operations.record_attendance(current_user, session, attended)
    except DomainError as error:
        return _session_error(session, error)
    db.session.commit()
    flash(_("Attendance has been recorded."), "success")
    return redirect(url_for("visits.session_detail", session_id=session.id))


# --- calendar feeds --------------------------------------------------------------------------


@bp.route("/calendar-feed")
@login_required
def calendar_feed():
    authz.ensure(current_user.role == "tech_team")
    feed = calendar.feed_for(current_user)
    db.session.commit()
    url = url_for("visits.calendar_feed_ics", token=feed.token, _external=True)
    return render_template(
        "visits/calendar_feed.html",
        url=url,
        webcal_url="webcal://" + url.split("://", 1)[1],
        form=EmptyForm(),
    )


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
    return _ics_response(calendar.member_calendar(member, _uid_domain()))
