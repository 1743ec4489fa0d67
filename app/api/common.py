"""What every API endpoint shares: the caller, JSON input, errors."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from app.auth.operations import user_for_api_token
from app.errors import api_error
from app.exceptions import DomainError


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


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


def register_error_handlers(bp) -> None:
    @bp.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        return api_error(error.status, error.message, error.code, **error.extra)

    @bp.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        extra = {"field": error.field} if error.field else {}
        return api_error(error.status, error.message, error.code, **extra)
