"""Telling the people of a visit that it was booked, cancelled or moved, and withdrawing the
reminders that no longer hold.

Reminders are queued up to 24 hours ahead (app/jobs/reminders.py); one still waiting in the
outbox when the visit is cancelled or moved would send the member or the resident to a visit at
a time that is no longer true.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_

from app.auth.models import User
from app.extensions import db
from app.jobs.models import Message
from app.jobs.outbox import enqueue, page_link
from app.visits.models import SKILL_TITLES, Visit
from app.visits.wording import REMINDER_LEADS, visit_link, visit_person_name, visit_reminder_prefix


def withdraw_reminders(visit: Visit) -> int:
    """Delete the visit's reminders that have not gone out yet. Returns how many."""
    prefixes = [visit_reminder_prefix(lead, visit.id) for lead in REMINDER_LEADS]
    result = db.session.execute(
        delete(Message)
        .where(Message.status == "pending", or_(*(Message.key.startswith(prefix) for prefix in prefixes)))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _people_to_tell(visit: Visit, actor: User) -> list[User]:
    """The member and the resident's account, except whoever made the change."""
    people = [visit.member, visit.resident]
    return [person for person in people if person is not None and person.id != actor.id]


def _link_for(visit: Visit, person: User, to_request: bool) -> str | None:
    """The visit's page; for the resident of a request, `to_request` leads to the request's page
    instead, where they cancel it or ask for another time."""
    if to_request and visit.request_id is not None and person.id != visit.member_id:
        return page_link("visits.request_page", request_id=visit.request_id)
    return visit_link(visit)


def _tell(visit: Visit, actor: User, key: str, template: str, *, to_request: bool = False, **context) -> None:
    for person in _people_to_tell(visit, actor):
        enqueue(
            f"{key}:{person.id}",
            person,
            template,
            link=_link_for(visit, person, to_request),
            # A notice about a booked visit serves the help itself (a state task), not "messages".
            purpose=None if person.id == visit.member_id else "help_visits",
            visit=visit,
            is_member=person.id == visit.member_id,
            skill=SKILL_TITLES[visit.skill],
            person_name=visit_person_name(visit),
            **context,
        )


def visit_booked(visit: Visit, actor: User) -> None:
    """The resident learns when and who will come (by their channel: Zalo, SMS, e-mail or in-app);
    the member too when someone else booked it."""
    _tell(visit, actor, f"booked-visit:{visit.id}", "visit_booked", to_request=True)


def visit_cancelled(visit: Visit, actor: User) -> None:
    withdraw_reminders(visit)
    _tell(visit, actor, f"cancelled-visit:{visit.id}", "visit_cancelled")


def visit_moved(visit: Visit, actor: User, moved_from: datetime) -> None:
    withdraw_reminders(visit)
    stamp = visit.starts_at.strftime("%Y%m%dT%H%MZ")
    _tell(visit, actor, f"moved-visit:{visit.id}:{stamp}", "visit_moved", moved_from=moved_from)
