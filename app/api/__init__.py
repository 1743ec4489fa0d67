"""The JSON API (/api/v1) for the province's other systems. Bearer tokens, JSON errors."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import auth, campaigns, learning, outcomes, reports, units, visits  # noqa: E402,F401  (routes register on bp)
