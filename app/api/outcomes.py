"""Outcomes API: milestones, residents (filtered by a milestone reached or not), recording a
milestone, and the province's indicators per unit.

The rules live in app.outcomes (operations, residents, indicators) and app.authz; these views
parse input, call them and shape the answer.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import exists
from sqlalchemy.orm import selectinload

from app import authz
from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.auth.models import User
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.outcomes import operations
from app.outcomes.indicators import indicators
from app.outcomes.models import Resident, ResidentMilestone
from app.outcomes.residents import (
    COMMUNE_KINDS,
    ResidentImportError,
    find_resident,
    import_households,
    residents_query,
)
from app.privacy.access_log import record_read
from app.units.models import Unit
from app.units.operations import get_unit_by_code

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _unit_arg(*, required: bool) -> Unit | None:
    """The unit named by ?unit=CODE: 422 when missing (and required), 404 unknown, 403 outside."""
    unit = parsers.unit_arg(required=required)
    if unit is not None and not authz.unit_in_scope(current_api_user(), unit):
        raise NotAllowed(_("This is outside your area."))
    return unit


def _milestone(value, field: str):
    milestone = operations.get_milestone(value) if isinstance(value, str) and "\x00" not in value else None
    if milestone is None or not milestone.active:
        keys = ", ".join(m.key for m in operations.active_milestones())
        raise Invalid(_("Unknown milestone. Use one of: %(keys)s.", keys=keys), field=field)
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
        raise NotAllowed(_("You do not have access to residents."))
    unit = _unit_arg(required=False)
    milestone = _milestone(request.args["milestone"], "milestone") if request.args.get("milestone") else None
    reached = request.args.get("reached")
    if reached is not None:
        reached = reached.strip().lower()
        if reached not in (*_TRUE, *_FALSE):
            raise Invalid(_("Give reached as true or false."), field="reached")
        if milestone is None:
            raise Invalid(_("Give the milestone that reached refers to."), field="milestone")
    page = parsers.query_int("page", 1, low=1, high=100000)
    per_page = parsers.query_int("per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    query = residents_query(user, unit=unit).options(selectinload(Resident.unit), selectinload(Resident.household))
    if milestone is not None:
        has_it = exists().where(
            ResidentMilestone.resident_id == Resident.id, ResidentMilestone.milestone_id == milestone.id
        )
        query = query.where(~has_it if reached in _FALSE else has_it)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    record_read(user, residents=pagination.items, kind="api")
    return jsonify(
        {
            "items": [_resident_json(resident) for resident in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        }
    )


@bp.route("/residents/<int:resident_id>/milestones", methods=["POST"])
@token_required
@in_callers_language
def record_resident_milestone(resident_id: int):
    """Record a milestone: 201 when newly reached, 200 when reached before (the evidence is kept)."""
    user = current_api_user()
    resident = find_resident(resident_id)
    operations.ensure_may_act_for(user, resident)
    data = json_body()
    milestone = _milestone(data.get("milestone"), "milestone")
    on_date = parsers.day(data.get("date"))
    confirmation = data.get("confirmed_by")
    if not isinstance(confirmation, str):
        raise Invalid(_("Choose how it was confirmed."), field="confirmed_by")
    visit = None
    visit_id = parsers.identifier(data.get("visit_id"), "visit_id", required=False)
    if visit_id is not None:
        visit = operations.visit_about(resident, visit_id)
    helper = None
    helper_id = parsers.identifier(data.get("helped_by"), "helped_by", required=False)
    if helper_id is not None:
        helper = operations.team_helper(resident, helper_id)
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
        raise NotAllowed(_("You do not have access to the indicators."))
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


#: At most this many problems are listed in a refused import's answer.
MAX_PROBLEMS_SHOWN = 100


@bp.route("/households/import", methods=["POST"])
@token_required
@in_callers_language
def import_household_list():
    """A commune's list of households and residents, as on the import page: the rows as objects,
    the legal basis they are recorded on and the consents they gave. All or nothing: any problem
    refuses the whole list (422 with each problem's row)."""
    user = current_api_user()
    data = json_body()
    code = parsers.text(data, "commune_code", required=True)
    commune = get_unit_by_code(code)
    if commune is None or commune.kind not in COMMUNE_KINDS:
        raise Invalid(_("No commune or ward has the code %(code)s.", code=code[:40]), field="commune_code")
    try:
        summary = import_households(
            user,
            commune,
            "api.json",  # what the audit log names as the list's file
            None,
            legal_basis=parsers.text(data, "legal_basis"),
            consents=parsers.consent_choices(data),
            evidence=parsers.text(data, "evidence"),
            records=data.get("rows"),
        )
    except ResidentImportError as error:
        error.field = "rows"
        error.details["problems"] = [
            {"row": problem.line, "message": problem.message} for problem in error.problems[:MAX_PROBLEMS_SHOWN]
        ]
        raise
    db.session.commit()
    return jsonify(
        {
            "households_created": summary.households_created,
            "households_updated": summary.households_updated,
            "residents_created": summary.residents_created,
            "residents_updated": summary.residents_updated,
        }
    )
