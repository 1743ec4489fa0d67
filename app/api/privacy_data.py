"""A person's data through the API: everything held about the caller, or about a resident in the
caller's area. The rules are app.privacy.export's, the same the pages call."""

from __future__ import annotations

from flask import jsonify

from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, token_required
from app.privacy.export import my_personal_data, resident_personal_data


@bp.route("/me/personal-data")
@token_required
@in_callers_language
def my_personal_data_api():
    return jsonify(my_personal_data(current_api_user()))


@bp.route("/residents/<int:resident_id>/personal-data")
@token_required
@in_callers_language
def resident_personal_data_api(resident_id: int):
    return jsonify(resident_personal_data(current_api_user(), resident_id))
