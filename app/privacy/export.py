"""Everything held about one person, gathered from every table's exporter in the register.

Each exporter returns the rows about the subject (their account, their resident records), and the
subject's own work as a team member or manager (visits made, sessions hosted, the ledger) without
the other people's details. A row about someone else that only names the subject as the person who
recorded it is that other person's data and is not repeated here.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app import authz
from app.db import utcnow
from app.exceptions import NotAllowed
from app.outcomes.models import Resident
from app.outcomes.residents import find_resident
from app.privacy import register
from app.privacy.register import Subject
from app.privacy.rows import plain
from app.privacy.subjects import subject_of_resident, subject_of_user


def personal_data(subject: Subject) -> dict:
    """{"generated_at", "subject": {"user_id", "resident_ids"}, "tables": {table: {"title", "rows"}}}
    for every table with an exporter that holds rows about `subject` (JSON-safe: ISO dates and
    times, titles in the request's language), tables in the order of their titles."""
    tables = register.load()
    found = {}
    for name in sorted(register.EXPORTERS, key=lambda table: str(tables[table].title)):
        rows = register.EXPORTERS[name](subject)
        if rows:
            found[name] = {"title": str(tables[name].title), "rows": rows}
    return {
        "generated_at": plain(utcnow()),
        "subject": {"user_id": subject.user_id, "resident_ids": list(subject.resident_ids)},
        "tables": found,
    }


def my_personal_data(user) -> dict:
    """Everything held about the signed-in person: their account and the resident records linked
    to it."""
    return personal_data(subject_of_user(user))


def resident_for_request(actor, resident_id: int) -> Resident:
    """The resident `actor` acts for (their data, consents, requests). NotFound for an unknown id;
    NotAllowed unless `authz.may_act_for_resident` (the person themselves, or privacy.act in the
    resident's area)."""
    resident = find_resident(resident_id)
    if not authz.may_act_for_resident(actor, resident):
        raise NotAllowed(_("You may not act for this resident."))
    return resident


def resident_personal_data(actor, resident_id: int) -> dict:
    """Everything held about a resident (and the account linked to their record), for a member or
    manager acting for them in their area; raises as `resident_for_request`."""
    return data_of_resident(resident_for_request(actor, resident_id))


def data_of_resident(resident: Resident) -> dict:
    """Everything held about a resident the caller was allowed to ask about."""
    return personal_data(subject_of_resident(resident))
