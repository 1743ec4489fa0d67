"""Who a personal-data request is about: an account, resident records, or both."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.register import Subject


def subject_of_user(user: User) -> Subject:
    """The account and every resident record linked to it."""
    resident_ids = db.session.scalars(select(Resident.id).where(Resident.user_id == user.id).order_by(Resident.id))
    return Subject(user.id, tuple(resident_ids))


def subject_of_resident(resident: Resident) -> Subject:
    """The resident record and, when one is linked, its account (and that account's other records)."""
    if resident.user_id is not None:
        return subject_of_user(db.session.get(User, resident.user_id))
    return Subject(None, (resident.id,))
