"""Help requests: a resident (or someone on their behalf) asks for help, the team triages.

A request is filed with the person's consent to record their details for this help; booking a
visit for it marks it scheduled (app.visits.operations), completing the visit marks it done.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import authz
from app.auth.models import User
from app.db import MAX_ID, utcnow
from app.exceptions import Invalid, NotAllowed, NotFound
from app.extensions import db
from app.phones import normalise_phone
from app.reports import summaries
from app.units.models import Unit
from app.visits.models import SKILLS, HelpRequest, Visit
from app.visits.text import clean_text

#: The statuses a person sets by hand; "scheduled" and "done" follow from the visits.
MANUAL_STATUSES = ("cancelled", "unreachable", "new")


def check_skill(skill: str) -> None:
    if skill not in SKILLS:
        raise Invalid(_("Choose a kind of help from the list."), field="skill")


def may_file(user: User) -> bool:
    return authz.has_permission(user, "help.request") or authz.has_permission(user, "visits.manage")


def create_help_request(
    actor: User,
    *,
    skill: str,
    unit: Unit | None,
    place: str,
    name: str,
    phone: str | None = None,
    note: str | None = None,
    preferred_times: str | None = None,
    consent: bool,
    resident: User | None = None,
) -> HelpRequest:
    """A request for help, by the resident or on their behalf. Needs the person's consent to
    record their details for this help. Raises Invalid or NotAllowed."""
    check_skill(skill)
    if not consent:
        raise Invalid(_("The person must agree that their details are recorded for this help."), field="consent")
    if unit is None or unit.level < 2:
        raise Invalid(_("Choose the village or commune where help is needed."), field="unit_code")
    if not may_file(actor):
        raise NotAllowed(_("You may not file help requests."))
    if not authz.unit_in_scope(actor, unit):
        raise NotAllowed(_("You can ask for help only within your own commune."))
    if actor.role == "resident":
        resident = actor  # residents ask for themselves; others file on someone's behalf
    request = HelpRequest(
        skill=skill,
        unit_id=unit.id,
        place=clean_text(place, "place", _("Enter the address or meeting point.")),
        name=clean_text(name, "name", _("Enter the name of the person to help."), max_length=200),
        phone=normalise_phone(phone),
        note=clean_text(note, "note", "", required=False, max_length=2000),
        preferred_times=clean_text(preferred_times, "preferred_times", "", required=False),
        resident_id=resident.id if resident else None,
        created_by_id=actor.id,
        consent_at=utcnow(),
        consent_recorded_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    summaries.on_request_filed(request)
    return request


def may_see_request(user: User, request: HelpRequest) -> bool:
    """Whoever filed it, the person it is for, and the team staff of its area."""
    return user.id in (request.created_by_id, request.resident_id) or authz.may(user, "visits.view", request.unit)


def request_for(user: User, request_id: int, *, to_manage: bool = False) -> HelpRequest:
    """The help request `user` asked for by id. Raises NotFound, or NotAllowed when it is not
    theirs to see (or, with `to_manage`, to triage and book)."""
    request = db.session.get(HelpRequest, request_id) if 0 < request_id <= MAX_ID else None
    if request is None:
        raise NotFound(_("No help request has this id."))
    if to_manage:
        ensure_may_manage(user, request)
    elif not may_see_request(user, request):
        raise NotAllowed(_("This is outside your area."))
    return request


def ensure_may_manage(user: User, request: HelpRequest) -> None:
    """Triage and book: NotAllowed unless `user` manages visits in the request's area."""
    if not authz.may(user, "visits.manage", request.unit):
        raise NotAllowed(_("You may not change this request."))


def triage_list(actor: User, *, statuses=("new",), skill: str | None = None) -> list[HelpRequest]:
    """Requests in the actor's scope, oldest first."""
    query = (
        select(HelpRequest)
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(authz.unit_scope_filter(actor, Unit.path), HelpRequest.status.in_(statuses))
        .order_by(HelpRequest.created_at, HelpRequest.id)
    )
    if skill is not None:
        query = query.where(HelpRequest.skill == skill)
    return list(db.session.scalars(query))


def requests_of(person: User, *, limit: int = 100) -> list[HelpRequest]:
    """The requests a person filed or that are for them, newest first."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .where(or_(HelpRequest.resident_id == person.id, HelpRequest.created_by_id == person.id))
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
            .limit(limit)
        )
    )


def booked_visits(request_ids: list[int]) -> dict[int, list[Visit]]:
    """Booked (not yet done) visits by request."""
    if not request_ids:
        return {}
    visits: dict[int, list[Visit]] = {}
    for visit in db.session.scalars(
        select(Visit).where(Visit.request_id.in_(request_ids), Visit.status == "booked").order_by(Visit.starts_at)
    ):
        visits.setdefault(visit.request_id, []).append(visit)
    return visits


def set_request_status(actor: User, request: HelpRequest, status: str) -> None:
    ensure_may_manage(actor, request)
    if status not in MANUAL_STATUSES:
        raise Invalid(_("This status is set by booking or completing a visit."), field="status")
    request.status = status
    request.closed_at = utcnow() if status != "new" else None
