"""Who read a resident's record, for the province's other systems: the same log and the same
rule (app.authz.may_see_reads_of) as the page."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from app import authz
from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, token_required
from app.exceptions import NotAllowed
from app.extensions import db
from app.outcomes.residents import find_resident
from app.privacy.access_log import reads_of_resident
from app.privacy.models import PersonalDataRead

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def read_json(read: PersonalDataRead) -> dict:
    reader = read.reader
    return {
        "read_at": read.read_at.isoformat(),
        "reader": {"id": reader.id, "name": reader.full_name, "role": reader.role} if reader else None,
        "kind": read.kind,
        "where": read.endpoint,
    }


@bp.route("/residents/<int:resident_id>/access-log")
@token_required
@in_callers_language
def resident_access_log(resident_id: int):
    """Who read the resident's record, newest first: 404 unknown, 403 outside the caller's area."""
    user = current_api_user()
    resident = find_resident(resident_id)
    if not authz.may_see_reads_of(user, resident):
        raise NotAllowed(_("This resident is outside your area."))
    page = parsers.query_int("page", 1, low=1, high=100000)
    per_page = parsers.query_int("per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    pagination = db.paginate(reads_of_resident(resident), page=page, per_page=per_page, error_out=False)
    return jsonify(
        {
            "items": [read_json(read) for read in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        }
    )
