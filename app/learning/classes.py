"""In-person classes: a tech-team member records who attended, and attendees are credited.

Attendees are existing accounts in the recorder's commune, or residents registered on the spot as
assisted accounts (with their consent). Every attendee gets the class's modules credited as
"in_person" (kept apart from self-study); a class covering the whole course completes it and
issues the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, local_today, utcnow
from app.exceptions import DomainError, Invalid, NotAllowed
from app.extensions import db
from app.learning.models import AUDIENCES, ClassAttendance, Course, TrainingClass
from app.learning.operations import credit_module
from app.units.models import Unit
from app.users.operations import NewAccount, create_assisted_account

PLACE_MAX_LENGTH = 200
#: The attendee checklist shows at most this many people (a commune's learners fit easily).
ATTENDEE_CHOICES_LIMIT = 500


@dataclass
class NewResident:
    """One resident registered on the spot, as typed on the class form."""

    full_name: str
    village: Unit | None
    birth_year: int | None = None
    phone: str | None = None
    consent_given: bool = False


@dataclass
class RecordedClass:
    training_class: TrainingClass
    #: Accounts made on the spot, with their one-time passwords for the printed slips.
    new_accounts: list[NewAccount] = field(default_factory=list)


class ResidentRowError(DomainError):
    """A problem with one of the new-resident rows; `details["row"]` is its 0-based index."""


def class_unit(actor: User) -> Unit:
    """Where a class recorded by `actor` belongs: their commune (or their own unit above it)."""
    return authz.scope_root(actor) or actor.unit


def check_may_record_classes(actor: User) -> None:
    """Raises NotAllowed unless `actor`'s role may record in-person classes."""
    if not authz.has_permission(actor, "classes.record"):
        raise NotAllowed(_("You may not record in-person classes."))


def attendees_by_id(user_ids) -> list[User]:
    """The accounts ticked on an attendance list. Raises Invalid when an id names nobody."""
    ids = set(user_ids or [])
    people = list(
        db.session.scalars(
            select(User)
            .where(User.id.in_([user_id for user_id in ids if 0 < user_id <= MAX_ID]))
            .options(joinedload(User.unit))
        )
    )
    if len(people) != len(ids):
        raise Invalid(_("Some of the people chosen do not exist."), field="attendees")
    return people


def attendee_choices(actor: User) -> list[User]:
    """The learners the actor may tick on the attendance list: active residents, cadres and
    tech-team members in their commune."""
    return list(
        db.session.scalars(
            select(User)
            .join(User.unit)
            .options(contains_eager(User.unit))
            .where(
                authz.unit_scope_filter(actor, Unit.path),
                User.role.in_(AUDIENCES),
                User.active.is_(True),
            )
            .order_by(Unit.path, User.full_name, User.id)
            .limit(ATTENDEE_CHOICES_LIMIT)
        )
    )


def _local_noon(day: date) -> datetime:
    """When the credits of a class are dated: midday of its day, never later than now."""
    noon = datetime.combine(day, time(12), tzinfo=LOCAL_TZ).astimezone(UTC)
    return min(noon, utcnow())


def check_class_date(held_on: date, today: date | None = None) -> None:
    """Raises Invalid (field "held_on") when the class date is still to come."""
    if held_on > (today or local_today()):
        raise Invalid(_("The class date cannot be in the future."), field="held_on")


def record_training_class(
    actor: User,
    *,
    course: Course | None,
    module_keys: list[str] | None,
    held_on: date | None,
    place: str,
    attendees: list[User],
    new_residents: list[NewResident] | None = None,
    today: date | None = None,
) -> RecordedClass:
    """Record a class held on `held_on` at `place` covering `module_keys` of `course` (empty
    means the whole course), and credit every attendee those modules as in-person.

    `new_residents` are registered as assisted accounts first (consent required). Raises
    NotAllowed (no right to record, an attendee outside the actor's commune), Invalid (unknown
    course or module keys, a date in the future, no place, no attendees, an inactive account),
    ResidentRowError (a new-resident row is not valid). Writes nothing the caller must keep when
    it raises: the caller rolls back.
    """
    check_may_record_classes(actor)
    if course is None or course.retired_at is not None:
        raise Invalid(_("Choose a course from the list."), field="course")
    by_key = {module.key: module for module in course.active_modules}
    keys = list(dict.fromkeys(module_keys or []))
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise Invalid(
            _("These modules are not part of the course: %(keys)s", keys=", ".join(unknown)),
            field="modules",
        )
    modules = [by_key[key] for key in keys] if keys else list(course.active_modules)
    if not modules:
        raise Invalid(_("This course has no modules to credit."), field="course")
    if held_on is None:
        raise Invalid(_("Enter the date of the class."), field="held_on")
    check_class_date(held_on, today)
    place = " ".join((place or "").split())
    if not place:
        raise Invalid(_("Enter where the class was held."), field="place")
    if len(place) > PLACE_MAX_LENGTH:
        raise Invalid(_("The place is too long (at most %(count)d characters).", count=PLACE_MAX_LENGTH), field="place")
    new_residents = new_residents or []
    people = list({person.id: person for person in attendees}.values())
    if not people and not new_residents:
        raise Invalid(_("Tick at least one attendee or register a new resident."), field="attendees")
    if any(not authz.unit_in_scope(actor, person.unit) for person in people):
        raise NotAllowed(_("Some of the people chosen are not in your commune."), field="attendees")
    inactive = [person.full_name for person in people if not person.active]
    if inactive:
        raise Invalid(_("These accounts are deactivated: %(names)s", names=", ".join(inactive)), field="attendees")

    new_accounts = []
    for row, resident in enumerate(new_residents):
        try:
            account = create_assisted_account(
                actor,
                full_name=resident.full_name,
                birth_year=resident.birth_year,
                village=resident.village,
                phone=resident.phone,
                consent_given=resident.consent_given,
            )
        except DomainError as error:
            raise ResidentRowError(error.message, field=error.field, details={"row": row}) from error
        new_accounts.append(account)
        people.append(account.user)

    training_class = TrainingClass(
        course_id=course.id,
        unit_id=class_unit(actor).id,
        held_on=held_on,
        place=place,
        recorded_by_id=actor.id,
        module_keys=[module.key for module in modules],
    )
    training_class.attendees = [ClassAttendance(user_id=person.id) for person in people]
    db.session.add(training_class)
    db.session.flush()
    credited_at = _local_noon(held_on)
    for person in people:
        for module in modules:
            credit_module(person, module, mode="in_person", at=credited_at)
    record(
        "training_class_recorded",
        actor=actor,
        details={
            "class": training_class.id,
            "course": course.slug,
            "attendees": len(people),
            "new_accounts": len(new_accounts),
        },
    )
    return RecordedClass(training_class, new_accounts)


def may_view_class(user: User, training_class: TrainingClass) -> bool:
    return training_class.recorded_by_id == user.id or any(
        authz.may(user, permission, training_class.unit) for permission in ("classes.record", "reports.view")
    )


def class_attendees(training_class: TrainingClass) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ClassAttendance, ClassAttendance.user_id == User.id)
            .join(User.unit)
            .options(contains_eager(User.unit))
            .where(ClassAttendance.class_id == training_class.id, User.erased_at.is_(None))
            .order_by(Unit.path, User.full_name, User.id)
        )
    )


def recent_classes(actor: User, limit: int = 20) -> list[TrainingClass]:
    """The latest classes recorded in the actor's area."""
    return list(
        db.session.scalars(
            select(TrainingClass)
            .join(Unit, Unit.id == TrainingClass.unit_id)
            .where(authz.unit_scope_filter(actor, Unit.path))
            .order_by(TrainingClass.held_on.desc(), TrainingClass.id.desc())
            .options(joinedload(TrainingClass.course))
            .limit(limit)
        )
    )
