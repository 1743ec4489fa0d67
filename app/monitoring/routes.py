"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app.extensions import db
from app.monitoring import metrics
from app.monitoring.blueprint import bp
from app.schema import database_revisions, migration_heads


@bp.route("/healthz")
def healthz():
    """Liveness: the process answers. It reads nothing, so a database outage does not get every
    node restarted; /readyz says whether a node can serve."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers and stands at the migrations' head; 503 with the reason
    otherwise (take the node out of the proxy's pool until it is fixed)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is the answer, not an error
        db.session.rollback()
        current_app.logger.warning("Readiness: database unreachable", exc_info=True)
        return jsonify(status="error", reason="database_unreachable"), 503
    current, heads = database_revisions(db.session), migration_heads()
    db.session.commit()
    if current != heads:
        reason = "database_not_migrated" if not current else "migrations_not_current"
        return jsonify(status="error", reason=reason, database=sorted(current), expected=sorted(heads)), 503
    return jsonify(status="ok", database="ok", migrations=sorted(current))


@bp.route("/metrics")
def prometheus_metrics():
    status = metrics.refusal(current_app.config, request.headers, request.remote_addr)
    if status == 401:
        return Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if status is not None:
        abort(status)
    response = Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
