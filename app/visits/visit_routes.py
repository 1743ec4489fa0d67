"""The visit page and what can be done to a visit: move, cancel, mark "not there", complete."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.auth.forms import EmptyForm
from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.privacy.access_log import record_read
from app.views import FORM_ERRORS, refuse
from app.visits import operations
from app.visits.blueprint import bp
from app.visits.forms import CancelVisitForm, CompleteVisitForm, RescheduleForm, skill_choices
from app.visits.models import VISIT_TITLES, Visit

#: The operations' names for the fields of the reschedule form.
RESCHEDULE_FIELDS = {"start": "date"}


def _render_visit(visit: Visit, status: int = 200, **forms):
    staff = authz.is_visit_staff(current_user, visit)
    may_change = staff and authz.may_change_visit(current_user, visit)
    if may_change:
        local_start = visit.starts_at.astimezone(LOCAL_TZ)
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
            may_override=may_change and authz.may(current_user, "visits.override", visit.unit),
            started=visit.starts_at <= utcnow(),
            **VISIT_TITLES,
            **forms,
        ),
        status,
    )


@bp.route("/visits/<int:visit_id>")
@login_required
def visit_detail(visit_id: int):
    visit = operations.visit_for(current_user, visit_id)
    record_read(current_user, pairs=[(visit.resident_record_id, visit.resident_id)], kind="resident_page")
    return _render_visit(visit)


def _visit_action(visit_id: int, form, form_name: str, apply, success: str, aliases=None):
    """Run one change on the visit: the operation's message and nothing changed when it refuses."""
    visit = operations.find_visit(visit_id)
    operations.ensure_may_change(current_user, visit)
    if form_name == "complete_form":
        form.skills_done.choices = skill_choices()
    if not form.validate_on_submit():
        return _render_visit(visit, 400, **{form_name: form})
    try:
        apply(visit, form)
    except FORM_ERRORS as error:
        status = refuse(form, error, aliases)
        return _render_visit(operations.find_visit(visit_id), status, **{form_name: form})
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit_id))


@bp.route("/visits/<int:visit_id>/reschedule", methods=["POST"])
@login_required
def reschedule_visit(visit_id: int):
    def apply(visit, form):
        operations.reschedule_visit(
            current_user,
            visit,
            datetime.combine(form.date.data, form.time.data, tzinfo=LOCAL_TZ),
            form.duration_minutes.data,
            override=form.override.data,
            override_reason=form.override_reason.data,
        )

    return _visit_action(
        visit_id, RescheduleForm(), "reschedule_form", apply, _("The visit has been moved."), RESCHEDULE_FIELDS
    )


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
