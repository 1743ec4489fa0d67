"""How messages speak of a visit: the link to its page, the person it is for, and the keys of its
reminders (so a cancelled or moved visit can withdraw the ones not yet sent).

Used by the reminder jobs (app/jobs/reminders.py) and by the notices of a cancelled or moved visit
(app/visits/notices.py).
"""

from __future__ import annotations

from datetime import timedelta

from app.jobs.outbox import page_link
from app.visits.models import Visit

#: The reminders of a booked visit, by how long before its start they go out.
REMINDER_LEADS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
#: The visit's page that notifications link to (endpoint, argument name for the id).
VISIT_PAGE = ("visits.visit_detail", "visit_id")


def visit_reminder_prefix(lead: str, visit_id: int) -> str:
    """The start of the keys of a visit's reminders with this lead ("24h" or "1h")."""
    return f"visit-{lead}:{visit_id}:"


def visit_link(visit: Visit) -> str | None:
    endpoint, argument = VISIT_PAGE
    return page_link(endpoint, **{argument: visit.id})


def visit_person_name(visit: Visit) -> str:
    """The name of the person the visit is for: the one who asked for help, else the resident."""
    if visit.request is not None:
        return visit.request.name
    return visit.resident.full_name if visit.resident is not None else ""
