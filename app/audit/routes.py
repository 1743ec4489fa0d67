"""The audit log page (administrators)."""

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.audit.blueprint import bp
from app.audit.models import ACTION_TITLES, AuditEvent
from app.extensions import db
from app.views import page_arg


@bp.route("/")
@login_required
def index():
    authz.ensure(authz.may(current_user, "audit.view"))
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    action = request.args.get("action")
    if action in ACTION_TITLES:
        query = query.where(AuditEvent.action == action)
    pagination = db.paginate(query, page=page_arg(), per_page=100, error_out=False)
    return render_template("audit/index.html", pagination=pagination, actions=ACTION_TITLES, action=action)
