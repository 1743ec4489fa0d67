"""The household list a commune manager imports (CSV or XLSX), and its CSV template."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.extensions import db
from app.outcomes.blueprint import bp
from app.outcomes.forms import HouseholdImportForm
from app.outcomes.residents import (
    COLUMNS,
    COMMUNE_KINDS,
    HEADERS,
    ResidentImportError,
    import_households,
    sample_village_code,
    units_in_scope,
)
from app.privacy.forms import CONSENT_FIELDS
from app.reports.exports import csv_download
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, refuse, unit_choices

#: The template's example row: a fictional person. Its village is the first of the downloader's
#: area (see sample_village_code), so the template imports as it is; this one stands in when the
#: area has no village yet.
EXAMPLE_ROW = {
    "village_code": "THON-01",
    "household_code": "HO-001",
    "address": "Số 1, xóm Đông",
    "resident_code": "ND-001",
    "full_name": "Nguyễn Văn Mẫu",
    "birth_year": "1960",
    "phone": "0912 345 678",
}


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_households_page():
    authz.ensure(authz.has_permission(current_user, "outcomes.import"))
    root = authz.scope_root(current_user)
    form = HouseholdImportForm()
    if root is None:
        form.commune.choices = [
            SelectChoice("", _("Choose…")),
            *unit_choices(units_in_scope(current_user, COMMUNE_KINDS)),
        ]
    problems, status = [], 200
    if form.validate_on_submit():
        commune = root if root is not None else get_unit_by_code(form.commune.data)
        if commune is None or commune.level != 2:
            form.commune.errors = [*form.commune.errors, _("Choose the commune or ward.")]
            return render_template(
                "outcomes/import.html",
                form=form,
                problems=[],
                choose_commune=True,
                columns=COLUMNS,
                headers=HEADERS,
            ), 400
        upload = form.file.data
        try:
            summary = import_households(
                current_user,
                commune,
                upload.filename or "",
                upload.read(),
                legal_basis=form.legal_basis.data,
                consents=form.chosen_consents(),
                evidence=form.consent_evidence.data,
            )
        except ResidentImportError as error:
            db.session.rollback()
            problems, status = error.problems, 400
            flash(error.message, "error")
        except FORM_ERRORS as error:
            status = refuse(form, error, CONSENT_FIELDS)
        else:
            db.session.commit()
            flash(
                _(
                    "The list of %(commune)s has been imported: %(hc)d households added, %(hu)d updated; "
                    "%(rc)d residents added, %(ru)d updated.",
                    commune=commune.display_name,
                    hc=summary.households_created,
                    hu=summary.households_updated,
                    rc=summary.residents_created,
                    ru=summary.residents_updated,
                ),
                "success",
            )
            return redirect(url_for("outcomes.residents", unit=commune.code))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "outcomes/import.html",
            form=form,
            problems=problems,
            choose_commune=root is None,
            columns=COLUMNS,
            headers=HEADERS,
        ),
        status,
    )


@bp.route("/import/template.csv")
@login_required
def import_template():
    """The columns of a household list under their Vietnamese headers and one fictional example
    row in a village of the person's area, as UTF-8 with a BOM so that spreadsheet programs show
    Vietnamese names correctly."""
    authz.ensure(authz.has_permission(current_user, "outcomes.import"))
    example = {**EXAMPLE_ROW, "village_code": sample_village_code(current_user) or EXAMPLE_ROW["village_code"]}
    return csv_download(
        [[HEADERS[column] for column in COLUMNS], [example[column] for column in COLUMNS]],
        "household-list-template.csv",
    )
