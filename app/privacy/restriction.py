"""Restriction of processing, at a person's objection: their data stays, but they are left out of

* scheduling: no visit is booked or moved for them (app.visits.operations), and no one else signs
  them up for a group session (app.visits.group_sessions; they may still sign up themselves);
* reminders and messages: the outbox neither writes nor sends anything to them (app.jobs.outbox),
  and no follow-up reminder is written about them (app.jobs.reminders);
* campaigns: a household goes on a walk list only for an adult there who is not restricted, and
  restricted people are not named on it (app.outcomes.campaigns);
* exports that list people (the members' ledger, the team view's members table); totals still
  count them.

A person is one account and the resident records linked to it: restricting one restricts all,
and lifting the restriction restores everything at once.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Conflict, NotAllowed
from app.extensions import db
from app.outcomes.models import Resident


def is_restricted(person) -> bool:
    """Is processing restricted for this account or resident record?"""
    return person is not None and person.restricted_at is not None


def _records_of(person: User | Resident) -> list[User | Resident]:
    """The account and every resident record of the person `person` belongs to."""
    user = person if isinstance(person, User) else (db.session.get(User, person.user_id) if person.user_id else None)
    if user is None:
        return [person]
    residents = list(db.session.scalars(select(Resident).where(Resident.user_id == user.id).order_by(Resident.id)))
    if isinstance(person, Resident) and person not in residents:
        residents.append(person)
    return [user, *residents]


def restrict(actor: User, person: User | Resident, *, now: datetime | None = None) -> None:
    """Restrict processing of the person (account and records). Raises NotAllowed, or Conflict
    when it already is restricted."""
    if not authz.may_restrict(actor, person):
        raise NotAllowed(_("You may not act for this person."))
    if is_restricted(person):
        raise Conflict(_("Processing is already restricted for this person."))
    now = now or utcnow()
    for record_ in _records_of(person):
        if record_.restricted_at is None:
            record_.restricted_at = now
            record_.restricted_by_id = actor.id
    _audit(actor, person, "processing_restricted")
    db.session.flush()


def lift(actor: User, person: User | Resident) -> None:
    """Lift the restriction of the person (account and records): they are scheduled, reminded,
    walked and exported again. Raises NotAllowed, or Conflict when it is not restricted."""
    if not authz.may_restrict(actor, person):
        raise NotAllowed(_("You may not act for this person."))
    if not is_restricted(person):
        raise Conflict(_("Processing is not restricted for this person."))
    for record_ in _records_of(person):
        record_.restricted_at = None
        record_.restricted_by_id = None
    _audit(actor, person, "processing_restriction_lifted")
    db.session.flush()


def _audit(actor: User, person: User | Resident, action: str) -> None:
    account = person if isinstance(person, User) else None
    details = {"resident": person.id} if isinstance(person, Resident) else None
    record(action, actor=actor, target=account, details=details)


def check_may_schedule(*people) -> None:
    """Conflict when processing is restricted for any of `people` (accounts or resident records,
    None skipped): a visit is not booked or moved for them."""
    if any(is_restricted(person) for person in people):
        raise Conflict(
            _("Processing of this person's data is restricted at their request: no visit can be booked for them."),
            field="resident_id",
        )


def check_may_be_signed_up(person) -> None:
    """Conflict when processing is restricted for `person`: others do not sign them up for a
    group session."""
    if is_restricted(person):
        raise Conflict(
            _("Processing of this person's data is restricted at their request: they cannot be signed up by others."),
            field="user_id",
        )
