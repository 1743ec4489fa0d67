"""A person's requests, the correction of their record and the restriction of processing, for the
province's other systems: the same operations and rules as the pages (app.privacy.requests,
app.privacy.corrections, app.privacy.restriction, app.authz); this module parses the input, calls
them and shapes the answer."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_babel import gettext as _

from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.db import LOCAL_TZ, MAX_ID
from app.exceptions import NotFound
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import corrections, requests, restriction
from app.privacy.access_log import record_read
from app.privacy.export import resident_for_request
from app.privacy.models import PersonalDataCorrection, PersonRequest
from app.privacy.subjects import subject_of_resident

# --- output --------------------------------------------------------------------------------


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment is not None else None


def request_json(item: PersonRequest) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "resident_id": item.resident_id,
        "details": item.details,
        "received_at": _local(item.received_at),
        "acknowledge_by": item.acknowledge_by.isoformat(),
        "due_by": item.due_by.isoformat(),
        "acknowledged_at": _local(item.acknowledged_at),
        "closed_at": _local(item.closed_at),
        "outcome": item.outcome,
        "note": item.note,
        "late": requests.is_late(item),
    }


def correction_json(row: PersonalDataCorrection) -> dict:
    return {
        "id": row.id,
        "table": row.table_name,
        "field": row.field,
        "old_value": row.old_value,
        "new_value": row.new_value,
        "corrected_at": _local(row.corrected_at),
        "corrected_by_id": row.corrected_by_id,
        "request_id": row.request_id,
    }


def resident_json(resident: Resident) -> dict:
    return {
        "id": resident.id,
        "full_name": resident.full_name,
        "village": resident.unit.code,
        "birth_year": resident.birth_year,
        "phone": resident.phone,
        "restricted": restriction.is_restricted(resident),
    }


# --- input ---------------------------------------------------------------------------------


def _person_request(request_id: int) -> PersonRequest:
    item = db.session.get(PersonRequest, request_id) if 0 < request_id <= MAX_ID else None
    if item is None:
        raise NotFound(_("No request has this id."))
    return item


def _submitted_fields(data: dict) -> dict:
    """The fields of the resident's record the body sends (a field left out is left as it is),
    each of the type it must have; their values are checked by the operation."""
    submitted = {}
    if "full_name" in data:
        submitted["full_name"] = parsers.text(data, "full_name", required=True)
    if "birth_year" in data:
        submitted["birth_year"] = parsers.integer(data["birth_year"], "birth_year", required=False)
    if "phone" in data:
        submitted["phone"] = parsers.text(data, "phone")
    return submitted


# --- a resident's requests -----------------------------------------------------------------


# One view per path: with a rule per method, an id beyond any database id would answer 405, not 404.


@bp.route("/residents/<int:resident_id>/requests", methods=["GET", "POST"])
@token_required
@in_callers_language
def resident_person_requests(resident_id: int):
    """GET: the requests about the resident (and their account), newest first. POST: file a
    request for the resident, 201; 409 when one of the same kind is open."""
    user = current_api_user()
    resident = resident_for_request(user, resident_id)
    if request.method == "GET":
        record_read(user, residents=[resident], kind="api")
        return jsonify([request_json(item) for item in requests.requests_of_resident(resident)])
    data = json_body()
    item = requests.file_request(
        parsers.text(data, "kind", required=True),
        filed_by=user,
        resident=resident,
        details=parsers.text(data, "details"),
    )
    db.session.commit()
    return jsonify(request_json(item)), 201


@bp.route("/requests/<int:request_id>/acknowledge", methods=["POST"])
@token_required
@in_callers_language
def acknowledge_person_request(request_id: int):
    """Record that the person was answered."""
    item = _person_request(request_id)
    requests.acknowledge(current_api_user(), item)
    db.session.commit()
    return jsonify(request_json(item))


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@token_required
@in_callers_language
def close_person_request(request_id: int):
    """Close the request with its outcome (a refusal says why in `note`)."""
    item = _person_request(request_id)
    data = json_body()
    requests.close(current_api_user(), item, parsers.text(data, "outcome", required=True), parsers.text(data, "note"))
    db.session.commit()
    return jsonify(request_json(item))


# --- correction ----------------------------------------------------------------------------


@bp.route("/residents/<int:resident_id>", methods=["PATCH"])
@token_required
@in_callers_language
def correct_resident_record(resident_id: int):
    """Correct the resident's name, birth year or phone: only the fields sent, each change kept in
    the history (and answering the person's open correction request, when there is one)."""
    user = current_api_user()
    resident = resident_for_request(user, resident_id)
    submitted = _submitted_fields(json_body())
    changed = corrections.correct_resident(
        user,
        resident,
        submitted,
        person_request=corrections.open_correction_request(subject_of_resident(resident)),
    )
    db.session.commit()
    record_read(user, residents=[resident], kind="api")
    return jsonify({"resident": resident_json(resident), "changed": [correction_json(row) for row in changed]})


@bp.route("/residents/<int:resident_id>/corrections")
@token_required
@in_callers_language
def resident_corrections(resident_id: int):
    """The history of corrections to the resident's record and their account, newest first."""
    user = current_api_user()
    resident = resident_for_request(user, resident_id)
    record_read(user, residents=[resident], kind="api")
    return jsonify([correction_json(row) for row in corrections.corrections_of(subject_of_resident(resident))])


# --- restriction ---------------------------------------------------------------------------


def _restriction_json(resident: Resident) -> dict:
    return {"resident_id": resident.id, "restricted": restriction.is_restricted(resident)}


@bp.route("/residents/<int:resident_id>/restriction", methods=["PUT", "DELETE"])
@token_required
@in_callers_language
def resident_restriction(resident_id: int):
    """PUT: restrict processing of the resident (and their account), 409 when it already is.
    DELETE: lift the restriction, 409 when processing is not restricted."""
    user = current_api_user()
    resident = resident_for_request(user, resident_id)
    if request.method == "PUT":
        restriction.restrict(user, resident)
    else:
        restriction.lift(user, resident)
    db.session.commit()
    return jsonify(_restriction_json(resident))
