"""Teams and their members, and members' availability (weekly hours and date exceptions)."""

from __future__ import annotations

from babel.dates import get_day_names
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.extensions import db
from app.phones import local_format
from app.privacy.access_log import record_read
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, get_or_404, id_from, refuse, unit_choices
from app.visits import teams
from app.visits.blueprint import bp
from app.visits.forms import (
    AddMemberForm,
    ContactPromiseForm,
    ExceptionForm,
    MemberSkillsForm,
    TeamForm,
    WeeklyWindowForm,
    WorkPhoneForm,
    parse_time_choice,
    skill_choices,
    time_choices,
)
from app.visits.models import AvailabilityException, Team, TeamMember, WeeklyAvailability


def weekday_names() -> dict[int, str]:
    names = get_day_names("wide", locale=get_locale() or "vi")
    return {day: names[day] for day in range(7)}  # Monday first, as in the model


# --- teams ---------------------------------------------------------------------------------


@bp.route("/teams", methods=["GET", "POST"])
@login_required
def teams_index():
    authz.ensure(authz.has_permission(current_user, "teams.manage"))
    form = TeamForm()
    form.unit.choices = unit_choices(teams.team_units(current_user))
    if form.validate_on_submit():
        try:
            team = teams.create_team(current_user, unit=get_unit_by_code(form.unit.data), name=form.name.data)
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            db.session.commit()
            flash(_("The team %(name)s has been created. Now add its members.", name=team.name), "success")
            return redirect(url_for("visits.team_detail", team_id=team.id))
    status = 400 if request.method == "POST" else 200
    return render_template("visits/teams.html", teams=teams.teams_in_scope(current_user), form=form), status


def _load_team(team_id: int) -> Team:
    # Every team page lists the members with their unit.
    team = get_or_404(
        Team, team_id, options=[selectinload(Team.members).joinedload(TeamMember.user).joinedload(User.unit)]
    )
    authz.ensure(authz.may(current_user, "teams.manage", team.unit))
    return team


def _member_forms(team: Team, *, posted: TeamMember | None = None, posted_form=None) -> dict[int, MemberSkillsForm]:
    forms = {}
    for membership in team.members:
        if posted is not None and membership.id == posted.id:
            forms[membership.id] = posted_form
            continue
        form = MemberSkillsForm(
            prefix=f"m{membership.id}",
            formdata=None,
            skills=membership.skills or [],
            is_leader=membership.is_leader,
        )
        form.skills.choices = skill_choices()
        forms[membership.id] = form
    return forms


def _render_team(team: Team, add_form: AddMemberForm, status=200, promise_form=None, **member_form):
    members = sorted(team.members, key=lambda m: (not m.is_leader, m.user.full_name, m.id))
    if request.method == "GET":
        record_read(current_user, users=[m.user for m in members], kind="list")
    return render_template(
        "visits/teams_detail.html",
        team=team,
        members=members,
        member_forms=_member_forms(team, **member_form),
        add_form=add_form,
        promise_form=promise_form or ContactPromiseForm(formdata=None, contact_promise_days=team.contact_promise_days),
        action_form=EmptyForm(),
    ), status


@bp.route("/teams/<int:team_id>/promise", methods=["POST"])
@login_required
def team_promise(team_id: int):
    """The working days within which the team promises to call residents who ask for help."""
    team = _load_team(team_id)
    form = ContactPromiseForm()
    if form.validate_on_submit():
        try:
            teams.set_contact_promise(current_user, team, form.contact_promise_days.data)
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            days = team.contact_promise_days
            db.session.commit()
            flash(
                ngettext(
                    "The team now promises to call within %(num)d working day.",
                    "The team now promises to call within %(num)d working days.",
                    days,
                ),
                "success",
            )
            return redirect(url_for("visits.team_detail", team_id=team_id))
    return _render_team(_load_team(team_id), _add_member_form(team), 400, promise_form=form)


def _add_member_form(team: Team) -> AddMemberForm:
    form = AddMemberForm(prefix="add")
    form.user.choices = [
        SelectChoice(str(person.id), f"{person.full_name} ({person.unit.display_name})")
        for person in teams.candidate_members(team)
    ]
    form.skills.choices = skill_choices()
    return form


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@login_required
def team_detail(team_id: int):
    team = _load_team(team_id)
    form = _add_member_form(team)
    if form.validate_on_submit():
        person_id = id_from(form.user.data)
        person = db.session.get(User, person_id) if person_id else None
        try:
            membership = teams.add_member(
                current_user, team, person, skills=form.skills.data, is_leader=form.is_leader.data
            )
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            name = membership.user.full_name
            db.session.commit()
            flash(_("%(name)s has been added to the team.", name=name), "success")
            return redirect(url_for("visits.team_detail", team_id=team.id))
    return _render_team(team, form, 400 if request.method == "POST" else 200)


def _load_membership(team: Team, membership_id: int) -> TeamMember:
    membership = get_or_404(TeamMember, membership_id)
    if membership.team_id != team.id:
        abort(404)
    return membership


@bp.route("/teams/<int:team_id>/members/<int:membership_id>", methods=["POST"])
@login_required
def team_member_update(team_id: int, membership_id: int):
    team = _load_team(team_id)
    membership = _load_membership(team, membership_id)
    form = MemberSkillsForm(prefix=f"m{membership.id}")
    form.skills.choices = skill_choices()
    if form.validate_on_submit():
        try:
            teams.update_member(current_user, membership, skills=form.skills.data, is_leader=form.is_leader.data)
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            name = membership.user.full_name
            db.session.commit()
            flash(_("The changes for %(name)s have been saved.", name=name), "success")
            return redirect(url_for("visits.team_detail", team_id=team.id))
    return _render_team(team, _add_member_form(team), 400, posted=membership, posted_form=form)


@bp.route("/teams/<int:team_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def team_member_remove(team_id: int, membership_id: int):
    team = _load_team(team_id)
    membership = _load_membership(team, membership_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = membership.user.full_name
    teams.remove_member(current_user, membership)
    db.session.commit()
    flash(_("%(name)s is no longer in the team.", name=name), "success")
    return redirect(url_for("visits.team_detail", team_id=team.id))


# --- availability --------------------------------------------------------------------------


@bp.route("/availability", methods=["GET", "POST"])
@login_required
def availability():
    """A member's own hours; for managers, the list of members whose hours they keep."""
    if current_user.role == "tech_team":
        return _availability_page(current_user)
    authz.ensure(authz.has_permission(current_user, "teams.manage"))
    if request.method == "POST":
        abort(405)
    people = teams.members_in_scope(current_user)
    record_read(current_user, users=people, kind="list")
    return render_template("visits/availability_members.html", people=people)


@bp.route("/availability/<int:user_id>", methods=["GET", "POST"])
@login_required
def member_availability(user_id: int):
    return _availability_page(_load_member(user_id))


def _load_member(user_id: int) -> User:
    person = get_or_404(User, user_id)
    authz.ensure(teams.may_edit_availability(current_user, person))
    return person


def _page_url(person: User) -> str:
    if person.id == current_user.id:
        return url_for("visits.availability")
    return url_for("visits.member_availability", user_id=person.id)


@bp.route("/availability/<int:user_id>/work-phone", methods=["POST"])
@login_required
def member_work_phone(user_id: int):
    """The phone a member uses for team work, shown to the residents they are booked to visit."""
    person = _load_member(user_id)
    form = WorkPhoneForm(prefix="work")
    if form.validate_on_submit():
        try:
            teams.set_work_phone(current_user, person, form.work_phone.data)
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            db.session.commit()
            flash(_("The work phone has been saved."), "success")
            return redirect(_page_url(person))
    return _availability_page(person, work_phone_form=form, status=400)


def _availability_page(person: User, *, work_phone_form=None, status: int = 200):
    weekly_form = WeeklyWindowForm(prefix="weekly")
    weekly_form.weekday.choices = [SelectChoice(str(day), name) for day, name in weekday_names().items()]
    weekly_form.start.choices = time_choices()
    weekly_form.end.choices = time_choices(ends=True)
    exception_form = ExceptionForm(prefix="date")
    exception_form.start.choices = time_choices()
    exception_form.end.choices = time_choices(ends=True)

    posted_work_phone = work_phone_form is not None  # refused by its own route
    if work_phone_form is None:
        work_phone_form = WorkPhoneForm(
            prefix="work", formdata=None, work_phone=local_format(teams.work_phone_of(person))
        )
    if request.method == "POST" and not posted_work_phone:
        status = 400
        if weekly_form.submit.data and weekly_form.validate_on_submit():
            if _add_weekly(person, weekly_form):
                return redirect(_page_url(person))
        elif exception_form.submit.data and exception_form.validate_on_submit():
            if _add_exception(person, exception_form):
                return redirect(_page_url(person))
        elif not (weekly_form.submit.data or exception_form.submit.data):
            flash(_("Use one of the buttons on the page."), "error")

    return render_template(
        "visits/availability.html",
        person=person,
        own=person.id == current_user.id,
        windows=teams.weekly_windows(person),
        exceptions=teams.upcoming_exceptions(person),
        weekly_form=weekly_form,
        exception_form=exception_form,
        work_phone_form=work_phone_form,
        member_of_a_team=teams.is_team_member(person),
        action_form=EmptyForm(),
        weekday_names=weekday_names(),
        minute_label=teams.minute_label,
    ), status


def _add_weekly(person: User, form: WeeklyWindowForm) -> bool:
    weekday = int(form.weekday.data) if form.weekday.data in {str(day) for day in range(7)} else None
    try:
        window, absorbed = teams.add_weekly_window(
            current_user,
            person,
            weekday=weekday,
            start_minute=parse_time_choice(form.start.data),
            end_minute=parse_time_choice(form.end.data),
        )
    except FORM_ERRORS as error:
        refuse(form, error)
        return False
    start, end = teams.minute_label(window.start_minute), teams.minute_label(window.end_minute)
    hours = f"{weekday_names()[window.weekday]} {start}–{end}"
    db.session.commit()
    if absorbed:
        flash(
            _(
                "These hours overlap or touch hours already set, so they were merged into %(hours)s.",
                hours=hours,
            ),
            "success",
        )
    else:
        flash(_("Added: %(hours)s.", hours=hours), "success")
    return True


def _add_exception(person: User, form: ExceptionForm) -> bool:
    try:
        teams.add_exception(
            current_user,
            person,
            on_date=form.on_date.data,
            kind=form.kind.data,
            start_minute=parse_time_choice(form.start.data),
            end_minute=parse_time_choice(form.end.data),
            note=form.note.data,
        )
    except FORM_ERRORS as error:
        refuse(form, error)
        return False
    db.session.commit()
    flash(_("The date has been saved."), "success")
    return True


@bp.route("/availability/<int:user_id>/weekly/<int:window_id>/delete", methods=["POST"])
@login_required
def delete_weekly_window(user_id: int, window_id: int):
    person = _load_member(user_id)
    window = get_or_404(WeeklyAvailability, window_id)
    if window.user_id != person.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    teams.delete_weekly_window(current_user, window)
    db.session.commit()
    flash(_("The hours have been removed."), "success")
    return redirect(_page_url(person))


@bp.route("/availability/<int:user_id>/exceptions/<int:exception_id>/delete", methods=["POST"])
@login_required
def delete_availability_exception(user_id: int, exception_id: int):
    person = _load_member(user_id)
    exception = get_or_404(AvailabilityException, exception_id)
    if exception.user_id != person.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    teams.delete_exception(current_user, exception)
    db.session.commit()
    flash(_("The date has been removed."), "success")
    return redirect(_page_url(person))
