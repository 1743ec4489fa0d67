"""Outcomes API: milestones, residents (filtered by a milestone reached or not), recording a
milestone, and the province's indicators per unit.

The rules live in app.outcomes (operations, residents, indicators) and app.authz; these views
parse input, call them and shape the answer.
"""

from __future__ import annotations

import re
from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import exists
from sqlalchemy.orm import selectinload

from app import authz
from app.api import bp
from app.api.common import ApiError, current_api_user, json_body, token_required
from app.api.learning import MAX_ID, in_callers_language
from app.auth.models import User
from app.extensions import db
from app.outcomes import operations
from app.outcomes.indicators import indicators
from app.outcomes.models import Resident, ResidentMilestone
from app.outcomes.residents import residents_query
from app.units.models import Unit
from app.units.operations import get_unit_by_code
from app.visits.availability import members_for
from app.visits.models import Visit

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
_DIGITS = re.compile(r"[0-9]{1,9}")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _invalid(message: str, field: str) -> ApiError:
    return ApiError(422, message, "invalid", field=field)


def _forbidden(message: str | None = None) -> ApiError:
    return ApiError(403, message or _("This is outside your area."), "forbidden")


def _not_found(message: str) -> ApiError:
    return ApiError(404, message, "not_found")


def _query_int(name: str, default: int, *, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not _DIGITS.fullmatch(value.strip()) or not low <= int(value) <= high:
        raise _invalid(
            _("Give %(field)s as a whole number from %(low)d to %(high)d.", field=name, low=low, high=high), name
        )
    return int(value)


def _unit_arg(*, required: bool) -> Unit | None:
    """The unit named by ?unit=CODE: 422 when missing (and required), 404 unknown, 403 outside."""
    code = request.args.get("unit")
    if code is None or not code.strip():
        if required:
            raise _invalid(_("Give the unit code, e.g. ?unit=C1."), "unit")
        return None
    code = code.strip()
    unit = get_unit_by_code(code) if "\x00" not in code and len(code) <= 64 else None
    if unit is None:
        raise _not_found(_("No unit has the code %(code)s.", code=code[:40]))
    if not authz.unit_in_scope(current_api_user(), unit):
        raise _forbidden()
    return unit


def _milestone(value, field: str):
    milestone = operations.get_milestone(value) if isinstance(value, str) and "\x00" not in value else None
    if milestone is None or not milestone.active:
        keys = ", ".join(m.key for m in operations.active_milestones())
        raise _invalid(_("Unknown milestone. Use one of: %(keys)s.", keys=keys), field)
    return milestone


def _resident_json(resident: Resident) -> dict:
    return {
        "id": resident.id,
        "name": resident.full_name,
        "village": resident.unit.code,
        "village_name": resident.unit.display_name,
        "household": resident.household.address if resident.household else None,
    }


@bp.route("/milestones")
@token_required
@in_callers_language
def list_milestones():
    return jsonify([{"key": m.key, "name": m.name} for m in operations.active_milestones()])


@bp.route("/residents")
@token_required
@in_callers_language
def list_residents():
    """Residents in the caller's area, optionally under ?unit=, with or without a milestone."""
    user = current_api_user()
    if not authz.has_permission(user, "outcomes.view"):
        raise _forbidden(_("You do not have access to residents."))
    unit = _unit_arg(required=False)
    milestone = _milestone(request.args["milestone"], "milestone") if request.args.get("milestone") else None
    reached = request.args.get("reached")
    if reached is not None:
        reached = reached.strip().lower()
        if reached not in (*_TRUE, *_FALSE):
            raise _invalid(_("Give reached as true or false."), "reached")
        if milestone is None:
            raise _invalid(_("Give the milestone that reached refers to."), "milestone")
    page = _query_int("page", 1, low=1, high=100000)
    per_page = _query_int("per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    query = residents_query(user, unit=unit).options(selectinload(Resident.unit), selectinload(Resident.household))
    if milestone is not None:
        has_it = exists().where(
            ResidentMilestone.resident_id == Resident.id, ResidentMilestone.milestone_id == milestone.id
        )
        query = query.where(~has_it if reached in _FALSE else has_it)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify(
        {
            "items": [_resident_json(resident) for resident in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        }
    )


def _date(value, field: str = "date") -> date:
    if not isinstance(value, str) or "\x00" in value or len(value) > 10:
        raise _invalid(_("Give %(field)s as a date, e.g. 2025-03-10.", field=field), field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(_("Give %(field)s as a date, e.g. 2025-03-10.", field=field), field) from None


def _optional_id(data: dict, field: str) -> int | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise _invalid(_("Give %(field)s as a whole number.", field=field), field)
    return value


@bp.route("/residents/<int:resident_id>/milestones", methods=["POST"])
@token_required
@in_callers_language
def record_resident_milestone(resident_id: int):
    """Record a milestone: 201 when newly reached, 200 when reached before (the evidence is kept)."""
    user = current_api_user()
    resident = db.session.get(Resident, resident_id) if resident_id <= MAX_ID else None
    if resident is None:
        raise _not_found(_("No resident has this id."))
    if not authz.may(user, "outcomes.record", resident.unit):
        raise _forbidden(_("You may not record anything for this resident."))
    data = json_body()
    milestone = _milestone(data.get("milestone"), "milestone")
    on_date = _date(data.get("date"))
    confirmation = data.get("confirmed_by")
    if not isinstance(confirmation, str):
        raise _invalid(_("Choose how it was confirmed."), "confirmed_by")
    visit = None
    visit_id = _optional_id(data, "visit_id")
    if visit_id is not None:
        visit = db.session.get(Visit, visit_id)
        about_resident = visit is not None and (
            visit.resident_record_id == resident.id
            or (resident.user_id is not None and visit.resident_id == resident.user_id)
        )
        if not about_resident:
            raise _invalid(_("This visit is not about this resident."), "visit_id")
    helper = None
    helper_id = _optional_id(data, "helped_by")
    if helper_id is not None:
        helper = next((m for m in members_for(resident.unit) if m.id == helper_id), None)
        if helper is None:
            raise _invalid(_("Choose a member of the commune's teams."), "helped_by")
    elif visit is not None:
        helper = db.session.get(User, visit.member_id)
    reached, created = operations.record_milestone(
        user,
        resident,
        milestone,
        on_date=on_date,
        confirmation=confirmation,
        helped_by=helper,
        visit=visit,
    )
    body = {
        "resident": resident.id,
        "milestone": milestone.key,
        "reached_on": reached.reached_on.isoformat(),
        "newly_reached": created,
    }
    db.session.commit()
    return jsonify(body), 201 if created else 200


@bp.route("/indicators")
@token_required
def unit_indicators():
    """Per child unit of ?unit=: adults, residents reached, the share with each milestone and
    with basic digital skills (self-study and help counted apart)."""
    user = current_api_user()
    if not authz.has_permission(user, "outcomes.view"):
        raise _forbidden(_("You do not have access to the indicators."))
    unit = _unit_arg(required=True)
    rows = []
    for row in indicators(unit):
        rows.append(
            {
                "unit_code": row.unit.code,
                "unit_name": row.unit.display_name,
                "adults": row.adults,
                "residents_reached": row.residents_reached,
                "milestones": {
                    key: {"count": count, "share": row.share(count)} for key, count in row.milestones.items()
                },
                "basic_digital_skills": {
                    "self_study": row.basic_skills_self,
                    "with_help": row.basic_skills_with_help,
                    "share": row.share(row.basic_skills),
                },
            }
        )
    return jsonify(rows)
