"""Management pages: dashboards, indicators, trends, course analytics, teams, exports."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
