"""Signing in and out, passwords, API tokens.

Every password check of an existing account goes through the sign-in limits (app/auth/limits.py):
the sign-in page and API tokens through `authenticate`, the password change through
`change_password`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select

from app.audit.operations import record
from app.auth import limits, passwords
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Invalid
from app.extensions import db
from app.jobs.outbox import enqueue, page_link

# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def authenticate(username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None — the same for every failure.

    The try counts against the sign-in limits: raises limits.TooManyAttempts (429) without
    checking the password when they are used up. A failure is recorded and committed at once, so
    the record stays whatever the request does next.
    """
    global _DUMMY_HASH
    name = normalise_username(username)[:64]
    attempt = _begin_attempt(name)
    user = find_user(name)
    if user is None:
        if _DUMMY_HASH is None:
            probe = User()
            probe.set_password(secrets.token_hex(8))
            _DUMMY_HASH = probe.password_hash
        User(password_hash=_DUMMY_HASH).check_password(password or "")
    right = user is not None and user.check_password(password or "") and user.active
    _write_afresh(user)
    if not right:
        record("login_failed", target=user, username=name)
        _count_failure(attempt, user, name)
        return None
    attempt.succeeded()
    user.last_login_at = utcnow()
    record("login", actor=user, target=user)
    return user


def _begin_attempt(username: str, user: User | None = None) -> limits.Attempt:
    try:
        return limits.begin(username)
    except limits.TooManyAttempts as refusal:
        if refusal.first:  # audited once per window, not on every refused try
            _write_afresh(user)
            record("login_throttled", target=user, username=username)
            db.session.commit()
        raise


def _write_afresh(user: User | None) -> None:
    """End the request's transaction before writing the outcome of a password check, keeping
    `user` loaded.

    The account was read before the slow hash; on SQLite a transaction that has read cannot
    write once another request has written meanwhile: it fails at once ("database is locked")
    instead of waiting for the lock. Nothing has been written before a password check.
    """
    if user is not None:
        db.session.expunge(user)
    db.session.rollback()
    if user is not None:
        db.session.add(user)


def _count_failure(attempt: limits.Attempt, user: User | None, username: str) -> None:
    """Count a wrong password; when the account is attacked, audit it and tell the owner (once
    per window). Commits."""
    attack = attempt.failed()
    if attack is not None:
        record("sign_in_attack", target=user, username=username, details={"failures": attack.failures})
        if user is not None:
            enqueue(
                f"sign-in-attack:{user.id}:{attack.window}",
                user,
                "sign_in_attack",
                link=page_link("auth.change_password"),
            )
    db.session.commit()


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
    """Raise Invalid when the password is too weak to use (app/auth/passwords.py says why)."""
    problem = passwords.weakness(new_password, user_inputs=[user.username, user.full_name])
    if problem is None and user.password_hash and user.check_password(new_password):
        problem = _("The new password must differ from the current one.")
    if problem is not None:
        raise Invalid(problem, field="new_password")


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password and end every other session; raises Invalid.

    The current password is checked like a sign-in: a wrong one counts against the account's
    sign-in limits, and limits.TooManyAttempts (429) is raised when they are used up.
    """
    attempt = _begin_attempt(user.username, user)
    right = user.check_password(current_password or "")
    _write_afresh(user)
    if not right:
        _count_failure(attempt, user, user.username)
        raise Invalid(_("The current password is not correct."), field="current_password")
    attempt.succeeded()
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
