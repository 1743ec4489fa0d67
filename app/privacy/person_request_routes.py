"""Privacy pages (filled in by its feature)."""

from app.privacy.blueprint import bp  # noqa: F401
