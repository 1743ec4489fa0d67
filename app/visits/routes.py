"""Pages of the tech teams: teams and availability, help requests and triage, booking, the
agenda and team calendar, visits, group sessions, calendar feeds."""

from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits")

# Route modules register themselves on `bp`.
from app.visits import agenda_routes, request_routes, team_routes  # noqa: E402,F401
