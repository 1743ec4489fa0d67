"""Privacy API: erasing a resident's data. The rules are app.privacy.erasure's (and app.authz's);
this view parses the input, calls it and shapes the answer."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.db import MAX_ID
from app.exceptions import NotFound
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import erasure


@bp.route("/residents/<int:resident_id>/erasure", methods=["POST"])
@token_required
@in_callers_language
def erase_resident(resident_id: int):
    """Erase a resident's data (and their account's, when one is linked): what was erased and
    what was kept, and why. The resident then answers 404 everywhere."""
    user = current_api_user()
    resident = db.session.get(Resident, resident_id) if resident_id <= MAX_ID else None
    if resident is None or resident.erased_at is not None:
        raise NotFound(_("No resident has this id."))
    data = json_body()
    report = erasure.erase_resident(user, resident, data.get("reason"))
    db.session.commit()
    return jsonify(report.as_dict())
