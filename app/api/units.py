"""Units API: the unit tree, one level at a time, within the caller's area."""

from flask import jsonify, request
from flask_babel import gettext as _

from app import authz
from app.api.blueprint import bp
from app.api.common import current_api_user, token_required
from app.api.parsers import unit_arg
from app.exceptions import NotAllowed
from app.units.operations import children_of


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
    if request.args.get("parent") is None:
        root = authz.scope_root(user)
        units = [root] if root is not None else children_of(None)
        return jsonify([unit_json(unit) for unit in units])
    parent = unit_arg("parent")
    if not authz.may(user, "units.view", parent):
        raise NotAllowed(_("This unit is outside your area."))
    return jsonify([unit_json(unit) for unit in children_of(parent)])
