"""A person's requests about their own data (access, correction, withdrawal of a consent,
objection or restriction, erasure), tracked with the law's deadlines (app.privacy.deadlines).

The person files a request themselves, or a member or manager files it for a resident they serve.
The officer (or the commune manager, in their area) acknowledges it, carries it out through the
feature it names (export, correction, consent, restriction, erasure) and closes it with an outcome.
A request is late while it is not acknowledged after its acknowledge-by day, or not closed after
its due day.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import selectinload

from app import authz
from app.auth.models import User
from app.db import CONTROL_CHARACTERS, LOCAL_TZ, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.deadlines import acknowledge_by, due_by
from app.privacy.models import REQUEST_KINDS, REQUEST_OUTCOMES, PersonRequest
from app.units.models import Unit

#: The statuses the list filters by (a request is new, acknowledged or closed; open and late
#: are groups of those).
STATUS_TITLES = {
    "open": _l("Open"),
    "new": _l("Received, not acknowledged"),
    "acknowledged": _l("Acknowledged, in progress"),
    "late": _l("Late"),
    "closed": _l("Closed"),
}
STATUSES = tuple(STATUS_TITLES)
MAX_TEXT = 2000
#: The most requests one list page shows.
LIST_LIMIT = 500


def _today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def clean_note(value: str | None, field: str) -> str | None:
    """Free text of a request: control characters dropped, trimmed, at most MAX_TEXT characters."""
    value = CONTROL_CHARACTERS.sub("", value or "").strip()
    if len(value) > MAX_TEXT:
        raise Invalid(_("This text is too long (at most %(n)d characters).", n=MAX_TEXT), field=field)
    return value or None


def file_request(
    kind: str,
    *,
    filed_by: User,
    user: User | None = None,
    resident: Resident | None = None,
    details: str | None = None,
    now: datetime | None = None,
) -> PersonRequest:
    """File a request of `kind` about `user` (an account) and/or `resident` (a record), received
    now. The person files about themselves; staff with `privacy.act` in the resident's area file
    for a resident. Raises Invalid (unknown kind, text too long), NotAllowed, or Conflict when the
    same person already has an open request of this kind."""
    if kind not in REQUEST_KINDS:
        raise Invalid(_("Choose what you are asking for."), field="kind")
    if user is None and resident is None:
        raise Invalid(_("Choose whose data the request is about."), field="resident_id")
    if resident is not None:
        if not authz.may_act_for_resident(filed_by, resident):
            raise NotAllowed(_("You may not act for this person."))
        if user is None and resident.user_id is not None:
            user = db.session.get(User, resident.user_id)
    elif user.id != filed_by.id:
        raise NotAllowed(_("You may not act for this person."))
    details = clean_note(details, "details")
    same_person = [PersonRequest.resident_id == resident.id] if resident is not None else []
    if user is not None:
        same_person.append(PersonRequest.user_id == user.id)
    already = db.session.scalar(
        select(PersonRequest.id).where(PersonRequest.kind == kind, PersonRequest.closed_at.is_(None), or_(*same_person))
    )
    if already is not None:
        raise Conflict(_("A request of this kind is already open for this person."), field="kind")
    now = now or utcnow()
    received_on = _today(now)
    person_request = PersonRequest(
        kind=kind,
        user_id=user.id if user is not None else None,
        resident_id=resident.id if resident is not None else None,
        unit_id=(resident.unit_id if resident is not None else user.unit_id),
        filed_by_id=filed_by.id,
        details=details,
        received_at=now,
        acknowledge_by=acknowledge_by(received_on),
        due_by=due_by(kind, received_on),
    )
    db.session.add(person_request)
    db.session.flush()
    return person_request


def _ensure_may_handle(actor: User, person_request: PersonRequest) -> None:
    if not authz.may_handle_person_request(actor, person_request):
        raise NotAllowed(_("You may not handle this request."))


def acknowledge(actor: User, person_request: PersonRequest, *, now: datetime | None = None) -> None:
    """Record that the person was answered. Raises NotAllowed, or Conflict when it already was
    (or the request is closed)."""
    _ensure_may_handle(actor, person_request)
    if person_request.closed_at is not None:
        raise Conflict(_("This request is closed."))
    if person_request.acknowledged_at is not None:
        raise Conflict(_("This request was already acknowledged."))
    person_request.acknowledged_at = now or utcnow()
    person_request.acknowledged_by_id = actor.id
    db.session.flush()


def close(
    actor: User, person_request: PersonRequest, outcome: str, note: str | None = None, *, now: datetime | None = None
) -> None:
    """Close the request with its outcome (acknowledging it too if that was not done). A refusal
    says why. Raises NotAllowed, Invalid (unknown outcome, refusal without a reason), or Conflict
    when it is closed already."""
    _ensure_may_handle(actor, person_request)
    if outcome not in REQUEST_OUTCOMES:
        raise Invalid(_("Choose the outcome."), field="outcome")
    note = clean_note(note, "note")
    if outcome == "refused" and not note:
        raise Invalid(_("Say why the request is refused."), field="note")
    if person_request.closed_at is not None:
        raise Conflict(_("This request is closed."))
    if person_request.kind == "erasure" and outcome == "done" and not _erased(person_request):
        # "Done" must mean erased: the erasure itself closes the request (app.privacy.erasure).
        raise Conflict(_("Erase the person's data first, from the erasure page: that closes this request."))
    now = now or utcnow()
    if person_request.acknowledged_at is None:
        person_request.acknowledged_at = now
        person_request.acknowledged_by_id = actor.id
    person_request.closed_at = now
    person_request.closed_by_id = actor.id
    person_request.outcome = outcome
    person_request.note = note
    db.session.flush()


# --- late ---------------------------------------------------------------------------------------


def _erased(person_request: PersonRequest) -> bool:
    people = (person_request.resident, person_request.user)
    return any(person is not None and person.erased_at is not None for person in people)


def late_reasons(person_request: PersonRequest, now: datetime | None = None) -> list[str]:
    """ "acknowledge" when it is past its acknowledge-by day unanswered, "due" when past its due
    day open; empty when on time."""
    today = _today(now)
    reasons = []
    if (
        person_request.acknowledged_at is None
        and person_request.closed_at is None
        and today > person_request.acknowledge_by
    ):
        reasons.append("acknowledge")
    if person_request.closed_at is None and today > person_request.due_by:
        reasons.append("due")
    return reasons


def is_late(person_request: PersonRequest, now: datetime | None = None) -> bool:
    return bool(late_reasons(person_request, now))


def _late_clause(today: date):
    return and_(
        PersonRequest.closed_at.is_(None),
        or_(
            and_(PersonRequest.acknowledged_at.is_(None), PersonRequest.acknowledge_by < today),
            PersonRequest.due_by < today,
        ),
    )


def _status_clause(status: str, today: date):
    return {
        "open": PersonRequest.closed_at.is_(None),
        "new": and_(PersonRequest.closed_at.is_(None), PersonRequest.acknowledged_at.is_(None)),
        "acknowledged": and_(PersonRequest.closed_at.is_(None), PersonRequest.acknowledged_at.is_not(None)),
        "late": _late_clause(today),
        "closed": PersonRequest.closed_at.is_not(None),
    }[status]


def _with_people(query):
    return query.options(
        selectinload(PersonRequest.user),
        selectinload(PersonRequest.resident),
        selectinload(PersonRequest.unit),
        selectinload(PersonRequest.filed_by),
    )


def requests_for_officer(
    actor: User, *, status: str | None = None, kind: str | None = None, now: datetime | None = None
) -> list[PersonRequest]:
    """The requests `actor` handles (the officer: all; a commune manager: their area's), late ones
    first, then by due day. Unknown filters are ignored. Raises NotAllowed for anyone else."""
    if not authz.may_see_person_requests(actor):
        raise NotAllowed(_("You do not have access to this page or record."))
    today = _today(now)
    late_first = case((_late_clause(today), 0), else_=1)
    query = (
        select(PersonRequest)
        .join(Unit, Unit.id == PersonRequest.unit_id)
        .where(authz.person_requests_filter(actor, Unit.path))
        .order_by(late_first, PersonRequest.closed_at.is_not(None), PersonRequest.due_by, PersonRequest.id)
        .limit(LIST_LIMIT)
    )
    if status in STATUSES:
        query = query.where(_status_clause(status, today))
    if kind in REQUEST_KINDS:
        query = query.where(PersonRequest.kind == kind)
    return list(db.session.scalars(_with_people(query)))


def requests_of_user(user: User) -> list[PersonRequest]:
    """The requests about an account and its resident records, newest first."""
    resident_ids = select(Resident.id).where(Resident.user_id == user.id)
    query = (
        select(PersonRequest)
        .where(or_(PersonRequest.user_id == user.id, PersonRequest.resident_id.in_(resident_ids)))
        .order_by(PersonRequest.received_at.desc(), PersonRequest.id.desc())
    )
    return list(db.session.scalars(_with_people(query)))


def requests_of_resident(resident: Resident) -> list[PersonRequest]:
    """The requests about a resident record (and its account, when linked), newest first."""
    clause = PersonRequest.resident_id == resident.id
    if resident.user_id is not None:
        clause = or_(clause, PersonRequest.user_id == resident.user_id)
    query = select(PersonRequest).where(clause).order_by(PersonRequest.received_at.desc(), PersonRequest.id.desc())
    return list(db.session.scalars(_with_people(query)))
