"""Signing in and out, passwords, API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select

from app.audit.operations import record
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Invalid
from app.extensions import db

MIN_PASSWORD_LENGTH = 8
# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None — the same for every failure."""
    global _DUMMY_HASH
    user = find_user(username)
    if user is None:
        if _DUMMY_HASH is None:
            probe = User()
            probe.set_password(secrets.token_hex(8))
            _DUMMY_HASH = probe.password_hash
        probe = User(password_hash=_DUMMY_HASH)
        probe.check_password(password or "")
        record("login_failed", username=normalise_username(username)[:64])
        return None
    if not user.check_password(password or "") or not user.active:
        record("login_failed", target=user, username=user.username)
        return None
    user.last_login_at = utcnow()
    record("login", actor=user, target=user)
    return user


# Built once: every signed-in request runs it, and a prebuilt statement skips the work
# Session.get does to build its query.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def load_user_from_session_id(session_id: str) -> User | None:
    """Flask-Login loader: the id carries the epoch, so stale cookies load nobody."""
    try:
        user_id, epoch = (int(part) for part in session_id.split(":"))
    except (ValueError, AttributeError):
        return None
    user = db.session.execute(_USER_BY_ID, {"user_id": user_id}).scalar_one_or_none()
    if user is None or user.session_epoch != epoch or not user.active:
        return None
    return user


def sign_out_everywhere(user: User) -> None:
    user.end_sessions()
    record("logout", actor=user, target=user)


def check_new_password(user: User, new_password: str) -> None:
    """Raise Invalid when the password is too weak to use."""
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="new_password",
        )
    lowered = new_password.lower()
    if lowered == user.username or lowered in {"12345678", "password", "matkhau123", "123456789"}:
        raise Invalid(_("This password is too easy to guess. Choose another one."), field="new_password")
    if user.check_password(new_password):
        raise Invalid(_("The new password must differ from the current one."), field="new_password")


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password and end every other session; raises Invalid."""
    if not user.check_password(current_password or ""):
        raise Invalid(_("The current password is not correct."), field="current_password")
    check_new_password(user, new_password)
    user.set_password(new_password)
    user.must_change_password = False
    user.end_sessions()
    record("password_changed", actor=user, target=user)


def generate_one_time_password() -> str:
    """Easy to read out and type on a phone: no look-alike characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def issue_one_time_password(user: User, *, actor: User) -> str:
    password = generate_one_time_password()
    user.set_password(password)
    user.must_change_password = True
    user.end_sessions()
    record("password_reset", actor=actor, target=user)
    return password


def _token_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_api_token(user: User) -> tuple[str, datetime]:
    """A signed bearer token; it stops working at expiry or when the user's sessions end."""
    hours = current_app.config["API_TOKEN_HOURS"]
    token = _token_serializer().dumps({"u": user.id, "e": user.session_epoch})
    record("api_token_issued", actor=user, target=user)
    return token, utcnow() + timedelta(hours=hours)


def user_for_api_token(token: str) -> User | None:
    max_age = current_app.config["API_TOKEN_HOURS"] * 3600
    try:
        data = _token_serializer().loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return load_user_from_session_id(f"{data.get('u')}:{data.get('e')}")


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0
