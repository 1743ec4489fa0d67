"""Pages for help requests: asking for help, the triage list, booking a visit for a request
(a free slot, or a time of one's choosing), and the slot finder."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, local_today, utcnow
from app.exceptions import Invalid
from app.extensions import db
from app.phones import local_format
from app.privacy.access_log import record_read
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, id_from, page_arg, refuse, unit_choices
from app.visits import help_requests, operations
from app.visits.availability import members_for
from app.visits.blueprint import bp
from app.visits.forms import (
    DURATIONS,
    BookSlotForm,
    BookTimeForm,
    CancelRequestForm,
    HelpRequestForm,
    RequestStatusForm,
    SlotFinderForm,
    SlotSearchForm,
    TimeWishForm,
    TriageFilterForm,
    skill_choices,
)
from app.visits.models import REQUEST_STATUS_TITLES, REQUEST_STATUSES, SKILL_TITLES, SKILLS, HelpRequest
from app.visits.teams import team_units

#: The operations name the unit field as the API does.
REQUEST_FIELDS = {"unit_code": "unit"}
#: Booking a time of one's choosing: the operation's names for the form's fields.
BOOK_TIME_FIELDS = {"member_id": "member", "start": "date"}
#: Asking for another time: the operation's names for the form's fields.
WISH_FIELDS = {"date": "on_date"}
TITLES = {"skill_titles": SKILL_TITLES, "status_titles": REQUEST_STATUS_TITLES}


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
    authz.ensure(help_requests.may_file(current_user))
    for_self = current_user.role == "resident"
    if for_self:
        form = HelpRequestForm(name=current_user.full_name, phone=local_format(current_user.phone))
        del form.unit  # a resident asks for help in their own village
        form.consent.label.text = _(
            "I agree that my name, phone, village and this request are recorded so that the tech "
            "team can contact me and help me."
        )
    else:
        form = HelpRequestForm()
        form.unit.choices = unit_choices(team_units(current_user))
    form.skill.choices = skill_choices(blank=_("Choose…"))
    status = 200
    if form.validate_on_submit():
        try:
            help_request = help_requests.create_help_request(
                current_user,
                skill=form.skill.data,
                unit=current_user.unit if for_self else get_unit_by_code(form.unit.data),
                place=form.place.data,
                name=form.name.data,
                phone=form.phone.data,
                note=form.note.data,
                preferred_times=form.preferred_times.data,
                consent=form.consent.data,
            )
        except FORM_ERRORS as error:
            status = refuse(form, error, REQUEST_FIELDS)
        else:
            db.session.commit()
            return redirect(url_for("visits.request_filed", request_id=help_request.id))
    elif request.method == "POST":
        status = 400
        if not form.consent.data:
            form.consent.errors = [
                *form.consent.errors,
                _("The person must agree that their details are recorded for this help."),
            ]
    return render_template("visits/request_form.html", form=form, for_self=for_self), status


def _render_request(help_request: HelpRequest, status: int = 200, *, just_filed: bool = False, **forms):
    """The request as its asker (or the team) sees it: the team's promise, the visit booked and,
    for the person it is for, who will come and their work phone; cancelling and asking for
    another time."""
    visits = help_requests.booked_visits([help_request.id]).get(help_request.id, [])
    askers = help_requests.is_askers(current_user, help_request)
    see_visitor = help_requests.may_see_visitor(current_user, help_request)
    started = any(visit.starts_at <= utcnow() for visit in visits)
    may_act = askers and help_request.status in help_requests.OPEN_STATUSES
    if may_act:
        forms.setdefault("wish_form", TimeWishForm(formdata=None))
        if not started:
            forms.setdefault("cancel_form", CancelRequestForm(formdata=None))
    return render_template(
        "visits/request_filed.html",
        help_request=help_request,
        just_filed=just_filed,
        visits=visits,
        see_visitor=see_visitor,
        work_phones=help_requests.work_phones(v.member_id for v in visits) if see_visitor else {},
        may_act=may_act,
        **forms,
        **TITLES,
    ), status


@bp.route("/requests/<int:request_id>/filed")
@login_required
def request_filed(request_id: int):
    return _render_request(help_requests.request_for(current_user, request_id), just_filed=True)


@bp.route("/requests/<int:request_id>")
@login_required
def request_page(request_id: int):
    help_request = help_requests.request_for(current_user, request_id)
    if not help_requests.is_askers(current_user, help_request):
        pair = (help_request.resident_record_id, help_request.resident_id)
        record_read(current_user, pairs=[pair], kind="resident_page")
    return _render_request(help_request)


@bp.route("/requests/<int:request_id>/cancel", methods=["POST"])
@login_required
def cancel_request(request_id: int):
    """The person who asked cancels the request (and the visit booked for it)."""
    help_request = help_requests.own_request(current_user, request_id)
    form = CancelRequestForm()
    if not form.validate_on_submit():
        return _render_request(help_request, 400, cancel_form=form)
    try:
        help_requests.cancel_request(current_user, help_request, form.reason.data)
    except FORM_ERRORS as error:
        status = refuse(form, error)
        return _render_request(help_requests.own_request(current_user, request_id), status, cancel_form=form)
    db.session.commit()
    flash(_("Your request has been cancelled."), "success")
    return redirect(url_for("visits.request_page", request_id=request_id))


@bp.route("/requests/<int:request_id>/another-time", methods=["POST"])
@login_required
def ask_another_time(request_id: int):
    """The person who asked says when would suit them better."""
    help_request = help_requests.own_request(current_user, request_id)
    form = TimeWishForm()
    if not form.validate_on_submit():
        return _render_request(help_request, 400, wish_form=form)
    try:
        help_requests.ask_another_time(current_user, help_request, form.wish.data, form.on_date.data)
    except FORM_ERRORS as error:
        status = refuse(form, error, WISH_FIELDS)
        return _render_request(help_requests.own_request(current_user, request_id), status, wish_form=form)
    db.session.commit()
    flash(_("The team has been told when would suit you. They will call you to agree on a time."), "success")
    return redirect(url_for("visits.request_page", request_id=request_id))


@bp.route("/requests/mine")
@login_required
def my_requests():
    mine = help_requests.requests_of(current_user)
    return render_template(
        "visits/requests_mine.html",
        help_requests=mine,
        booked=help_requests.booked_visits([r.id for r in mine]),
        may_file=help_requests.may_file(current_user),
        **TITLES,
    )


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
    listed, pagination = [], None
    if status_code == 200:
        pagination = help_requests.triage_list(
            current_user, statuses=(form.status.data,), skill=form.skill.data or None, page=page_arg()
        )
        if pagination.page > pagination.pages >= 1:  # past the last page: the last page
            return redirect(url_for("visits.triage", **request.args.to_dict() | {"page": pagination.pages}))
        listed = pagination.items
        record_read(current_user, pairs=[(r.resident_record_id, r.resident_id) for r in listed], kind="list")
    return render_template(
        "visits/triage.html",
        form=form,
        help_requests=listed,
        pagination=pagination,
        filter_args={"status": form.status.data, "skill": form.skill.data or ""},
        booked=help_requests.booked_visits([r.id for r in listed]),
        now=utcnow(),
        waiting_for=waiting_for,
        status_form=RequestStatusForm(),
        **TITLES,
    ), status_code


@bp.route("/requests/<int:request_id>/contacted", methods=["POST"])
@login_required
def request_contacted(request_id: int):
    """The team called the person (the first contact counts for the team's promise)."""
    help_request = help_requests.request_for(current_user, request_id, to_manage=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        help_requests.record_contact(current_user, help_request)
    except FORM_ERRORS as error:
        refuse(None, error)
        return redirect(url_for("visits.triage"))
    db.session.commit()
    flash(_("The call to %(name)s is recorded.", name=help_request.name), "success")
    return redirect(url_for("visits.triage"))


@bp.route("/requests/<int:request_id>/status", methods=["POST"])
@login_required
def request_status(request_id: int):
    help_request = help_requests.request_for(current_user, request_id, to_manage=True)
    form = RequestStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        help_requests.set_request_status(current_user, help_request, form.status.data)
    except FORM_ERRORS as error:
        refuse(None, error)
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
        return datetime.combine(self.first_day, time(0), tzinfo=LOCAL_TZ)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def slots(self, unit, skill: str):
        slots = operations.free_slots(current_user, unit, skill, self.start, self.end, self.minutes)
        return [(day, list(day_slots)) for day, day_slots in groupby(slots, key=lambda s: s.start.date())]

    def args(self) -> dict:
        return {"from": self.first_day.isoformat(), "days": self.days, "duration": self.minutes}


def _search_form() -> tuple[SlotSearchForm, _Search]:
    form = SlotSearchForm(request.args)
    form.validate()
    return form, _Search(form)


def _book_time_form(help_request: HelpRequest, form: BookTimeForm | None = None) -> BookTimeForm:
    form = form or BookTimeForm(formdata=None)
    form.member.choices = [
        SelectChoice(str(member.id), member.full_name) for member in members_for(help_request.unit, help_request.skill)
    ]
    return form


def _render_booking(help_request: HelpRequest, status=200, time_form: BookTimeForm | None = None):
    form, search = _search_form()
    days = [] if search.errors else search.slots(help_request.unit, help_request.skill)
    return render_template(
        "visits/book.html",
        help_request=help_request,
        form=form,
        search=search,
        days=days,
        booked=help_requests.booked_visits([help_request.id]).get(help_request.id, []),
        book_form=BookSlotForm(),
        time_form=_book_time_form(help_request, time_form),
        may_override=authz.may(current_user, "visits.override", help_request.unit),
        **TITLES,
    ), (400 if search.errors and status == 200 else status)


def _book(help_request: HelpRequest, member: User | None, starts_at: datetime, minutes: int, form):
    """Book the visit and go to its page; when the operation refuses, the booking page again
    with the reason (nothing kept)."""
    try:
        if member is None:
            raise Invalid(_("Choose a tech-team member of this commune."), field="member_id")
        visit = operations.book_visit(
            member,
            starts_at,
            minutes,
            skill=help_request.skill,
            place=help_request.place,
            booked_by=current_user,
            request=help_request,
            override=bool(getattr(form, "override", None) and form.override.data),
            override_reason=getattr(getattr(form, "override_reason", None), "data", None),
        )
    except FORM_ERRORS as error:
        status = refuse(form, error, BOOK_TIME_FIELDS)
        help_request = help_requests.request_for(current_user, help_request.id, to_manage=True)
        return _render_booking(help_request, status, form if isinstance(form, BookTimeForm) else None)
    visit_id, member_name = visit.id, member.full_name
    db.session.commit()
    flash(_("The visit with %(name)s has been booked.", name=member_name), "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit_id))


@bp.route("/requests/<int:request_id>/book", methods=["GET", "POST"])
@login_required
def book_request(request_id: int):
    """Book one of the free slots the page offers."""
    help_request = help_requests.request_for(current_user, request_id, to_manage=True)
    if request.method == "GET":
        pair = (help_request.resident_record_id, help_request.resident_id)
        record_read(current_user, pairs=[pair], kind="resident_page")
        return _render_booking(help_request)
    book_form = BookSlotForm()
    if not book_form.validate_on_submit():
        abort(400)
    member, starts_at, minutes = _chosen_slot(book_form)
    if starts_at is None:
        flash(_("Choose a time from the list."), "error")
        return _render_booking(help_request, 400)
    return _book(help_request, member, starts_at, minutes, book_form)


@bp.route("/requests/<int:request_id>/book-time", methods=["POST"])
@login_required
def book_request_at_time(request_id: int):
    """Book a time of one's choosing (and, for commune managers, outside the member's hours)."""
    help_request = help_requests.request_for(current_user, request_id, to_manage=True)
    form = _book_time_form(help_request, BookTimeForm())
    if not form.validate_on_submit():
        return _render_booking(help_request, 400, form)
    member_id = id_from(form.member.data)
    member = db.session.get(User, member_id) if member_id else None
    starts_at = datetime.combine(form.date.data, form.time.data, tzinfo=LOCAL_TZ)
    return _book(help_request, member, starts_at, form.duration_minutes.data, form)


def _chosen_slot(form: BookSlotForm) -> tuple[User | None, datetime | None, int]:
    """The member, start and length of the slot chosen (None when the form was not one of the
    page's own: a slot's values are never typed by a person)."""
    try:
        member_id = int(form.member_id.data)
        starts_at = datetime.fromisoformat(form.start.data)
        minutes = int(form.duration.data)
    except (TypeError, ValueError, OverflowError):
        return None, None, 0
    if starts_at.tzinfo is None or minutes not in DURATIONS or not 0 < member_id <= MAX_ID:
        return None, None, 0
    member = db.session.get(User, member_id)
    return (member, starts_at, minutes) if member is not None else (None, None, 0)


@bp.route("/slots")
@login_required
def slots():
    authz.ensure(authz.has_permission(current_user, "visits.view"))
    form = SlotFinderForm(request.args)
    form.validate()
    search = _Search(form)
    form.unit.choices = unit_choices(team_units(current_user))
    form.skill.choices = skill_choices()
    unit, days, status = None, [], 200
    if "unit" in request.args:
        unit = get_unit_by_code(form.unit.data)
        if search.errors:
            status = 400
        else:
            try:
                days = search.slots(unit, form.skill.data)
            except FORM_ERRORS as error:
                status = refuse(form, error)
    return render_template(
        "visits/slots.html",
        form=form,
        search=search,
        searched=status == 200 and unit is not None,
        unit=unit,
        days=days,
        skill_titles=SKILL_TITLES,
    ), status
