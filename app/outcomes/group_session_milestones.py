"""Milestones recorded in bulk, after a group help session, for the people who attended it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import authz
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.outcomes import operations
from app.outcomes.models import Milestone, MilestoneEvidence
from app.visits.models import GroupSession, SessionSignup


@dataclass
class GroupSessionMilestones:
    """What recording a milestone for a group session's attendees did."""

    newly_reached: int = 0
    already_reached: int = 0
    #: Already recorded from this session before: nothing was added for them.
    unchanged: int = 0
    lessons_credited: int = 0


def may_record_after_group_session(actor: User, group_session: GroupSession) -> bool:
    """The host, or someone who manages visits in the session's commune, and may record outcomes."""
    runs_it = group_session.host_id == actor.id or authz.may(actor, "visits.manage", group_session.unit)
    return runs_it and authz.may(actor, "outcomes.record", group_session.unit)


def attendees(group_session: GroupSession) -> list[User]:
    """The people who signed up and were marked as attended, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(SessionSignup, SessionSignup.user_id == User.id)
            .where(SessionSignup.session_id == group_session.id, SessionSignup.attended.is_(True))
            .options(joinedload(User.unit))  # recording milestones checks each attendee's unit
            .order_by(User.full_name, User.id)
        )
    )


def record_group_session_milestones(
    actor: User,
    group_session: GroupSession,
    user_ids: set[int],
    milestone: Milestone,
    *,
    confirmation: str,
    credit_learning: bool = False,
) -> GroupSessionMilestones:
    """Record `milestone` for the attendees in `user_ids`, on the session's date, helped by its
    host. Safe to send twice: a person already recorded from this session gets no second piece of
    evidence. Raises Invalid for an empty choice, someone who did not attend or who lives outside
    the actor's area (nothing is recorded then), NotAllowed when the actor may not record for the
    session."""
    if not may_record_after_group_session(actor, group_session):
        raise NotAllowed(_("You may not record milestones for this session."))
    if group_session.cancelled_at is not None:
        raise Invalid(_("This session was cancelled."))
    if group_session.starts_at > utcnow():
        raise Invalid(_("Milestones are recorded after the session has started."))
    if not user_ids:
        raise Invalid(_("Tick at least one person."), field="people")
    people = {user.id: user for user in attendees(group_session)}
    if not set(user_ids) <= set(people):
        raise Invalid(_("Only people who attended the session can be chosen."), field="people")
    outside = [
        people[user_id].full_name
        for user_id in sorted(user_ids)
        if not authz.may(actor, "outcomes.record", people[user_id].unit)
    ]
    if outside:
        raise Invalid(
            _("These people live outside your area; untick them: %(names)s.", names=", ".join(outside)), field="people"
        )
    on_date = group_session.starts_at.astimezone(LOCAL_TZ).date()
    result = GroupSessionMilestones()
    for user_id in sorted(user_ids):
        resident = operations.resident_for_user(people[user_id], recorded_by=actor)
        recorded_before = db.session.scalar(
            select(MilestoneEvidence.id).where(
                MilestoneEvidence.resident_id == resident.id,
                MilestoneEvidence.milestone_id == milestone.id,
                MilestoneEvidence.session_id == group_session.id,
            )
        )
        if recorded_before is not None:
            operations.ensure_may_act_for(actor, resident)
            result.unchanged += 1
        else:
            _reached, created = operations.record_milestone(
                actor,
                resident,
                milestone,
                on_date=on_date,
                confirmation=confirmation,
                helped_by=group_session.host,
                session=group_session,
            )
            if created:
                result.newly_reached += 1
            else:
                result.already_reached += 1
        if credit_learning:
            result.lessons_credited += operations.credit_learning_for_skills(resident, group_session.skills or [])
    return result
