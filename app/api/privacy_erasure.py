"""Privacy API: erasing a resident's data. The rules are app.privacy.erasure's (and app.authz's);
this view parses the input, calls it and shapes the answer."""

from __future__ import annotations

from flask import jsonify

from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.extensions import db
from app.outcomes.residents import find_resident
from app.privacy import erasure


@bp.route("/residents/<int:resident_id>/erasure", methods=["POST"])
@token_required
@in_callers_language
def erase_resident(resident_id: int):
    """Erase a resident's data (and their account's, when one is linked): what was erased and
    what was kept, and why. The resident then answers 404 everywhere."""
    user = current_api_user()
    resident = find_resident(resident_id)
    data = json_body()
    report = erasure.erase_resident(user, resident, data.get("reason"))
    db.session.commit()
    return jsonify(report.as_dict())
