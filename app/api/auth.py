"""Signing in to the API: a bearer token for a username and password, a forgotten password, and
who the caller is."""

from flask import jsonify, request
from flask_babel import gettext as _

from app.api import parsers
from app.api.blueprint import bp
from app.api.common import ApiError, current_api_user, json_body, token_required
from app.auth import contact, operations, recovery
from app.db import utcnow
from app.exceptions import Invalid
from app.extensions import db


@bp.route("/auth/token", methods=["POST"])
def issue_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise Invalid(_("Send both username and password as text."))
    user = operations.authenticate(username, password)
    if user is None:
        db.session.commit()
        raise ApiError(401, _("The username or password is not correct."), "invalid_credentials")
    if user.must_change_password:
        db.session.commit()
        raise ApiError(
            403,
            _("This account has a one-time password. Sign in on the website and choose a password first."),
            "password_change_required",
        )
    token, expires_at = operations.issue_api_token(user)
    db.session.commit()
    return jsonify(token=token, expires_at=expires_at.isoformat())


@bp.route("/auth/recovery", methods=["POST"])
def start_recovery():
    """A 6-digit code to the account's phone or e-mail; the same answer for an unknown account."""
    login = parsers.text(json_body(), "login", required=True)
    queued = recovery.start_recovery(login, request.remote_addr, utcnow())
    db.session.commit()
    response = jsonify(status="sent_if_exists")
    response.status_code = 202
    return recovery.hand_over_after(response, queued) if queued is not None else response


@bp.route("/auth/recovery/confirm", methods=["POST"])
def confirm_recovery():
    """The code and a new password: every session and token of the account ends."""
    data = json_body()
    login = parsers.text(data, "login", required=True)
    code = parsers.text(data, "code", required=True)
    new_password = parsers.text(data, "new_password", required=True)
    recovery.confirm_recovery(login, code, new_password, request.remote_addr, utcnow())
    db.session.commit()
    return jsonify(status="password_changed")


def _me(user):
    return jsonify(
        id=user.id,
        username=user.username,
        role=user.role,
        unit_code=user.unit.code,
        locale=user.locale,
        phone=user.phone,
        preferred_channels=contact.preferred_channels(user),
    )


@bp.route("/me")
@token_required
def me():
    return _me(current_api_user())


@bp.route("/me", methods=["PATCH"])
@token_required
def update_me():
    data = json_body()
    user = current_api_user()
    changes = {}
    if "phone" in data:
        changes["phone"] = data["phone"]
    if "preferred_channels" in data:
        changes["channels"] = data["preferred_channels"]
    contact.update_contact(user, **changes)
    db.session.commit()
    return _me(user)
