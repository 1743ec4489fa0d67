"""The message cost report: messages handed to paid channels (Zalo, SMS) per month, commune and
channel, with their price, as a page and as CSV/XLSX exactly as shown.

Figures come from app.reports.message_costs; access from app.authz: reports.view, and a commune
manager reaches only their own commune (another commune or the province: 403). A month that
cannot be read, an end before the start or a period over two years answers 400 with the reason.
"""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.jobs.message_states import CHANNEL_TITLES
from app.reports.blueprint import bp
from app.reports.message_costs import message_costs, period
from app.reports.trend_routes import _download, _unit_choices
from app.views import area_page_unit, clean_arg


def _report():
    unit = area_page_unit("reports.view")
    first, last = period(clean_arg("from", 20), clean_arg("to", 20))
    return message_costs(unit, first, last)


def _export_args(report) -> dict:
    return {
        "unit": report.unit.code,
        "from": report.first_month.strftime("%Y-%m"),
        "to": report.last_month.strftime("%Y-%m"),
    }


@bp.route("/messages")
@login_required
def message_cost_report():
    report = _report()
    return render_template(
        "reports/message_costs.html",
        report=report,
        unit=report.unit,
        units=_unit_choices(report.unit),
        channel_titles=CHANNEL_TITLES,
        export_args=_export_args(report),
    )


@bp.route("/messages.<any(csv, xlsx):fmt>")
@login_required
def message_cost_export(fmt: str):
    report = _report()
    tables = [("months", report.by_month), ("communes", report.by_commune), ("detail", report.detail)]
    return _download(tables, clean_arg("table", 20) or None, "message-costs", report.unit, fmt)
