"""Correcting personal data at the person's request, with history: every changed field is
recorded (table, row, field, old and new value, when, by whom, under which request).

Only fields whose submitted value differs from what is stored are checked and written: a field
the person left as it was is neither validated again nor rewritten.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app import authz
from app.auth.models import User
from app.db import local_today, utcnow
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import Resident
from app.phones import normalise_phone
from app.privacy.models import PersonalDataCorrection, PersonRequest
from app.privacy.register import Subject
from app.users.operations import clean_email

#: What a person corrects on their account, and staff on a resident record.
ACCOUNT_FIELDS = ("full_name", "phone", "email", "birth_year")
RESIDENT_FIELDS = ("full_name", "birth_year", "phone")
FIELD_TITLES = {
    "full_name": _l("Full name"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "birth_year": _l("Birth year"),
}


def _clean_full_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise Invalid(_("Enter the person's full name."), field="full_name")
    if len(name) > 200:
        raise Invalid(_("The name is too long."), field="full_name")
    return name


def _clean_birth_year(value) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    this_year = local_today().year
    if not (text.isascii() and text.isdigit() and len(text) == 4) or not 1900 <= int(text) <= this_year:
        raise Invalid(_("Enter the year of birth, from 1900 to %(year)d.", year=this_year), field="birth_year")
    return int(text)


_CLEANERS = {
    "full_name": _clean_full_name,
    "phone": normalise_phone,
    "email": clean_email,
    "birth_year": _clean_birth_year,
}


def _as_text(value) -> str:
    return "" if value is None else str(value).strip()


def _changes(row, fields: tuple[str, ...], submitted: dict) -> dict:
    """{field: new value} for the submitted fields that differ from the row, each checked; every
    problem is found before anything is written."""
    changes = {}
    for field in fields:
        if field not in submitted or _as_text(submitted[field]) == _as_text(getattr(row, field)):
            continue  # untouched: neither checked nor rewritten
        value = _CLEANERS[field](submitted[field])
        if value != getattr(row, field):
            changes[field] = value
    return changes


def _apply(row, table: str, changes: dict, actor: User, person_request: PersonRequest | None, now) -> list:
    corrections = []
    for field, value in changes.items():
        correction = PersonalDataCorrection(
            table_name=table,
            row_id=row.id,
            field=field,
            old_value=None if getattr(row, field) is None else str(getattr(row, field)),
            new_value=None if value is None else str(value),
            corrected_at=now,
            corrected_by_id=actor.id,
            request_id=person_request.id if person_request is not None else None,
        )
        setattr(row, field, value)
        db.session.add(correction)
        corrections.append(correction)
    db.session.flush()
    return corrections


def correct_account(
    actor: User,
    user: User,
    submitted: dict,
    *,
    person_request: PersonRequest | None = None,
    now: datetime | None = None,
) -> list[PersonalDataCorrection]:
    """Correct one's own account (full name, phone, e-mail, birth year) from `submitted`; returns
    the corrections recorded (none when nothing changed). Raises NotAllowed for someone else's
    account, Invalid naming the field."""
    if actor.id != user.id:
        raise NotAllowed(_("You may not change this account."))
    changes = _changes(user, ACCOUNT_FIELDS, submitted)
    return _apply(user, "users", changes, actor, person_request, now or utcnow())


def correct_resident(
    actor: User,
    resident: Resident,
    submitted: dict,
    *,
    person_request: PersonRequest | None = None,
    now: datetime | None = None,
) -> list[PersonalDataCorrection]:
    """Correct a resident record (full name, birth year, phone) from `submitted`; returns the
    corrections recorded. Raises NotAllowed outside the actor's area, Invalid naming the field."""
    if not authz.may_act_for_resident(actor, resident):
        raise NotAllowed(_("You may not act for this person."))
    changes = _changes(resident, RESIDENT_FIELDS, submitted)
    return _apply(resident, "residents", changes, actor, person_request, now or utcnow())


def open_correction_request(subject: Subject) -> PersonRequest | None:
    """The person's oldest open correction request, which corrections made now answer."""
    clauses = [PersonRequest.resident_id.in_(subject.resident_ids)] if subject.resident_ids else []
    if subject.user_id is not None:
        clauses.append(PersonRequest.user_id == subject.user_id)
    if not clauses:
        return None
    return db.session.scalar(
        select(PersonRequest)
        .where(PersonRequest.kind == "correction", PersonRequest.closed_at.is_(None), or_(*clauses))
        .order_by(PersonRequest.received_at, PersonRequest.id)
        .limit(1)
    )


def corrections_about(subject: Subject):
    """WHERE clause for the corrections of the person's account and records (None: they have none)."""
    clauses = []
    if subject.user_id is not None:
        clauses.append(
            and_(PersonalDataCorrection.table_name == "users", PersonalDataCorrection.row_id == subject.user_id)
        )
    if subject.resident_ids:
        clauses.append(
            and_(
                PersonalDataCorrection.table_name == "residents",
                PersonalDataCorrection.row_id.in_(subject.resident_ids),
            )
        )
    return or_(*clauses) if clauses else None


def corrections_of(subject: Subject) -> list[PersonalDataCorrection]:
    """The history of corrections to the person's account and records, newest first."""
    where = corrections_about(subject)
    if where is None:
        return []
    return list(
        db.session.scalars(
            select(PersonalDataCorrection)
            .where(where)
            .options(selectinload(PersonalDataCorrection.corrected_by))
            .order_by(PersonalDataCorrection.corrected_at.desc(), PersonalDataCorrection.id.desc())
        )
    )
