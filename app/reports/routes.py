"""Management pages: dashboards, indicators, trends, course analytics, teams, exports."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import dashboard_routes, print_routes, trend_routes  # noqa: E402,F401
