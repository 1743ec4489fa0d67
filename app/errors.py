"""Error pages and JSON errors: a clear message, never a traceback."""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.exceptions import DomainError
from app.extensions import db

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def _message_for(status: int) -> str:
    messages = {
        400: _("The request could not be understood. Please check what you entered."),
        401: _("Please sign in first."),
        403: _("You do not have access to this page or record."),
        404: _("We could not find this page. Check the address or go back to the home page."),
        405: _("This action is not available here."),
        409: _("This conflicts with something that already exists."),
        413: _("The file or form is too large."),
        415: _("Send the data as JSON."),
        422: _("Some of the data is not valid."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Your data is safe; please try again later."),
        503: _("The service is temporarily unavailable. Please try again in a few minutes."),
    }
    return messages.get(status, _("Something went wrong."))


def api_error(status: int, message: str | None = None, code: str | None = None, **extra):
    """The API's one error shape: {"error": {"code", "message", ...}} with a 4xx/5xx status."""
    body = {"code": code or ERROR_CODES.get(status, "error"), "message": message or _message_for(status)}
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    return response


def wants_json() -> bool:
    """API requests and providers' webhooks (/hooks/) get JSON errors; everything else gets an
    HTML page."""
    return request.path.startswith(("/api/", "/hooks/")) or getattr(g, "api_request", False)


def domain_error_response(error: DomainError):
    """A refused operation as the API's JSON error or as an error page, with its status."""
    if wants_json():
        extra = dict(error.details)
        if error.field:
            extra["field"] = error.field
        return api_error(error.status, error.message, error.code, **extra)
    return _page(error.page_status, error.message)


def _page(status: int, message: str | None = None):
    return (
        render_template("errors/error.html", status=status, message=message or _message_for(status)),
        status,
    )


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def refused(error: DomainError):
        # Whatever the refused operation flushed is undone; nothing half-written is committed.
        db.session.rollback()
        return domain_error_response(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("This form has expired or was sent from elsewhere. Please go back, reload the page and try again.")
        return api_error(400, message, "csrf") if wants_json() else _page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        # A description given by our own code (abort(404, description=_("..."))) is meant for
        # people; werkzeug's English defaults are replaced by translated messages.
        custom = error.description if error.description != type(error).description else None
        if status == 429:
            custom = None  # the limiter's description is a rate like "5 per 5 minute"
        if wants_json():
            response = api_error(status, custom)
        else:
            response = app.make_response(_page(status, custom))
        if status == 429 and error.get_response().headers.get("Retry-After"):
            response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
        if status == 405:
            allowed = error.get_response().headers.get("Allow")
            if allowed:
                response.headers["Allow"] = allowed
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        if wants_json():
            return api_error(500)
        return _page(InternalServerError.code)
