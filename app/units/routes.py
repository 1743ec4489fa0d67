from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from app import authz
from app.units.operations import children_of, get_unit_by_code

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.route("/")
@login_required
def index():
    authz.ensure(authz.may(current_user, "units.view"))
    root = authz.scope_root(current_user)
    units = [root] if root is not None else children_of(None)
    return render_template("units/index.html", units=units)


@bp.route("/<code>")
@login_required
def show(code: str):
    unit = get_unit_by_code(code)
    if unit is None:
        abort(404)
    authz.ensure(authz.may(current_user, "units.view", unit))
    ancestors = []
    parent = unit.parent
    while parent is not None:
        if authz.unit_in_scope(current_user, parent):
            ancestors.insert(0, parent)
        parent = parent.parent
    return render_template("units/show.html", unit=unit, ancestors=ancestors, children=children_of(unit))
