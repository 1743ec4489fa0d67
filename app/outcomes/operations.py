"""Residents' milestones, help credited as learning, confidence self-assessments, follow-ups.

Every change a member makes on a resident's behalf is written to the audit log. The rules of
recording for a resident (who may, which visit and which helper may be named) are here, so the
resident page and the API refuse the same things.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import local_today, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.learning import operations as learning
from app.learning.models import Course, CourseModule
from app.outcomes.milestones import DEFAULT_MILESTONES
from app.outcomes.models import (
    ASSESSMENT_STAGES,
    CONFIRMATIONS,
    ConfidenceAssessment,
    FollowUp,
    Milestone,
    MilestoneEvidence,
    Resident,
    ResidentMilestone,
)
from app.privacy.consents import give_consent
from app.privacy.register import Subject
from app.reports import summaries
from app.units.models import Unit
from app.visits.availability import members_for
from app.visits.models import GroupSession, Visit

#: The short self-assessment: statement key -> text. The resident rates each from 1 (not at all
#: confident) to 5 (very confident).
CONFIDENCE_STATEMENTS = {
    "use_phone": _l("I can use my phone's basic functions on my own."),
    "eid": _l("I can sign in to the e-ID app and keep my account safe."),
    "public_services": _l("I can find and submit an online public-service application."),
    "pay": _l("I can pay safely without cash."),
    "scams": _l("I can recognise a scam call or message."),
}


def ensure_default_milestones() -> None:
    """Insert the default milestones into an empty table (databases built without migrations)."""
    if db.session.scalar(select(Milestone.id).limit(1)) is not None:
        return
    for position, milestone in enumerate(DEFAULT_MILESTONES):
        db.session.add(Milestone(position=position, active=True, **milestone))
    db.session.flush()


def active_milestones() -> list[Milestone]:
    return list(db.session.scalars(select(Milestone).where(Milestone.active.is_(True)).order_by(Milestone.position)))


def get_milestone(key: str) -> Milestone | None:
    return db.session.scalar(select(Milestone).where(Milestone.key == key))


def reached_milestones(resident_ids: list[int]) -> dict[int, list[Milestone]]:
    """{resident id: milestones reached, in the list's order} in one query."""
    reached: dict[int, list[Milestone]] = {rid: [] for rid in resident_ids}
    if not resident_ids:
        return reached
    rows = db.session.execute(
        select(ResidentMilestone.resident_id, Milestone)
        .join(Milestone, Milestone.id == ResidentMilestone.milestone_id)
        .where(ResidentMilestone.resident_id.in_(resident_ids))
        .order_by(Milestone.position, Milestone.id)
    ).all()
    for resident_id, milestone in rows:
        reached[resident_id].append(milestone)
    return reached


def may_record_for(actor: User, resident: Resident) -> bool:
    """May `actor` record milestones, self-assessments and accounts for `resident`?"""
    return authz.may(actor, "outcomes.record", resident.unit)


def ensure_may_act_for(actor: User, resident: Resident) -> None:
    if not may_record_for(actor, resident):
        raise NotAllowed(_("You may not record anything for this resident."))


def ensure_visit_about(visit: Visit | None, resident: Resident) -> None:
    """Refuse a visit (None: one that does not exist) that is not the resident's: linked to
    their record, or booked for their account."""
    about = visit is not None and (
        visit.resident_record_id == resident.id
        or (resident.user_id is not None and visit.resident_id == resident.user_id)
    )
    if not about:
        raise Invalid(_("This visit is not about this resident."), field="visit_id")


def visit_about(resident: Resident, visit_id: int) -> Visit:
    """The visit with this id, when it is about `resident`."""
    visit = db.session.get(Visit, visit_id)
    ensure_visit_about(visit, resident)
    return visit


def team_helper(resident: Resident, member_id: int) -> User:
    """The member named as the one who helped `resident`: one of the teams of the resident's
    commune."""
    helper = next((member for member in members_for(resident.unit) if member.id == member_id), None)
    if helper is None:
        raise Invalid(_("Choose a member of the commune's teams."), field="helped_by")
    return helper


def resident_for_user(user: User, *, recorded_by: User | None = None) -> Resident:
    """The resident record of an account, created on first need."""
    resident = db.session.scalar(select(Resident).where(Resident.user_id == user.id))
    if resident is None:
        resident = Resident(
            unit_id=user.unit_id,
            full_name=user.full_name,
            birth_year=user.birth_year,
            phone=user.phone,
            user_id=user.id,
            consent_at=utcnow(),
            consent_recorded_by_id=(recorded_by or user).id,
        )
        db.session.add(resident)
        db.session.flush()
    return resident


def resident_record_for_visit(actor: User, visit: Visit, *, required: bool = True) -> Resident | None:
    """The resident record a visit is about: linked already, the account's record, or one made
    from the help request (the request recorded the person's consent). None when the visit names
    nobody and `required` is false."""
    if visit.resident_record_id is not None:
        return db.session.get(Resident, visit.resident_record_id)
    if visit.resident_id is not None:
        resident = resident_for_user(db.session.get(User, visit.resident_id), recorded_by=actor)
    elif visit.request is not None and visit.request.resident_record_id is not None:
        resident = db.session.get(Resident, visit.request.resident_record_id)
    elif visit.request is not None:
        request = visit.request
        resident = Resident(
            unit_id=request.unit_id,
            full_name=request.name,
            phone=request.phone,
            consent_at=request.consent_at,
            consent_recorded_by_id=request.consent_recorded_by_id,
        )
        db.session.add(resident)
        db.session.flush()
        request.resident_record_id = resident.id
        if request.consent_at is not None:
            # The request's consent to being recorded for help, carried onto the record (the
            # request form asks it without the privacy notice's version, so none is set).
            give_consent(
                Subject(None, (resident.id,)),
                "help_visits",
                recorded_by=db.session.get(User, request.consent_recorded_by_id)
                if request.consent_recorded_by_id
                else None,
                basis="consent",
                channel="online" if request.consent_recorded_by_id == request.resident_id else "assisted",
                notice_version=None,
                now=request.consent_at,
            )
    elif required:
        raise Invalid(_("This visit has no resident to record for."))
    else:
        return None
    visit.resident_record_id = resident.id
    return resident


def record_milestone(
    actor: User,
    resident: Resident,
    milestone: Milestone,
    *,
    on_date: date,
    confirmation: str,
    helped_by: User | None = None,
    visit: Visit | None = None,
    session: GroupSession | None = None,
) -> tuple[ResidentMilestone, bool]:
    """Record that `resident` reached `milestone`. Idempotent: the milestone is reached once (the
    first date stands); every confirmation is kept as evidence. Returns (reached, newly_reached).
    """
    ensure_may_act_for(actor, resident)
    if visit is not None:
        ensure_visit_about(visit, resident)
    if confirmation not in CONFIRMATIONS:
        raise Invalid(_("Choose how it was confirmed."), field="confirmed_by")
    if not isinstance(on_date, date) or on_date > local_today():
        raise Invalid(_("The date cannot be in the future."), field="date")
    if not milestone.active:
        raise Invalid(_("This milestone is no longer in use."), field="milestone")
    db.session.add(
        MilestoneEvidence(
            resident_id=resident.id,
            milestone_id=milestone.id,
            on_date=on_date,
            confirmation=confirmation,
            helped_by_id=helped_by.id if helped_by else None,
            visit_id=visit.id if visit else None,
            session_id=session.id if session else None,
            recorded_by_id=actor.id,
        )
    )
    reached = db.session.scalar(
        select(ResidentMilestone).where(
            ResidentMilestone.resident_id == resident.id, ResidentMilestone.milestone_id == milestone.id
        )
    )
    created = False
    if reached is None:
        try:
            with db.session.begin_nested():
                reached = ResidentMilestone(resident_id=resident.id, milestone_id=milestone.id, reached_on=on_date)
                db.session.add(reached)
            created = True
            summaries.on_milestone_date(resident, milestone.id, None, on_date)
        except IntegrityError:  # recorded by someone else a moment ago
            reached = db.session.scalar(
                select(ResidentMilestone).where(
                    ResidentMilestone.resident_id == resident.id,
                    ResidentMilestone.milestone_id == milestone.id,
                )
            )
    elif on_date < reached.reached_on:
        summaries.on_milestone_date(resident, milestone.id, reached.reached_on, on_date)
        reached.reached_on = on_date  # earlier evidence moves the date back
    record(
        "milestone_recorded",
        actor=actor,
        target=resident.user,
        details={"resident": resident.id, "milestone": milestone.key, "new": created},
    )
    if created and helped_by is not None:
        credit_learning_for_milestone(resident, milestone)
    return reached, created


def modules_for(milestone: Milestone) -> list[CourseModule]:
    modules = []
    for reference in milestone.modules or []:
        slug, _sep, key = reference.partition("/")
        module = db.session.scalar(
            select(CourseModule)
            .join(Course, Course.id == CourseModule.course_id)
            .where(Course.slug == slug, CourseModule.key == key, CourseModule.retired_at.is_(None))
        )
        if module is not None:
            modules.append(module)
    return modules


def credit_learning_for_milestone(resident: Resident, milestone: Milestone) -> int:
    """Credit the modules that teach `milestone` as "completed with help" for a resident with an
    account (learning records belong to accounts). Self-study already done stays self-study.
    Returns the number of modules credited."""
    if resident.user is None:
        return 0
    credited = 0
    for module in modules_for(milestone):
        learning.credit_module(resident.user, module, mode="assisted")
        credited += 1
    return credited


def credit_learning_for_skills(resident: Resident, skills: list[str]) -> int:
    """A visit or session that taught these skills credits the matching modules as help."""
    credited = 0
    for milestone in active_milestones():
        if set(milestone.skills or []) & set(skills):
            credited += credit_learning_for_milestone(resident, milestone)
    return credited


def record_assessment(
    actor: User, resident: Resident, *, stage: str, answers: dict, visit: Visit | None = None
) -> ConfidenceAssessment:
    ensure_may_act_for(actor, resident)
    if stage not in ASSESSMENT_STAGES:
        raise Invalid(_("Choose when the self-assessment was taken."), field="stage")
    clean = {}
    for key in CONFIDENCE_STATEMENTS:
        value = answers.get(key)
        if value in (None, ""):
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise Invalid(_("Each answer is a number from 1 to 5."), field=key) from None
        if not 1 <= value <= 5:
            raise Invalid(_("Each answer is a number from 1 to 5."), field=key)
        clean[key] = value
    if not clean:
        raise Invalid(_("Answer at least one statement."), field="answers")
    assessment = ConfidenceAssessment(
        resident_id=resident.id,
        stage=stage,
        taken_on=local_today(),
        answers=clean,
        visit_id=visit.id if visit else None,
        recorded_by_id=actor.id,
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment


def confidence_gain(resident: Resident) -> float | None:
    """Average change from the first first-contact assessment to the latest closing one."""
    first = db.session.scalar(
        select(ConfidenceAssessment)
        .where(ConfidenceAssessment.resident_id == resident.id, ConfidenceAssessment.stage == "first_contact")
        .order_by(ConfidenceAssessment.recorded_at)
        .limit(1)
    )
    last = db.session.scalar(
        select(ConfidenceAssessment)
        .where(ConfidenceAssessment.resident_id == resident.id, ConfidenceAssessment.stage == "close")
        .order_by(ConfidenceAssessment.recorded_at.desc())
        .limit(1)
    )
    if first is None or last is None:
        return None
    common = set(first.answers) & set(last.answers)
    if not common:
        return None
    return sum(last.answers[k] - first.answers[k] for k in common) / len(common)


# --- follow-ups ---------------------------------------------------------------------------

DEFAULT_FOLLOW_UP_DAYS = 7


def create_follow_up(
    actor: User, visit: Visit, *, reason: str, due_on: date | None = None, resident: Resident | None = None
) -> FollowUp:
    """A dated next step after an unresolved visit (one per visit)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(_("Say what still needs to be done."), field="follow_up_reason")
    due_on = due_on or local_today() + timedelta(days=DEFAULT_FOLLOW_UP_DAYS)
    if due_on < local_today():
        raise Invalid(_("The follow-up date cannot be in the past."), field="follow_up_due")
    existing = db.session.scalar(select(FollowUp).where(FollowUp.visit_id == visit.id))
    if existing is not None:
        existing.reason, existing.due_on = reason, due_on
        return existing
    follow_up = FollowUp(
        resident_id=resident.id if resident else visit.resident_record_id,
        visit_id=visit.id,
        unit_id=visit.unit_id,
        assigned_to_id=visit.member_id,
        due_on=due_on,
        reason=reason[:2000],
        created_by_id=actor.id,
    )
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


def may_close_follow_up(actor: User, follow_up: FollowUp) -> bool:
    """The member it is assigned to, or someone who manages visits where it is."""
    return follow_up.assigned_to_id == actor.id or authz.may(actor, "visits.manage", follow_up.unit)


def close_follow_up(actor: User, follow_up: FollowUp, *, done: bool = True) -> None:
    if follow_up.status != "open":
        raise Conflict(_("This follow-up is already closed."))
    if not may_close_follow_up(actor, follow_up):
        raise NotAllowed(_("You may not change this follow-up."))
    follow_up.status = "done" if done else "cancelled"
    follow_up.closed_at = utcnow()


def open_follow_ups(actor: User, *, overdue_only: bool = False, today: date | None = None) -> list[FollowUp]:
    today = today or local_today()
    query = (
        select(FollowUp)
        .join(Unit, Unit.id == FollowUp.unit_id)
        .where(FollowUp.status == "open", authz.unit_scope_filter(actor, Unit.path))
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    if overdue_only:
        query = query.where(FollowUp.due_on < today)
    return list(db.session.scalars(query))
