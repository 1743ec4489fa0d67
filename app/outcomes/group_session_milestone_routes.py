"""The page recording milestones, after a group help session, for the people who attended it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.db import utcnow
from app.extensions import db
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.forms import GroupSessionMilestonesForm
from app.outcomes.group_session_milestones import (
    attendees,
    may_record_after_group_session,
    record_group_session_milestones,
)
from app.outcomes.models import Resident
from app.views import FORM_ERRORS, get_or_404, refuse
from app.visits.models import GroupSession


def _load_group_session(session_id: int) -> GroupSession:
    group_session = get_or_404(GroupSession, session_id)
    authz.ensure(may_record_after_group_session(current_user, group_session))
    return group_session


def _render(group_session: GroupSession, form: GroupSessionMilestonesForm, status: int = 200):
    people = attendees(group_session)
    form.people.choices = [SelectChoice(str(person.id), person.full_name) for person in people]
    form.milestone.choices = [SelectChoice(m.key, m.name) for m in operations.active_milestones()]
    records = dict(
        db.session.execute(
            db.select(Resident.user_id, Resident.id).where(Resident.user_id.in_([p.id for p in people]))
        ).all()
        if people
        else []
    )
    reached = operations.reached_milestones(list(records.values()))
    return (
        render_template(
            "outcomes/group_session_milestones.html",
            group_session=group_session,
            people=people,
            reached={user_id: reached.get(resident_id, []) for user_id, resident_id in records.items()},
            started=group_session.starts_at <= utcnow(),
            form=form,
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>/milestones", methods=["GET", "POST"])
@login_required
def group_session_milestones(session_id: int):
    group_session = _load_group_session(session_id)
    form = GroupSessionMilestonesForm()
    if not form.is_submitted():
        return _render(group_session, form)
    if not form.validate():
        return _render(group_session, form, 400)
    milestone = operations.get_milestone(form.milestone.data or "")
    if milestone is None or not milestone.active:
        form.milestone.errors = [*form.milestone.errors, _("Choose the milestone.")]
        return _render(group_session, form, 400)
    try:
        user_ids = {int(value) for value in form.people.data or []}
    except ValueError:
        abort(400)
    try:
        result = record_group_session_milestones(
            current_user,
            group_session,
            user_ids,
            milestone,
            confirmation=form.confirmation.data,
            credit_learning=bool(form.credit_learning.data),
        )
    except FORM_ERRORS as error:
        return _render(group_session, form, refuse(form, error, {"confirmed_by": "confirmation"}))
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
    return redirect(url_for("outcomes.group_session_milestones", session_id=group_session.id))
