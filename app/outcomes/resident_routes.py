"""Residents: the list, adding one by hand, and a resident's page (household, milestones and
their evidence, learning, confidence, follow-ups) with its forms (record a milestone, a
self-assessment, make or link an account)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.db import local_today
from app.extensions import db
from app.i18n import format_date
from app.learning import operations as learning
from app.learning.models import COMPLETION_MODE_TITLES, COMPLETION_MODES
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.forms import STAGE_TITLES, AssessmentForm, LinkAccountForm, MilestoneForm, ResidentForm
from app.outcomes.models import (
    CONFIRMATION_TITLES,
    ConfidenceAssessment,
    FollowUp,
    Milestone,
    MilestoneEvidence,
    Resident,
    ResidentMilestone,
)
from app.outcomes.residents import (
    VILLAGE_KINDS,
    account_candidates,
    add_resident,
    create_account_for_resident,
    filter_units,
    link_account,
    may_view_resident,
    residents_query,
    units_in_scope,
)
from app.privacy.access_log import record_read
from app.privacy.forms import CONSENT_FIELDS
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, clean_arg, get_or_404, page_arg, refuse, unit_choices, unit_or_404
from app.visits.availability import members_for

PAGE_SIZE = 50
#: Operations name some fields differently from the milestone form.
MILESTONE_FIELDS = {"confirmed_by": "confirmation", "date": "on_date"}


# --- the residents list and a new resident -----------------------------------------------------


@bp.route("/residents")
@login_required
def residents():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    search = clean_arg("q")
    unit_code = clean_arg("unit", 64)
    unit = None
    if unit_code:
        unit = unit_or_404(unit_code)
        authz.ensure(authz.unit_in_scope(current_user, unit))
    query = residents_query(current_user, unit=unit, search=search or None).options(
        selectinload(Resident.household), selectinload(Resident.unit)
    )
    pagination = db.paginate(query, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    record_read(current_user, residents=pagination.items, kind="list")
    return render_template(
        "outcomes/residents.html",
        pagination=pagination,
        search=search,
        unit=unit,
        units=filter_units(current_user),
        reached=operations.reached_milestones([resident.id for resident in pagination.items]),
        may_record=authz.has_permission(current_user, "outcomes.record"),
        may_import=authz.has_permission(current_user, "outcomes.import"),
    )


@bp.route("/residents/new", methods=["GET", "POST"])
@login_required
def new_resident():
    authz.ensure(authz.has_permission(current_user, "outcomes.record"))
    form = ResidentForm()
    villages = units_in_scope(current_user, VILLAGE_KINDS)
    form.village.choices = [SelectChoice("", _("Choose…")), *unit_choices(villages)]
    status = 200
    if form.validate_on_submit():
        try:
            resident = add_resident(
                current_user,
                village=get_unit_by_code(form.village.data),
                full_name=form.full_name.data,
                birth_year=form.birth_year.data,
                phone=form.phone.data,
                legal_basis=form.legal_basis.data,
                consents=form.chosen_consents(),
                evidence=form.consent_evidence.data,
            )
        except FORM_ERRORS as error:
            status = refuse(form, error, CONSENT_FIELDS)
        else:
            db.session.commit()
            flash(_("The resident has been added."), "success")
            return redirect(url_for("outcomes.resident", resident_id=resident.id))
    elif request.method == "POST":
        status = 400
    return render_template("outcomes/residents_new.html", form=form), status


# --- a resident's page -------------------------------------------------------------------------


def _load_resident(resident_id: int) -> Resident:
    """The resident (404), when the current person may see residents there (403)."""
    resident = get_or_404(Resident, resident_id)
    authz.ensure(may_view_resident(current_user, resident))
    return resident


def _fill_milestone_choices(form: MilestoneForm, resident: Resident) -> None:
    form.milestone.choices = [SelectChoice(m.key, m.name) for m in operations.active_milestones()]
    form.helped_by.choices = [
        SelectChoice("", _("No one: reached on their own")),
        *(SelectChoice(str(member.id), member.full_name) for member in members_for(resident.unit)),
    ]


def _learning_summary(user: User) -> list[dict]:
    """Per course: progress, and modules completed by self-study and with help counted apart."""
    courses = []
    for progress in learning.learner_courses(user):
        by_mode = dict.fromkeys(COMPLETION_MODES, 0)
        for module in progress.modules:
            if module.completed is not None:
                by_mode[module.completed.mode] += 1
        # Quizzes the learner can no longer take: a manager may give the attempts back.
        out_of_attempts = [
            module.module.active_quiz
            for module in progress.modules
            if module.module.active_quiz is not None
            and module.completed is None
            and learning.out_of_attempts(user, module.module.active_quiz)
        ]
        courses.append({"progress": progress, "by_mode": by_mode, "out_of_attempts": out_of_attempts})
    return courses


def _render_resident(resident: Resident, status: int = 200, **forms):
    may_record = operations.may_record_for(current_user, resident)
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
                on_date=local_today(),
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
                    for user in account_candidates(resident)
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
            may_reset_attempts=resident.user is not None and authz.may_reset_attempts(current_user, resident.user),
            action_form=EmptyForm(),
            assessments=assessments,
            gain=operations.confidence_gain(resident),
            statements=operations.CONFIDENCE_STATEMENTS,
            stage_titles=STAGE_TITLES,
            confirmation_titles=CONFIRMATION_TITLES,
            mode_titles=COMPLETION_MODE_TITLES,
            follow_ups=follow_ups,
            today=local_today(),
            **forms,
        ),
        status,
    )


@bp.route("/residents/<int:resident_id>")
@login_required
def resident(resident_id: int):
    resident = _load_resident(resident_id)
    record_read(current_user, residents=[resident], kind="resident_page")
    return _render_resident(resident)


@bp.route("/residents/<int:resident_id>/quizzes/<int:quiz_id>/reset-attempts", methods=["POST"])
@login_required
def reset_quiz_attempts(resident_id: int, quiz_id: int):
    resident = _load_resident(resident_id)
    if resident.user is None:
        abort(404)
    quiz = learning.require_quiz(quiz_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        learning.reset_attempts(current_user, resident.user, quiz)
    except FORM_ERRORS as error:  # passed meanwhile, or attempts already given back
        refuse(None, error)
    else:
        db.session.commit()
        flash(
            _(
                "%(name)s can take the quiz “%(quiz)s” again.",
                name=resident.user.full_name,
                quiz=quiz.module.title,
            ),
            "success",
        )
    return redirect(url_for("outcomes.resident", resident_id=resident.id, _anchor="learning-heading"))


@bp.route("/residents/<int:resident_id>/milestones", methods=["POST"])
@login_required
def record_milestone(resident_id: int):
    # Who may record is the operation's rule, with its message, as in the API.
    resident = get_or_404(Resident, resident_id)
    operations.ensure_may_act_for(current_user, resident)
    form = MilestoneForm()
    _fill_milestone_choices(form, resident)
    if not form.validate_on_submit():
        return _render_resident(resident, 400, milestone_form=form)
    milestone = operations.get_milestone(form.milestone.data)
    if milestone is None or not milestone.active:
        form.milestone.errors = [*form.milestone.errors, _("Choose the milestone.")]
        return _render_resident(resident, 400, milestone_form=form)
    try:
        helper = None
        if form.helped_by.data:
            chosen = form.helped_by.data
            helper = operations.team_helper(resident, int(chosen) if chosen.isascii() and chosen.isdigit() else 0)
        reached, created = operations.record_milestone(
            current_user,
            resident,
            milestone,
            on_date=form.on_date.data,
            confirmation=form.confirmation.data,
            helped_by=helper,
        )
    except FORM_ERRORS as error:
        status = refuse(form, error, MILESTONE_FIELDS)
        return _render_resident(resident, status, milestone_form=form)
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
    resident = _load_resident(resident_id)
    operations.ensure_may_act_for(current_user, resident)
    form = AssessmentForm()
    if not form.validate_on_submit():
        return _render_resident(resident, 400, assessment_form=form)
    answers = {key: getattr(form, key).data for key in operations.CONFIDENCE_STATEMENTS}
    try:
        operations.record_assessment(current_user, resident, stage=form.stage.data, answers=answers)
    except FORM_ERRORS as error:
        status = refuse(form, error)
        return _render_resident(resident, status, assessment_form=form)
    db.session.commit()
    flash(_("The self-assessment has been recorded."), "success")
    return redirect(url_for("outcomes.resident", resident_id=resident_id))


@bp.route("/residents/<int:resident_id>/new-account", methods=["POST"])
@login_required
def create_resident_account(resident_id: int):
    resident = _load_resident(resident_id)
    operations.ensure_may_act_for(current_user, resident)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        account = create_account_for_resident(current_user, resident)
    except FORM_ERRORS as error:
        refuse(None, error)
        return redirect(url_for("outcomes.resident", resident_id=resident_id))
    db.session.commit()
    return render_template("users/slip.html", person=account.user, password=account.one_time_password)


@bp.route("/residents/<int:resident_id>/account", methods=["POST"])
@login_required
def link_resident_account(resident_id: int):
    resident = _load_resident(resident_id)
    operations.ensure_may_act_for(current_user, resident)
    form = LinkAccountForm()
    candidates = {str(user.id): user for user in account_candidates(resident)}
    if not form.validate_on_submit():
        return _render_resident(resident, 400, link_form=form)
    account = candidates.get(form.account.data)
    if account is None:
        form.account.errors = [*form.account.errors, _("Choose one of the accounts listed.")]
        return _render_resident(resident, 400, link_form=form)
    try:
        link_account(current_user, resident, account)
    except FORM_ERRORS as error:
        status = refuse(form, error, {"user": "account"})
        return _render_resident(resident, status, link_form=form)
    db.session.commit()
    flash(_("The account %(username)s is now linked to this resident.", username=account.username), "success")
    return redirect(url_for("outcomes.resident", resident_id=resident_id))
