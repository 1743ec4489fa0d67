"""The unit tree: the units in one's area, one unit with its children, and importing a unit file."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.audit.operations import record
from app.extensions import db
from app.units.blueprint import bp
from app.units.forms import UnitImportForm
from app.units.operations import UnitImportError, children_of, import_units
from app.views import unit_or_404


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
    unit = unit_or_404(code)
    authz.ensure(authz.may(current_user, "units.view", unit))
    ancestors = []
    parent = unit.parent
    while parent is not None:
        if authz.unit_in_scope(current_user, parent):
            ancestors.insert(0, parent)
        parent = parent.parent
    return render_template("units/show.html", unit=unit, ancestors=ancestors, children=children_of(unit))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file():
    authz.ensure(authz.may(current_user, "units.manage"))
    form = UnitImportForm()
    problems = []
    if form.validate_on_submit():
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors.append(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."))
        else:
            try:
                result = import_units(text)
            except UnitImportError as error:
                db.session.rollback()
                flash(error.message, "error")
                problems = error.problems
            else:
                record(
                    "units_imported",
                    actor=current_user,
                    details={
                        "file": form.file.data.filename,
                        "created": result.created,
                        "updated": result.updated,
                    },
                )
                db.session.commit()
                flash(
                    _(
                        "%(created)d unit(s) created, %(updated)d updated.",
                        created=result.created,
                        updated=result.updated,
                    ),
                    "success",
                )
                return redirect(url_for("units.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("units/import.html", form=form, problems=problems), status
