"""Residents and their consents through the API: adding a resident with the legal basis of their
record and the consents they gave, recording a consent, withdrawing one.

The rules are the pages' (app.outcomes.residents.add_resident, app.privacy.consents, app.authz).
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from app import authz
from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import Resident
from app.outcomes.residents import add_resident, find_resident
from app.privacy import consents
from app.privacy.subjects import subject_of_resident
from app.units.operations import get_unit_by_code

#: At most this many consents in one request (one per purpose is all that can be kept).


def _resident_json(resident: Resident) -> dict:
    return {
        "id": resident.id,
        "name": resident.full_name,
        "village": resident.unit.code,
        "birth_year": resident.birth_year,
        "phone": resident.phone,
        "consents": [consents.consent_as_dict(row) for row in consents.consents_of(subject_of_resident(resident))],
    }


def _resident_for_consents(resident_id: int) -> Resident:
    resident = find_resident(resident_id)
    if not authz.may_act_for_resident(current_api_user(), resident):
        raise NotAllowed(_("You may not act for this resident."))
    return resident


@bp.route("/residents", methods=["POST"])
@token_required
@in_callers_language
def create_resident():
    """Add a resident: a village's code, their name, the legal basis of the record, and the
    consents they gave. Members and managers in the village's area only."""
    user = current_api_user()
    data = json_body()
    code = parsers.text(data, "unit_code", required=True)
    unit = get_unit_by_code(code)
    if unit is None:
        raise Invalid(_("No unit has the code %(code)s.", code=code[:40]), field="unit_code")
    legal_basis = parsers.text(data, "legal_basis")
    evidence = parsers.text(data, "evidence")
    try:
        resident = add_resident(
            user,
            village=unit,
            full_name=parsers.text(data, "full_name", required=True),
            birth_year=parsers.integer(data.get("birth_year"), "birth_year", required=False),
            phone=parsers.text(data, "phone"),
            legal_basis=legal_basis,
            consents=parsers.consent_choices(data),
            evidence=evidence,
        )
    except Invalid as error:
        if error.field == "village":
            error.field = "unit_code"
        raise
    db.session.commit()
    return jsonify(_resident_json(resident)), 201


@bp.route("/residents/<int:resident_id>/consents", methods=["POST"])
@token_required
@in_callers_language
def give_resident_consent(resident_id: int):
    """Record a resident's consent (or another basis) for one purpose: 201, or 200 when the same
    is already in force."""
    resident = _resident_for_consents(resident_id)
    data = json_body()
    subject = subject_of_resident(resident)
    purpose = data.get("purpose")
    before = consents.active_decision(subject, purpose) if isinstance(purpose, str) else None
    row = consents.give_consent(
        subject,
        purpose,
        recorded_by=current_api_user(),
        basis=data.get("basis"),
        channel=data.get("channel"),
        evidence=data.get("evidence"),
    )
    db.session.commit()
    return jsonify(consents.consent_as_dict(row)), 200 if before is not None and before.id == row.id else 201


@bp.route("/residents/<int:resident_id>/consents/<purpose>", methods=["DELETE"])
@token_required
@in_callers_language
def withdraw_resident_consent(resident_id: int, purpose: str):
    """Withdraw a resident's consent for one purpose; 404 when none is in force."""
    resident = _resident_for_consents(resident_id)
    row = consents.withdraw_consent(subject_of_resident(resident), purpose, by=current_api_user())
    db.session.commit()
    return jsonify(consents.consent_as_dict(row))
