"""Recording audit events."""

from flask import has_request_context, request

from app.audit.models import AuditEvent
from app.extensions import db

# Keys that must never reach the log, whatever a caller passes.
_SECRET_KEYS = {"password", "new_password", "token", "password_hash", "csrf_token"}


def record(action: str, *, actor=None, target=None, username=None, details=None) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's transaction)."""
    clean = {k: v for k, v in (details or {}).items() if k not in _SECRET_KEYS} or None
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        target_user_id=getattr(target, "id", None),
        username=username,
        ip_address=request.remote_addr if has_request_context() else None,
        details=clean,
    )
    db.session.add(event)
    return event
