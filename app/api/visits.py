"""Visits API: teams, skills, slots, help requests, visits, group sessions."""

from app.api import bp  # noqa: F401
