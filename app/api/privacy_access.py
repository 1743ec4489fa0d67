"""Privacy endpoints of the API (filled in by its feature)."""

from app.api.blueprint import bp  # noqa: F401
