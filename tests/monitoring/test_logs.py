"""The request id and JSON logs: an id for every request, taken from X-Request-ID when sane,
returned in the answer, on every log line of the request and of the sending of the messages the
request wrote."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.jobs.models import Message
from app.jobs.outbox import send_due
from app.monitoring.logs import json_handler

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines(app):
    """Log lines as JSON objects, as LOG_FORMAT=json writes them (read with lines())."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    saved_level, saved_format = root.level, app.config["LOG_FORMAT"]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    app.config["LOG_FORMAT"] = "json"

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    app.config["LOG_FORMAT"] = saved_format
    root.removeHandler(handler)
    root.setLevel(saved_level)


def test_a_sane_request_id_is_kept_and_returned(client):
    for given in ("abc-123", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "req.1:2_3"):
        response = client.get("/healthz", headers={"X-Request-ID": given})
        assert response.headers["X-Request-ID"] == given


def test_a_missing_or_odd_request_id_is_replaced(client):
    assert GENERATED.fullmatch(client.get("/healthz").headers["X-Request-ID"])
    for odd in ("x" * 65, "has space", "-leading-dash", "semi;colon", "<script>", "ümlaut", ""):
        response = client.get("/healthz", headers={"X-Request-ID": odd})
        assert GENERATED.fullmatch(response.headers["X-Request-ID"]), odd
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert first != second


def test_json_lines_carry_the_request_id_and_the_request(client, make_user, login_as, json_lines):
    person = make_user()
    login_as(person)
    response = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 200
    client.get("/", headers={"X-Request-ID": "trace-43"})
    lines = json_lines()
    assert lines, "no log line written"
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    [health] = [line for line in lines if line["request_id"] == "trace-42"]
    assert health["logger"] == "app.requests"
    assert health["method"] == "GET" and health["path"] == "/healthz"
    assert health["endpoint"] == "monitoring.healthz" and health["status"] == 200
    assert health["duration_ms"] >= 0
    assert health["time"].endswith("Z")
    [home] = [line for line in lines if line["request_id"] == "trace-43" and line["logger"] == "app.requests"]
    assert home["user_id"] == person.id
    assert person.username not in json.dumps(lines)


def test_the_route_is_logged_not_the_address(client, json_lines):
    client.get("/verify/SECRETCODE123?utm=x", headers={"X-Request-ID": "trace-44"})
    [line] = [line for line in json_lines() if line["request_id"] == "trace-44" and line["logger"] == "app.requests"]
    assert line["path"] == "/verify/<code>"
    assert "SECRETCODE123" not in json.dumps(line)


def test_the_messages_a_request_wrote_are_sent_under_its_id(app, client, db, make_user, json_lines):
    person = make_user(email="reader@example.org")
    db.session.commit()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    try:
        response = client.post(
            "/api/v1/auth/recovery", json={"login": person.username}, headers={"X-Request-ID": "trace-45"}
        )
        assert response.status_code == 202
        message = db.session.scalar(select(Message).where(Message.user_id == person.id))
        assert message.request_id == "trace-45"
        # Sending it (by the scheduler, later): its lines carry the request's id. The mail server
        # does not answer, so the message is kept for a later try and the warning says so.
        app.config["MAIL_SERVER"] = "127.0.0.1"
        app.config["MAIL_PORT"] = 1
        send_due()
    finally:
        app.config.update(saved)
    sending = [line for line in json_lines() if line["logger"] == "app.jobs.outbox"]
    assert sending and all(line["request_id"] == "trace-45" for line in sending)


def test_log_format_json_puts_one_json_handler_on_the_root_logger(database_url):
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        for _ in range(2):
            create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_FORMAT": "json"})
        added = [handler for handler in root.handlers if handler not in before]
        assert len(added) == 1 and getattr(added[0], "kns_json", False)
    finally:
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
