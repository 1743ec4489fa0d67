"""A person's requests about their data: the person's own page (/privacy/me/requests), the page
of a resident for the staff who serve them, the officer's list with what is late, and one
request's page. Correction and restriction of processing live here too."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import corrections, requests, restriction
from app.privacy.blueprint import bp
from app.privacy.export import resident_for_request
from app.privacy.models import REQUEST_KIND_TITLES, REQUEST_OUTCOME_TITLES, PersonRequest
from app.privacy.request_forms import (
    AccountCorrectionForm,
    CloseRequestForm,
    PersonRequestForm,
    ResidentCorrectionForm,
    ResidentRequestForm,
)
from app.privacy.subjects import subject_of_resident, subject_of_user
from app.views import FORM_ERRORS, clean_arg, get_or_404, refuse


def _titles() -> dict:
    """The titles the privacy request templates show for stored keys."""
    return {
        "status_titles": requests.STATUS_TITLES,
        "outcome_titles": REQUEST_OUTCOME_TITLES,
        "field_titles": corrections.FIELD_TITLES,
    }


def _submitted(form, fields) -> dict:
    """The fields the browser sent (a field left out is left as it is)."""
    return {name: getattr(form, name).data for name in fields if name in request.form}


# --- the person's own page -------------------------------------------------------------------


def _render_me(request_form=None, correction_form=None, status: int = 200):
    return (
        render_template(
            "privacy/my_requests.html",
            person_requests=requests.requests_of_user(current_user),
            request_form=request_form or PersonRequestForm(formdata=None),
            correction_form=correction_form
            or AccountCorrectionForm(formdata=None, data=AccountCorrectionForm.stored_values(current_user)),
            history=corrections.corrections_of(subject_of_user(current_user)),
            restricted=restriction.is_restricted(current_user),
            **_titles(),
        ),
        status,
    )


@bp.route("/me/requests", methods=["GET", "POST"])
@login_required
def my_requests():
    if request.method == "GET":
        return _render_me()
    form = PersonRequestForm()
    if form.validate_on_submit():
        try:
            requests.file_request(form.kind.data, filed_by=current_user, user=current_user, details=form.details.data)
        except FORM_ERRORS as error:
            return _render_me(request_form=form, status=refuse(form, error))
        db.session.commit()
        flash(_("Your request has been received. You will get an answer within 2 working days."), "success")
        return redirect(url_for("privacy.my_requests"))
    return _render_me(request_form=form, status=400)


@bp.route("/me/corrections", methods=["POST"])
@login_required
def correct_my_data():
    form = AccountCorrectionForm()
    if form.validate_on_submit():
        try:
            changed = corrections.correct_account(
                current_user,
                current_user,
                _submitted(form, corrections.ACCOUNT_FIELDS),
                person_request=corrections.open_correction_request(subject_of_user(current_user)),
            )
        except FORM_ERRORS as error:
            return _render_me(correction_form=form, status=refuse(form, error))
        db.session.commit()
        flash(_("Your data has been corrected.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("privacy.my_requests"))
    return _render_me(correction_form=form, status=400)


# --- a resident, for the staff who serve them ------------------------------------------------


def _render_resident(resident: Resident, request_form=None, correction_form=None, status: int = 200):
    return (
        render_template(
            "privacy/resident_requests.html",
            resident=resident,
            person_requests=requests.requests_of_resident(resident),
            request_form=request_form or ResidentRequestForm(formdata=None),
            correction_form=correction_form
            or ResidentCorrectionForm(formdata=None, data=ResidentCorrectionForm.stored_values(resident)),
            history=corrections.corrections_of(subject_of_resident(resident)),
            restricted=restriction.is_restricted(resident),
            may_restrict=authz.may_restrict(current_user, resident),
            action_form=EmptyForm(),
            **_titles(),
        ),
        status,
    )


@bp.route("/residents/<int:resident_id>/requests", methods=["GET", "POST"])
@login_required
def resident_requests(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    if request.method == "GET":
        return _render_resident(resident)
    form = ResidentRequestForm()
    if form.validate_on_submit():
        try:
            requests.file_request(form.kind.data, filed_by=current_user, resident=resident, details=form.details.data)
        except FORM_ERRORS as error:
            return _render_resident(resident, request_form=form, status=refuse(form, error))
        db.session.commit()
        flash(_("The request has been recorded."), "success")
        return redirect(url_for("privacy.resident_requests", resident_id=resident.id))
    return _render_resident(resident, request_form=form, status=400)


@bp.route("/residents/<int:resident_id>/corrections", methods=["POST"])
@login_required
def correct_resident(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    form = ResidentCorrectionForm()
    if form.validate_on_submit():
        try:
            changed = corrections.correct_resident(
                current_user,
                resident,
                _submitted(form, corrections.RESIDENT_FIELDS),
                person_request=corrections.open_correction_request(subject_of_resident(resident)),
            )
        except FORM_ERRORS as error:
            return _render_resident(resident, correction_form=form, status=refuse(form, error))
        db.session.commit()
        flash(_("The data has been corrected.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("privacy.resident_requests", resident_id=resident.id))
    return _render_resident(resident, correction_form=form, status=400)


def _restriction_change(person, restrict: bool) -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)
    if restrict:
        restriction.restrict(current_user, person)
        flash(
            _("Processing is restricted: the person is left out of scheduling, messages, campaigns and exports."),
            "success",
        )
    else:
        restriction.lift(current_user, person)
        flash(_("The restriction is lifted."), "success")
    db.session.commit()


@bp.route("/residents/<int:resident_id>/restrict", methods=["POST"])
@login_required
def restrict_resident(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    _restriction_change(resident, True)
    return redirect(url_for("privacy.resident_requests", resident_id=resident.id))


@bp.route("/residents/<int:resident_id>/lift-restriction", methods=["POST"])
@login_required
def lift_resident_restriction(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    _restriction_change(resident, False)
    return redirect(url_for("privacy.resident_requests", resident_id=resident.id))


# --- the officer's list and one request -------------------------------------------------------


@bp.route("/requests")
@login_required
def person_requests():
    authz.ensure(authz.may_see_person_requests(current_user))
    status, kind = clean_arg("status"), clean_arg("kind")
    items = requests.requests_for_officer(current_user, status=status, kind=kind)
    return render_template(
        "privacy/requests.html",
        person_requests=items,
        late={item.id: requests.late_reasons(item) for item in items},
        status=status if status in requests.STATUSES else "",
        kind=kind if kind in REQUEST_KIND_TITLES else "",
        statuses=requests.STATUSES,
        kinds=REQUEST_KIND_TITLES,
        action_form=EmptyForm(),
        **_titles(),
    )


def _load_request(request_id: int) -> PersonRequest:
    person_request = get_or_404(PersonRequest, request_id)
    authz.ensure(authz.may_handle_person_request(current_user, person_request))
    return person_request


def _render_request(person_request: PersonRequest, close_form=None, status: int = 200):
    person = person_request.resident or person_request.user
    return (
        render_template(
            "privacy/request_show.html",
            item=person_request,
            late=requests.late_reasons(person_request),
            close_form=close_form or CloseRequestForm(formdata=None),
            action_form=EmptyForm(),
            person=person,
            restricted=restriction.is_restricted(person),
            may_restrict=person is not None and authz.may_restrict(current_user, person),
            **_titles(),
        ),
        status,
    )


@bp.route("/requests/<int:request_id>")
@login_required
def person_request(request_id: int):
    return _render_request(_load_request(request_id))


@bp.route("/requests/<int:request_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge_request(request_id: int):
    person_request = _load_request(request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    requests.acknowledge(current_user, person_request)
    db.session.commit()
    flash(_("The request is acknowledged."), "success")
    return redirect(_back_to(person_request))


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@login_required
def close_request(request_id: int):
    person_request = _load_request(request_id)
    form = CloseRequestForm()
    if form.validate_on_submit():
        try:
            requests.close(current_user, person_request, form.outcome.data, form.note.data)
        except FORM_ERRORS as error:
            return _render_request(person_request, close_form=form, status=refuse(form, error))
        db.session.commit()
        flash(_("The request is closed."), "success")
        return redirect(_back_to(person_request))
    return _render_request(person_request, close_form=form, status=400)


@bp.route("/requests/<int:request_id>/restrict", methods=["POST"])
@login_required
def restrict_for_request(request_id: int):
    person_request = _load_request(request_id)
    _restriction_change(_person_of(person_request), True)
    return redirect(url_for("privacy.person_request", request_id=person_request.id))


@bp.route("/requests/<int:request_id>/lift-restriction", methods=["POST"])
@login_required
def lift_for_request(request_id: int):
    person_request = _load_request(request_id)
    _restriction_change(_person_of(person_request), False)
    return redirect(url_for("privacy.person_request", request_id=person_request.id))


def _person_of(person_request: PersonRequest) -> User | Resident:
    person = person_request.resident or person_request.user
    if person is None:
        abort(404)
    return person


def _back_to(person_request: PersonRequest) -> str:
    """Back to the list when the button was pressed there, else to the request's page."""
    if request.form.get("next") == "list":
        return url_for("privacy.person_requests")
    return url_for("privacy.person_request", request_id=person_request.id)
