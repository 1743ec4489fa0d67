"""Milestones recorded in bulk for the people who attended a group help session."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.db import utcnow
from app.exceptions import DomainError
from app.extensions import db
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.forms import SessionMilestonesForm
from app.outcomes.models import Resident
from app.outcomes.routes import reached_milestones, refuse_if_not_allowed, show_error, status_for
from app.outcomes.sessions import attendees, may_record_for_session, record_session_milestones
from app.visits.models import GroupSession


def _load_session(session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id)
    if session is None:
        abort(404)
    authz.ensure(authz.unit_in_scope(current_user, session.unit) and may_record_for_session(current_user, session))
    return session


def _render(session: GroupSession, form: SessionMilestonesForm, status: int = 200):
    people = attendees(session)
    form.people.choices = [SelectChoice(str(person.id), person.full_name) for person in people]
    form.milestone.choices = [SelectChoice(m.key, m.name) for m in operations.active_milestones()]
    records = dict(
        db.session.execute(
            db.select(Resident.user_id, Resident.id).where(Resident.user_id.in_([p.id for p in people]))
        ).all()
        if people
        else []
    )
    reached = reached_milestones(list(records.values()))
    return (
        render_template(
            "outcomes/milestones_session.html",
            session=session,
            people=people,
            reached={user_id: reached.get(resident_id, []) for user_id, resident_id in records.items()},
            started=session.starts_at <= utcnow(),
            form=form,
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>/milestones", methods=["GET", "POST"])
@login_required
def session_milestones(session_id: int):
    session = _load_session(session_id)
    form = SessionMilestonesForm()
    if not form.is_submitted():
        return _render(session, form)
    if not form.validate():
        return _render(session, form, 400)
    milestone = operations.get_milestone(form.milestone.data or "")
    if milestone is None or not milestone.active:
        form.milestone.errors = [*form.milestone.errors, _("Choose the milestone.")]
        return _render(session, form, 400)
    try:
        user_ids = {int(value) for value in form.people.data or []}
    except ValueError:
        abort(400)
    try:
        result = record_session_milestones(
            current_user,
            session,
            user_ids,
            milestone,
            confirmation=form.confirmation.data,
            credit_learning=bool(form.credit_learning.data),
        )
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        show_error(form, error, {"confirmed_by": "confirmation"})
        return _render(session, form, status_for(error))
    name = milestone.name
    db.session.commit()
    flash(
        _(
            "%(milestone)s: %(new)d newly reached, %(already)d had reached it before (evidence added), "
            "%(unchanged)d already recorded from this session.",
            milestone=name,
            new=result.newly_reached,
            already=result.already_reached,
            unchanged=result.unchanged,
        ),
        "success",
    )
    if result.lessons_credited:
        flash(_("Matching lessons were credited as completed with help."), "success")
    return redirect(url_for("outcomes.session_milestones", session_id=session.id))
