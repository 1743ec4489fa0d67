"""Routes on the visits blueprint."""

from app.visits.routes import bp  # noqa: F401
