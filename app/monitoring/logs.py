"""Logs and the request id.

Every request has an id: the caller's X-Request-ID when it looks like one (1 to 64 letters,
digits, `.`, `_`, `:` or `-`; a proxy such as nginx sends `$request_id`), else a new random one.
It is returned in the response's X-Request-ID header, written on every log line of the request,
and kept on the outbox messages the request wrote, so the lines of their sending (by the
scheduler, later, maybe on another machine) carry it too. A scheduled job's lines carry an id of
their run (`job-<name>-<random>`).

LOG_FORMAT=json writes one JSON object per line to standard error: time (UTC, ISO 8601), level,
logger, message and request_id, and for the line that ends a request: method, path (the route,
e.g. /visits/<int:visit_id>, never the query string nor a secret in the address such as a
calendar feed's token), endpoint, status, duration_ms and user_id (the account's id, never its
name). The default, plain text, leaves logging as it was.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
#: The id outside a request: a job's run, or the request that wrote the message being sent.
_context_id: ContextVar[str | None] = ContextVar("request_id", default=None)
#: Extra fields a log record may carry into the JSON line.
EXTRA_FIELDS = ("method", "path", "endpoint", "status", "duration_ms", "user_id", "message_id", "job")

request_log = logging.getLogger("app.requests")


def new_request_id() -> str:
    return secrets.token_hex(16)


def sane_request_id(value: str | None) -> str | None:
    """`value` when it may serve as a request id, else None."""
    return value if value and _SANE_ID.fullmatch(value) else None


def current_request_id() -> str | None:
    """The id of the request being answered (made on first use), else of the job or message
    being worked on, else None."""
    if has_request_context():
        value = g.get("request_id")
        if value is None:
            value = g.request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        return value
    return _context_id.get()


@contextmanager
def request_id_context(value: str | None) -> Iterator[None]:
    """Log lines written inside carry `value` as their request id (outside a request)."""
    token = _context_id.set(value)
    try:
        yield
    finally:
        _context_id.reset(token)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    """A scheduled job's run: its log lines share an id of their own."""
    with request_id_context(f"job-{job_id}-{secrets.token_hex(6)}"[:64]):
        yield


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.kns_json = True
    return handler


def configure(app: Flask) -> None:
    """JSON lines on the root logger when LOG_FORMAT=json (replacing an earlier app's), else
    plain text at INFO outside the tests."""
    if app.config["LOG_FORMAT"] != "json":
        if not app.config["TESTING"]:
            logging.basicConfig(level=logging.INFO)
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "kns_json", False):
            root.removeHandler(handler)
    root.addHandler(json_handler())
    root.setLevel(logging.INFO)
    # Flask's own handler would write the app's lines a second time, as plain text.
    app.logger.removeHandler(default_handler)


def finish_request(response, seconds: float) -> None:
    """Return the request id in the response, and (JSON logs) write the request's line."""
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    if not request_log.isEnabledFor(logging.INFO) or not _json_logging():
        return
    user = g.get("_login_user")  # set by Flask-Login when the request looked at the person
    rule = request.url_rule
    path = rule.rule if rule is not None else request.path[:200]
    request_log.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "method": request.method[:10],
            "path": path,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": user.id if getattr(user, "is_authenticated", False) else None,
        },
    )


def _json_logging() -> bool:
    from flask import current_app

    return current_app.config["LOG_FORMAT"] == "json"
