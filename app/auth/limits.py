"""Sign-in rate limits, per account and per client address, shared by the page and the API."""

from flask import current_app, g, request

from app.audit.operations import record
from app.auth.operations import normalise_username
from app.extensions import db, limiter


def _typed_username() -> str:
    name = request.form.get("username")
    if name is None and request.is_json:
        data = request.get_json(silent=True)
        name = data.get("username") if isinstance(data, dict) else None
    return normalise_username(name if isinstance(name, str) else "")[:64]


def _account_key() -> str:
    return "account:" + _typed_username()


def mark_login_succeeded() -> None:
    """Called by a sign-in endpoint on success, so the attempt is not counted."""
    g.login_succeeded = True


def _counts_as_failure(response) -> bool:
    return not g.get("login_succeeded", False)


def _on_throttled(request_limit) -> None:
    record("login_throttled", username=_typed_username())
    db.session.commit()


def login_rate_limits(view):
    """Decorate a sign-in endpoint with both limits (failed attempts only)."""
    view = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
        methods=["POST"],
        deduct_when=_counts_as_failure,
        on_breach=_on_throttled,
        scope="login-address",
    )(view)
    return limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_counts_as_failure,
        on_breach=_on_throttled,
        scope="login-account",
    )(view)
