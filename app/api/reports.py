"""Reports API: completion and visits per child unit, as JSON or CSV.

The figures come from app.reports.queries (summary tables only), the same as the dashboards;
scope from app.authz (a commune manager reaches only their commune).
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from app import authz
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, token_required
from app.exceptions import Invalid, NotAllowed
from app.reports import queries
from app.reports.exports import csv_response, export_filename
from app.reports.tables import ReportTable
from app.units.models import Unit
from app.units.operations import area_unit

COMPLETION_KEYS = ("unit_code", "unit_name", "population", "enrolled", "completed", "completion_rate")
VISIT_KEYS = (
    "unit_code",
    "unit_name",
    "requests",
    "visits_done",
    "median_wait_hours",
    "resolved_share",
    "average_rating",
    "called_in_time_share",
)


def _report_unit() -> Unit:
    """?unit=CODE (404 unknown, 403 outside the caller's area), else the caller's area: their
    commune or the province. 403 without access to reports at all."""
    user = current_api_user()
    if not authz.has_permission(user, "reports.view"):
        raise NotAllowed(_("You do not have access to reports."))
    return area_unit(user, request.args.get("unit"), permission="reports.view")


def _format() -> str:
    fmt = (request.args.get("format") or "json").strip().lower()
    if fmt not in ("json", "csv"):
        raise Invalid(_("Give format as json or csv."), field="format")
    return fmt


def _number(value):
    return round(value, 4) if isinstance(value, float) else value


def _unit_json(unit: Unit) -> dict:
    return {"code": unit.code, "name": unit.display_name, "kind": unit.kind, "population": unit.population}


def _answer(unit: Unit, table: ReportTable, keys: tuple[str, ...], stem: str, fmt: str):
    columns = [column for key in keys for column in table.columns if column.key == key]
    shown = ReportTable(
        table.title,
        columns,
        [{key: row.get(key) for key in keys} for row in table.rows],
        {key: table.totals.get(key) for key in keys} if table.totals else None,
        table.note,
    )
    if fmt == "csv":
        return csv_response(shown, export_filename(stem, unit, "csv"))
    return jsonify(
        {
            "unit": _unit_json(unit),
            "rows": [{key: _number(row[key]) for key in keys} for row in shown.rows],
            "totals": {key: _number(value) for key, value in (shown.totals or {}).items()},
            "note": table.note,
        }
    )


@bp.route("/reports/completion")
@token_required
@in_callers_language
def report_completion():
    """?unit=CODE&course=SLUG&role=cadre|resident&from=DATE&to=DATE&format=json|csv: enrolments
    and completions per child unit of `unit`, totals from the unit's own figures."""
    unit = _report_unit()
    fmt = _format()
    filters = queries.parse_filters(request.args)  # Invalid -> 422 with the field
    table = queries.completion_table(
        unit,
        course_id=filters.course.id if filters.course else None,
        role=filters.role,
        week_from=filters.week_from,
        week_to=filters.week_to,
    )
    return _answer(unit, table, COMPLETION_KEYS, "completion", fmt)


@bp.route("/reports/visits")
@token_required
@in_callers_language
def report_visits():
    """?unit=CODE&from=DATE&to=DATE&format=json|csv: help requests and visits per child unit."""
    unit = _report_unit()
    fmt = _format()
    filters = queries.parse_filters({key: request.args.get(key) for key in ("from", "to")})
    table = queries.visits_table(unit, filters.week_from, filters.week_to)
    return _answer(unit, table, VISIT_KEYS, "visits", fmt)
