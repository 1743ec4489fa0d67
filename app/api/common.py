"""What every API endpoint shares: the caller, their language, JSON input.

Errors are the operations' own (app.exceptions), answered as JSON by the application's one error
handler (app.errors); ApiError is for what only the API can get wrong (no JSON, bad credentials).
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.operations import user_for_api_token
from app.errors import ERROR_CODES, api_error
from app.exceptions import DomainError


class ApiError(DomainError):
    """A request the API cannot take, with its own status and code (401, 415, bad JSON…)."""

    def __init__(self, status: int, message: str, code: str | None = None, **extra):
        super().__init__(message, field=extra.pop("field", None), details=extra)
        self.status = status
        self.code = code or ERROR_CODES.get(status, "error")


def current_api_user():
    return g.get("api_user")


def token_required(view):
    """Authenticate with `Authorization: Bearer <token>`; 401 otherwise."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        user = user_for_api_token(token.strip()) if scheme.lower() == "bearer" and token else None
        if user is None:
            response = api_error(401, _("Send a valid token: Authorization: Bearer <token>."), "unauthorized")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def json_body() -> dict:
    """The request's JSON object, or ApiError 400/415 with a message saying what is wrong."""
    if not request.is_json:
        raise ApiError(415, _("Send the data as JSON with Content-Type: application/json."))
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting; silent=True only covers ValueError
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, _("The body must be a JSON object."), "bad_json")
    return data


def in_callers_language(view):
    """Answer in the caller's saved language when they chose one (as the website does), else in
    the request's Accept-Language. Goes under @token_required."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        locale = current_api_user().locale
        if locale not in current_app.config["LANGUAGES"]:
            return view(*args, **kwargs)
        with force_locale(locale):
            return view(*args, **kwargs)

    return wrapper
