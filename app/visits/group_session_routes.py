"""Group help sessions: the list, planning one, its page, signing up (oneself or a resident),
cancelling a sign-up and recording attendance."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.exceptions import Invalid
from app.extensions import db
from app.privacy.access_log import record_read
from app.units.models import Unit, path_within
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, get_or_404, id_from, refuse, unit_choices
from app.visits import group_sessions
from app.visits.blueprint import bp
from app.visits.forms import GroupSessionForm, SignUpResidentForm, skill_choices
from app.visits.models import VISIT_TITLES, GroupSession, SessionSignup, Team, TeamMember

#: The operations' names for some fields of these forms.
SESSION_FIELDS = {"start": "date", "unit_code": "unit", "host_id": "host", "user_id": "person"}
RESIDENT_CHOICES_LIMIT = 500


def _session_units() -> list[Unit]:
    """Villages and communes where the planner may hold a session: those with a team nearby."""
    team_units = db.session.scalars(
        select(Unit).join(Team, Team.unit_id == Unit.id).where(authz.unit_scope_filter(current_user, Unit.path))
    ).all()
    prefixes = sorted({(unit.commune() or unit).path for unit in team_units})
    if not prefixes:
        return []
    clause = path_within(Unit.path, prefixes[0])
    for prefix in prefixes[1:]:
        clause = clause | path_within(Unit.path, prefix)
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
    upcoming = group_sessions.sessions_between(current_user, now, now + timedelta(days=366))
    return render_template(
        "visits/sessions.html",
        sessions=upcoming,
        mine=group_sessions.signed_up_session_ids(current_user, [s.id for s in upcoming]),
        may_plan=authz.has_permission(current_user, "visits.manage"),
        staff=authz.has_permission(current_user, "visits.view"),
        form=EmptyForm(),
        **VISIT_TITLES,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    authz.ensure(authz.has_permission(current_user, "visits.manage"))
    form = GroupSessionForm()
    hosts = _session_hosts()
    form.unit.choices = unit_choices(_session_units())
    form.host.choices = [SelectChoice(str(user.id), user.full_name) for user in hosts]
    form.skills.choices = skill_choices()
    if request.method == "GET" and current_user.role == "tech_team":
        form.host.data = str(current_user.id)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        host_id = id_from(form.host.data)
        host = db.session.get(User, host_id) if host_id else None
        try:
            if host is None:
                raise Invalid(_("The host must be a member of a team in this commune."), field="host_id")
            session = group_sessions.create_group_session(
                current_user,
                unit=get_unit_by_code(form.unit.data),
                title=form.title.data,
                place=form.place.data,
                starts_at=datetime.combine(form.date.data, form.time.data, tzinfo=LOCAL_TZ),
                duration_minutes=form.duration_minutes.data,
                skills=form.skills.data or [],
                capacity=form.capacity.data,
                host=host,
            )
        except FORM_ERRORS as error:
            status = refuse(form, error, SESSION_FIELDS)
        else:
            db.session.commit()
            flash(_("The session has been planned."), "success")
            return redirect(url_for("visits.session_detail", session_id=session.id))
    return render_template("visits/session_form.html", form=form), status


def _resident_choices(session: GroupSession, signed: set[int]) -> list[SelectChoice]:
    commune = session.unit.commune() or session.unit
    residents = db.session.scalars(
        select(User)
        .join(Unit, Unit.id == User.unit_id)
        .options(contains_eager(User.unit))
        .where(
            path_within(Unit.path, commune.path),
            User.role.in_(group_sessions.SIGN_UP_ROLES),
            User.active.is_(True),
        )
        .order_by(User.full_name, User.id)
        .limit(RESIDENT_CHOICES_LIMIT)
    )
    return [
        SelectChoice(str(user.id), f"{user.full_name} ({user.unit.display_name})")
        for user in residents
        if user.id not in signed
    ]


def _render_session(session: GroupSession, status: int = 200, signup_form=None):
    may_run = authz.may_run_group_session(current_user, session)
    staff = may_run or authz.may(current_user, "visits.view", session.unit)
    signups = []
    if staff:
        signups = db.session.execute(
            select(SessionSignup, User)
            .join(User, User.id == SessionSignup.user_id)
            .where(SessionSignup.session_id == session.id, User.erased_at.is_(None))
            .order_by(User.full_name, User.id)
        ).all()
        if request.method == "GET":
            record_read(current_user, users=[user for _signup, user in signups], kind="list")
    if may_run and signup_form is None:
        signup_form = SignUpResidentForm(formdata=None)
    if signup_form is not None:
        signup_form.person.choices = _resident_choices(session, {user.id for _signup, user in signups})
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
            is_signed_up=bool(group_sessions.signed_up_session_ids(current_user, [session.id])),
            signup_form=signup_form,
            form=EmptyForm(formdata=None),
            **VISIT_TITLES,
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>")
@login_required
def session_detail(session_id: int):
    return _render_session(group_sessions.group_session_for(current_user, session_id))


def _refused(session_id: int, error, signup_form=None):
    """The session page again with the operation's reason; nothing it wrote is kept."""
    status = refuse(signup_form, error, SESSION_FIELDS)
    return _render_session(group_sessions.find_group_session(session_id), status, signup_form)


@bp.route("/sessions/<int:session_id>/sign-up", methods=["POST"])
@login_required
def session_sign_up(session_id: int):
    session = group_sessions.group_session_for(current_user, session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        group_sessions.sign_up(session, current_user, by=current_user)
    except FORM_ERRORS as error:
        return _refused(session_id, error)
    db.session.commit()
    flash(_("You are signed up. See you there!"), "success")
    return redirect(url_for("visits.session_detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/sign-up-resident", methods=["POST"])
@login_required
def session_sign_up_resident(session_id: int):
    session = group_sessions.group_session_for(current_user, session_id)
    form = SignUpResidentForm()
    if not form.validate_on_submit():
        authz.ensure(authz.may_run_group_session(current_user, session))
        return _render_session(session, 400, form)
    person_id = id_from(form.person.data)
    person = db.session.get(User, person_id) if person_id else None
    try:
        if person is None:
            raise Invalid(_("Choose a resident of this commune."), field="user_id")
        group_sessions.sign_up(session, person, by=current_user)
    except FORM_ERRORS as error:
        return _refused(session_id, error, form)
    db.session.commit()
    flash(_("%(name)s is signed up.", name=person.full_name), "success")
    return redirect(url_for("visits.session_detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/signups/<int:user_id>/cancel", methods=["POST"])
@login_required
def session_cancel_signup(session_id: int, user_id: int):
    session = group_sessions.group_session_for(current_user, session_id)
    person = get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        group_sessions.cancel_signup(session, person, by=current_user)
    except FORM_ERRORS as error:
        return _refused(session_id, error)
    db.session.commit()
    if person.id == current_user.id:
        flash(_("Your sign-up has been cancelled."), "success")
    else:
        flash(_("The sign-up of %(name)s has been cancelled.", name=person.full_name), "success")
    return redirect(url_for("visits.session_detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
@login_required
def session_attendance(session_id: int):
    session = group_sessions.group_session_for(current_user, session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    attended = {id_from(value) for value in request.form.getlist("attended")}
    if None in attended:
        abort(400)
    try:
        group_sessions.record_attendance(current_user, session, attended)
    except FORM_ERRORS as error:
        return _refused(session_id, error)
    db.session.commit()
    flash(_("Attendance has been recorded."), "success")
    return redirect(url_for("visits.session_detail", session_id=session_id))
