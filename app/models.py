"""Imports every feature's models, so the metadata is complete wherever it is needed."""

from app.audit.models import AuditEvent
from app.auth.models import Consent, User
from app.units.models import Unit

__all__ = ["AuditEvent", "Consent", "Unit", "User"]
