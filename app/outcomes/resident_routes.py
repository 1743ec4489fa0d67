"""The resident page: household, milestones and their evidence, learning, confidence,
follow-ups; and its forms (record a milestone, a self-assessment, link an account)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, select
from sqlalchemy.orm import contains_eager
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.exceptions import DomainError
from app.extensions import db
from app.learning import operations as learning
from app.learning.models import COMPLETION_MODE_TITLES, COMPLETION_MODES
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.forms import STAGE_TITLES, AssessmentForm, LinkAccountForm, MilestoneForm
from app.outcomes.models import (
    CONFIRMATION_TITLES,
    ConfidenceAssessment,
    FollowUp,
    Milestone,
    MilestoneEvidence,
    Resident,
    ResidentMilestone,
)
from app.outcomes.residents import create_account_for_resident, link_account
from app.outcomes.routes import load_resident, refuse_if_not_allowed, show_error, status_for
from app.units.models import Unit
from app.visits.availability import members_for

#: Operations name some fields differently from the milestone form.
MILESTONE_FIELDS = {"confirmed_by": "confirmation", "date": "on_date"}
ACCOUNT_CHOICES_LIMIT = 500


def _may_record(resident: Resident) -> bool:
    return authz.may(current_user, "outcomes.record", resident.unit)


def _fill_milestone_choices(form: MilestoneForm, resident: Resident) -> list[User]:
    members = members_for(resident.unit)
    form.milestone.choices = [SelectChoice(m.key, m.name) for m in operations.active_milestones()]
    form.helped_by.choices = [
        SelectChoice("", _("No one: reached on their own")),
        *(SelectChoice(str(member.id), member.full_name) for member in members),
    ]
    return members


def _account_candidates(resident: Resident) -> list[User]:
    """Residents' accounts in the resident's commune that have no resident record yet."""
    area = resident.unit.commune() or resident.unit
    return list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .outerjoin(Resident, Resident.user_id == User.id)
            .options(contains_eager(User.unit))
            .where(
                Unit.path.startswith(area.path, autoescape=True),
                User.role == "resident",
                User.active.is_(True),
                Resident.id.is_(None),
            )
            .order_by(User.full_name, User.id)
            .limit(ACCOUNT_CHOICES_LIMIT)
        )
    )


def _learning_summary(user: User) -> list[dict]:
    """Per course: progress, and modules completed by self-study and with help counted apart."""
    courses = []
    for progress in learning.learner_courses(user):
        by_mode = dict.fromkeys(COMPLETION_MODES, 0)
        for module in progress.modules:
            if module.completed is not None:
                by_mode[module.completed.mode] += 1
        courses.append({"progress": progress, "by_mode": by_mode})
    return courses


def _render_resident(resident: Resident, status: int = 200, **forms):
    may_record = _may_record(resident)
    reached = db.session.execute(
        select(ResidentMilestone, Milestone)
        .join(Milestone, Milestone.id == ResidentMilestone.milestone_id)
        .where(ResidentMilestone.resident_id == resident.id)
        .order_by(Milestone.position, Milestone.id)
    ).all()
    evidence = list(
        db.session.scalars(
            select(MilestoneEvidence)
            .where(MilestoneEvidence.resident_id == resident.id)
            .order_by(MilestoneEvidence.on_date, MilestoneEvidence.id)
        )
    )
    people_ids = {e.recorded_by_id for e in evidence} | {e.helped_by_id for e in evidence if e.helped_by_id}
    people = (
        {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    milestones = {m.id: m for _r, m in reached}
    for item in evidence:
        if item.milestone_id not in milestones:
            milestones[item.milestone_id] = db.session.get(Milestone, item.milestone_id)
    # The evidence behind each milestone's date: the first confirmation on the day it was reached.
    first_evidence: dict[int, MilestoneEvidence] = {}
    dates = {r.milestone_id: r.reached_on for r, _m in reached}
    for item in evidence:
        if item.on_date == dates.get(item.milestone_id):
            first_evidence.setdefault(item.milestone_id, item)
    assessments = list(
        db.session.scalars(
            select(ConfidenceAssessment)
            .where(ConfidenceAssessment.resident_id == resident.id)
            .order_by(ConfidenceAssessment.taken_on, ConfidenceAssessment.id)
        )
    )
    follow_ups = list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.resident_id == resident.id)
            .order_by(case((FollowUp.status == "open", 0), else_=1), FollowUp.due_on, FollowUp.id)
        )
    )
    if may_record:
        if "milestone_form" not in forms:
            forms["milestone_form"] = MilestoneForm(
                formdata=None,
                on_date=operations.local_today(),
                helped_by=str(current_user.id),
            )
        _fill_milestone_choices(forms["milestone_form"], resident)
        forms.setdefault("assessment_form", AssessmentForm(formdata=None))
        if resident.user_id is None:
            forms.setdefault("link_form", LinkAccountForm(formdata=None))
            forms["link_form"].account.choices = [
                SelectChoice("", _("Choose…")),
                *(
                    SelectChoice(str(user.id), f"{user.full_name} ({user.username}, {user.unit.display_name})")
                    for user in _account_candidates(resident)
                ),
            ]
    return (
        render_template(
            "outcomes/residents_show.html",
            resident=resident,
            may_record=may_record,
            reached=reached,
            first_evidence=first_evidence,
            evidence=list(reversed(evidence)),
            milestones=milestones,
            people=people,
            courses=_learning_summary(resident.user) if resident.user is not None else None,
            assessments=assessments,
            gain=operations.confidence_gain(resident),
            statements=operations.CONFIDENCE_STATEMENTS,
            stage_titles=STAGE_TITLES,
            confirmation_titles=CONFIRMATION_TITLES,
            mode_titles=COMPLETION_MODE_TITLES,
            follow_ups=follow_ups,
            today=operations.local_today(),
            **forms,
        ),
        status,
    )


@bp.route("/residents/<int:resident_id>")
@login_required
def resident(resident_id: int):
    return _render_resident(load_resident(resident_id))


@bp.route("/residents/<int:resident_id>/milestones", methods=["POST"])
@login_required
def record_milestone(resident_id: int):
    resident = load_resident(resident_id)
    authz.ensure(_may_record(resident))
    form = MilestoneForm()
    members = {str(member.id): member for member in _fill_milestone_choices(form, resident)}
    if not form.validate_on_submit():
        return _render_resident(resident, 400, milestone_form=form)
    milestone = operations.get_milestone(form.milestone.data)
    if milestone is None or not milestone.active:
        form.milestone.errors = [*form.milestone.errors, _("Choose the milestone.")]
        return _render_resident(resident, 400, milestone_form=form)
    helper = None
    if form.helped_by.data:
        helper = members.get(form.helped_by.data)
        if helper is None:
            form.helped_by.errors = [*form.helped_by.errors, _("Choose a member of the commune's teams.")]
            return _render_resident(resident, 400, milestone_form=form)
    try:
        reached, created = operations.record_milestone(
            current_user,
            resident,
            milestone,
            on_date=form.on_date.data,
            confirmation=form.confirmation.data,
            helped_by=helper,
        )
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        show_error(form, error, MILESTONE_FIELDS)
        return _render_resident(resident, status_for(error), milestone_form=form)
    reached_on = reached.reached_on
    name = milestone.name
    db.session.commit()
    if created:
        flash(_("Milestone recorded: %(milestone)s.", milestone=name), "success")
    else:
        flash(
            _(
                "%(milestone)s: already reached on %(date)s; evidence added.",
                milestone=name,
                date=format_date(reached_on),
            ),
            "info",
        )
    return redirect(url_for("outcomes.resident", resident_id=resident_id))


@bp.route("/residents/<int:resident_id>/assessments", methods=["POST"])
@login_required
def record_assessment(resident_id: int):
    resident = load_resident(resident_id)
    authz.ensure(_may_record(resident))
    form = AssessmentForm()
    if not form.validate_on_submit():
        return _render_resident(resident, 400, assessment_form=form)
    answers = {key: getattr(form, key).data for key in operations.CONFIDENCE_STATEMENTS}
    try:
        operations.record_assessment(current_user, resident, stage=form.stage.data, answers=answers)
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        show_error(form, error)
        return _render_resident(resident, status_for(error), assessment_form=form)
    db.session.commit()
    flash(_("The self-assessment has been recorded."), "success")
    return redirect(url_for("outcomes.resident", resident_id=resident_id))


@bp.route("/residents/<int:resident_id>/new-account", methods=["POST"])
@login_required
def create_resident_account(resident_id: int):
    resident = load_resident(resident_id)
    authz.ensure(_may_record(resident))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        account = create_account_for_resident(current_user, resident)
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        flash(error.message, "error")
        return redirect(url_for("outcomes.resident", resident_id=resident_id))
    db.session.commit()
    return render_template("users/slip.html", person=account.user, password=account.one_time_password)


@bp.route("/residents/<int:resident_id>/account", methods=["POST"])
@login_required
def link_resident_account(resident_id: int):
    resident = load_resident(resident_id)
    authz.ensure(_may_record(resident))
    form = LinkAccountForm()
    if resident.user_id is not None:
        flash(_("This resident already has an account."), "error")
        return _render_resident(resident, 409)
    candidates = {str(user.id): user for user in _account_candidates(resident)}
    if not form.validate_on_submit():
        return _render_resident(resident, 400, link_form=form)
    account = candidates.get(form.account.data)
    if account is None:
        form.account.errors = [*form.account.errors, _("Choose one of the accounts listed.")]
        return _render_resident(resident, 400, link_form=form)
    try:
        link_account(current_user, resident, account)
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        show_error(form, error, {"user": "account"})
        return _render_resident(resident, status_for(error), link_form=form)
    db.session.commit()
    flash(_("The account %(username)s is now linked to this resident.", username=account.username), "success")
    return redirect(url_for("outcomes.resident", resident_id=resident_id))
