from flask import jsonify, request
from flask_babel import gettext as _

from app import authz
from app.api import bp
from app.api.common import ApiError, current_api_user, token_required
from app.units.operations import children_of, get_unit_by_code


def unit_json(unit) -> dict:
    return {
        "code": unit.code,
        "name": unit.display_name,
        "kind": unit.kind,
        "parent_code": unit.parent.code if unit.parent else None,
        "population": unit.population,
    }


@bp.route("/units")
@token_required
def list_units():
    """Children of ?parent=CODE; without it, the top of the caller's scope."""
    user = current_api_user()
    parent_code = request.args.get("parent")
    if parent_code is None:
        root = authz.scope_root(user)
        units = [root] if root is not None else children_of(None)
        return jsonify([unit_json(unit) for unit in units])
    parent = get_unit_by_code(parent_code)
    if parent is None:
        raise ApiError(404, _("No unit has the code %(code)s.", code=parent_code[:40]), "not_found")
    if not authz.may(user, "units.view", parent):
        raise ApiError(403, _("This unit is outside your area."), "forbidden")
    return jsonify([unit_json(unit) for unit in children_of(parent)])
