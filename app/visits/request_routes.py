"""Pages for help requests: asking for help, the triage list, booking a visit from a request,
and the slot finder (on the visits blueprint)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from wtforms import SelectChoice

from app import authz
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Conflict, DomainError
from app.extensions import db
from app.units.models import Unit
from app.visits import operations
from app.visits.availability import LOCAL, find_slots, members_for
from app.visits.blueprint import bp
from app.visits.forms import (
    DURATIONS,
    BookSlotForm,
    HelpRequestForm,
    RequestStatusForm,
    SlotFinderForm,
    SlotSearchForm,
    TriageFilterForm,
    skill_choices,
)
from app.visits.models import (
    REQUEST_STATUS_TITLES,
    REQUEST_STATUSES,
    SKILL_TITLES,
    SKILLS,
    HelpRequest,
    Visit,
)
from app.visits.team_routes import show_error, unit_by_code, unit_choice
from app.visits.teams import local_today, team_units


def _may_file(user) -> bool:
    return authz.has_permission(user, "help.request") or authz.has_permission(user, "visits.manage")


def _load_request(request_id: int) -> HelpRequest:
    help_request = db.session.get(HelpRequest, request_id)
    if help_request is None:
        abort(404)
    return help_request


def waiting_for(since: datetime, now: datetime) -> str:
    waited = now - since
    if waited.days >= 1:
        return ngettext("waiting %(num)d day", "waiting %(num)d days", waited.days)
    hours = waited.seconds // 3600
    if hours >= 1:
        return ngettext("waiting %(num)d hour", "waiting %(num)d hours", hours)
    return _("waiting less than an hour")


# --- asking for help -----------------------------------------------------------------------


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request():
    authz.ensure(_may_file(current_user))
    for_self = current_user.role == "resident"
    if for_self:
        form = HelpRequestForm(name=current_user.full_name, phone=current_user.phone)
        del form.unit  # a resident asks for help in their own village
        form.consent.label.text = _(
            "I agree that my name, phone, village and this request are recorded so that the tech "
            "team can contact me and help me."
        )
    else:
        form = HelpRequestForm()
        form.unit.choices = [unit_choice(unit) for unit in team_units(current_user)]
    form.skill.choices = skill_choices(blank=_("Choose…"))
    if form.validate_on_submit():
        unit = current_user.unit if for_self else unit_by_code(form.unit.data)
        try:
            help_request = operations.create_help_request(
                current_user,
                skill=form.skill.data,
                unit=unit,
                place=form.place.data,
                name=form.name.data,
                phone=form.phone.data,
                note=form.note.data,
                preferred_times=form.preferred_times.data,
                consent=form.consent.data,
            )
        except DomainError as error:
            db.session.rollback()
            if error.status == 403:
                abort(403)
            show_error(form, _field_alias(error))
        else:
            db.session.commit()
            return redirect(url_for("visits.request_filed", request_id=help_request.id))
    elif request.method == "POST" and not form.consent.data:
        form.consent.errors = [
            *form.consent.errors,
            _("The person must agree that their details are recorded for this help."),
        ]
    status = 400 if request.method == "POST" else 200
    return render_template("visits/request_form.html", form=form, for_self=for_self), status


def _field_alias(error: DomainError) -> DomainError:
    """The operations name the unit field as the API does."""
    if error.field == "unit_code":
        error.field = "unit"
    return error


def _may_see_request(help_request: HelpRequest) -> bool:
    return current_user.id in (help_request.created_by_id, help_request.resident_id) or authz.may(
        current_user, "visits.view", help_request.unit
    )


@bp.route("/requests/<int:request_id>/filed")
@login_required
def request_filed(request_id: int):
    help_request = _load_request(request_id)
    authz.ensure(_may_see_request(help_request))
    return render_template(
        "visits/request_filed.html",
        help_request=help_request,
        skill_titles=SKILL_TITLES,
        status_titles=REQUEST_STATUS_TITLES,
    )


@bp.route("/requests/mine")
@login_required
def my_requests():
    help_requests = list(
        db.session.scalars(
            select(HelpRequest)
            .where(or_(HelpRequest.resident_id == current_user.id, HelpRequest.created_by_id == current_user.id))
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
            .limit(100)
        )
    )
    return render_template(
        "visits/requests_mine.html",
        help_requests=help_requests,
        booked=_booked_visits([r.id for r in help_requests]),
        skill_titles=SKILL_TITLES,
        status_titles=REQUEST_STATUS_TITLES,
        may_file=_may_file(current_user),
    )


def _booked_visits(request_ids: list[int]) -> dict[int, list[Visit]]:
    """Booked (not yet done) visits by request."""
    if not request_ids:
        return {}
    visits: dict[int, list[Visit]] = {}
    for visit in db.session.scalars(
        select(Visit).where(Visit.request_id.in_(request_ids), Visit.status == "booked").order_by(Visit.starts_at)
    ):
        visits.setdefault(visit.request_id, []).append(visit)
    return visits


# --- triage --------------------------------------------------------------------------------


@bp.route("/triage")
@login_required
def triage():
    authz.ensure(authz.has_permission(current_user, "visits.manage"))
    form = TriageFilterForm(request.args)
    form.status.choices = [SelectChoice(key, REQUEST_STATUS_TITLES[key]) for key in REQUEST_STATUSES]
    form.skill.choices = skill_choices(blank=_("All kinds of help"))
    status_code = 200
    if form.status.data not in REQUEST_STATUSES:
        form.status.errors = [_("Choose a status from the list.")]
        status_code = 400
    if form.skill.data and form.skill.data not in SKILLS:
        form.skill.errors = [_("Choose a kind of help from the list.")]
        status_code = 400
    help_requests = []
    if status_code == 200:
        help_requests = operations.triage_list(current_user, statuses=(form.status.data,))
        if form.skill.data:
            help_requests = [r for r in help_requests if r.skill == form.skill.data]
    return render_template(
        "visits/triage.html",
        form=form,
        help_requests=help_requests,
        booked=_booked_visits([r.id for r in help_requests]),
        now=utcnow(),
        waiting_for=waiting_for,
        skill_titles=SKILL_TITLES,
        status_titles=REQUEST_STATUS_TITLES,
        status_form=RequestStatusForm(),
    ), status_code


@bp.route("/requests/<int:request_id>/status", methods=["POST"])
@login_required
def request_status(request_id: int):
    help_request = _load_request(request_id)
    authz.ensure(authz.may(current_user, "visits.manage", help_request.unit))
    form = RequestStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.set_request_status(current_user, help_request, form.status.data)
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
        return redirect(url_for("visits.triage"))
    db.session.commit()
    flash(
        _(
            "The request of %(name)s is now: %(status)s.",
            name=help_request.name,
            status=REQUEST_STATUS_TITLES[help_request.status],
        ),
        "success",
    )
    return redirect(url_for("visits.triage"))


# --- slot finder and booking ---------------------------------------------------------------


class _Search:
    """The checked date range and length of a slot search."""

    def __init__(self, form: SlotSearchForm):
        self.errors = False
        self.first_day: date = form.from_date.data or local_today()
        self.days: int = form.days.data or 7
        if form.from_date.errors or form.days.errors:
            self.errors = True
        elif form.from_date.data is None:
            form.from_date.data = self.first_day
        self.minutes = int(form.duration.data) if (form.duration.data or "").isdigit() else 0
        if self.minutes not in DURATIONS:
            form.duration.errors = [_("Choose a length from the list.")]
            self.errors = True
            self.minutes = 60

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=LOCAL)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def slots(self, unit: Unit, skill: str):
        slots = find_slots(
            unit,
            skill,
            self.start,
            self.end,
            timedelta(minutes=self.minutes),
            buffer=operations.travel_buffer(),
            daily_cap=operations.daily_cap(),
            not_before=utcnow(),
        )
        return [(day, list(day_slots)) for day, day_slots in groupby(slots, key=lambda s: s.start.date())]

    def args(self) -> dict:
        return {"from": self.first_day.isoformat(), "days": self.days, "duration": self.minutes}


def _search_form() -> tuple[SlotSearchForm, _Search]:
    form = SlotSearchForm(request.args)
    form.validate()
    return form, _Search(form)


def _render_booking(help_request: HelpRequest, form: SlotSearchForm, search: _Search, status=200):
    days = [] if search.errors else search.slots(help_request.unit, help_request.skill)
    return render_template(
        "visits/book.html",
        help_request=help_request,
        form=form,
        search=search,
        days=days,
        booked=_booked_visits([help_request.id]).get(help_request.id, []),
        book_form=BookSlotForm(),
        skill_titles=SKILL_TITLES,
        status_titles=REQUEST_STATUS_TITLES,
    ), (400 if search.errors and status == 200 else status)


def _load_bookable_request(request_id: int) -> HelpRequest:
    help_request = _load_request(request_id)
    authz.ensure(authz.may(current_user, "visits.manage", help_request.unit))
    return help_request


@bp.route("/requests/<int:request_id>/book", methods=["GET", "POST"])
@login_required
def book_request(request_id: int):
    help_request = _load_bookable_request(request_id)
    form, search = _search_form()
    if request.method == "GET":
        return _render_booking(help_request, form, search)

    book_form = BookSlotForm()
    if not book_form.validate_on_submit():
        abort(400)
    member, starts_at, minutes = _chosen_slot(book_form)
    if member is None or member.id not in {m.id for m in members_for(help_request.unit, help_request.skill)}:
        flash(_("Choose a time from the list."), "error")
        return _render_booking(help_request, form, search, 400)
    if not _still_free(help_request, member, starts_at, minutes):
        flash(_("This time is no longer free. Choose another time or member."), "error")
        return _render_booking(help_request, form, search, 409)
    try:
        visit = operations.book_visit(
            member,
            starts_at,
            minutes,
            skill=help_request.skill,
            place=help_request.place,
            booked_by=current_user,
            request=help_request,
        )
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
        help_request = _load_bookable_request(request_id)
        return _render_booking(help_request, form, search, 409 if isinstance(error, Conflict) else 400)
    visit_id, member_name = visit.id, member.full_name
    db.session.commit()
    flash(_("The visit with %(name)s has been booked.", name=member_name), "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit_id))


def _chosen_slot(form: BookSlotForm) -> tuple[User | None, datetime | None, int]:
    try:
        member_id = int(form.member_id.data)
        starts_at = datetime.fromisoformat(form.start.data)
        minutes = int(form.duration.data)
    except (TypeError, ValueError):
        return None, None, 0
    member = db.session.get(User, member_id)
    if member is None or starts_at.tzinfo is None or minutes not in DURATIONS:
        return None, None, 0
    return member, starts_at, minutes


def _still_free(help_request: HelpRequest, member: User, starts_at: datetime, minutes: int) -> bool:
    """Is this still one of the slots the finder offers (availability, buffer, daily cap)?"""
    duration = timedelta(minutes=minutes)
    slots = find_slots(
        help_request.unit,
        help_request.skill,
        starts_at,
        starts_at + duration,
        duration,
        buffer=operations.travel_buffer(),
        daily_cap=operations.daily_cap(),
        not_before=utcnow(),
    )
    return any(slot.member.id == member.id and slot.start == starts_at for slot in slots)


@bp.route("/slots")
@login_required
def slots():
    authz.ensure(authz.has_permission(current_user, "visits.view"))
    form = SlotFinderForm(request.args)
    form.validate()
    search = _Search(form)
    form.unit.choices = [unit_choice(unit) for unit in team_units(current_user)]
    form.skill.choices = skill_choices()
    unit, days, status = None, [], 200
    if "unit" in request.args:
        unit = unit_by_code(form.unit.data)
        if unit is None or unit.level < 2:
            form.unit.errors = [_("Choose the commune or village.")]
        else:
            authz.ensure(authz.unit_in_scope(current_user, unit))
        if form.skill.data not in SKILLS:
            form.skill.errors = [_("Choose a kind of help from the list.")]
        if search.errors or form.unit.errors or form.skill.errors:
            status = 400
        else:
            days = search.slots(unit, form.skill.data)
    return render_template(
        "visits/slots.html",
        form=form,
        search=search,
        searched=status == 200 and unit is not None,
        unit=unit,
        days=days,
        skill_titles=SKILL_TITLES,
    ), status
