"""/metrics: hidden unless configured, refused without the token or outside the networks, and
its figures move with the requests and follow the database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.reports.models import PeopleStat

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_settings(app):
    saved = {key: app.config[key] for key in ("METRICS_TOKEN", "METRICS_ALLOWED_NETWORKS")}
    yield app.config
    app.config.update(saved)


@pytest.fixture
def scrape(client, metrics_settings):
    metrics_settings["METRICS_TOKEN"] = TOKEN

    def read() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain")
        return response.get_data(as_text=True)

    return read


def value(text: str, name: str, **labels) -> float | None:
    """The sample `name{labels}` of an exposition, None when absent."""
    wanted = ",".join(f'{key}="{label}"' for key, label in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_metrics_are_hidden_until_a_token_or_a_network_is_set(client, metrics_settings):
    metrics_settings["METRICS_TOKEN"] = ""
    metrics_settings["METRICS_ALLOWED_NETWORKS"] = ()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_the_token_is_required_when_set(client, metrics_settings):
    metrics_settings["METRICS_TOKEN"] = TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"kns_" not in response.data
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_the_network_list_admits_only_its_addresses(client, metrics_settings):
    metrics_settings["METRICS_TOKEN"] = ""
    metrics_settings["METRICS_ALLOWED_NETWORKS"] = ("10.0.0.0/8",)
    assert client.get("/metrics").status_code == 404  # the test client comes from 127.0.0.1
    metrics_settings["METRICS_ALLOWED_NETWORKS"] = ("10.0.0.0/8", "127.0.0.0/8")
    assert client.get("/metrics").status_code == 200
    # Both set: the address must be allowed and the token given.
    metrics_settings["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_request_counts_and_latency_move_by_endpoint(client, scrape):
    before = scrape()
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert client.get("/no-such-page/12345").status_code == 404
    after = scrape()

    def moved(name: str, **labels) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert moved("kns_http_requests_total", endpoint="auth.login", method="GET", status="200") == 3
    assert moved("kns_http_request_duration_seconds_count", endpoint="auth.login") == 3
    assert value(after, "kns_http_request_duration_seconds_bucket", endpoint="auth.login", le="10.0") is not None
    # An unknown address is counted under one label, never under its path.
    assert value(after, "kns_http_requests_total", endpoint="unmatched", method="GET", status="404") >= 1
    assert "no-such-page" not in after


def test_the_outbox_gauges_follow_the_messages(db, make_user, scrape):
    person = make_user(email="person@example.org")
    assert value(scrape(), "kns_outbox_queue_depth") == 0
    assert value(scrape(), "kns_outbox_oldest_waiting_seconds") == 0
    now = utcnow()
    for n, (status, age) in enumerate([("pending", 600), ("pending", 60), ("sending", 30), ("sent", 900)]):
        db.session.add(
            Message(
                key=f"metrics:{n}",
                user_id=person.id,
                subject="s",
                body="b",
                status=status,
                created_at=now - timedelta(seconds=age),
                next_attempt_at=now,
            )
        )
    db.session.commit()
    text = scrape()
    assert value(text, "kns_outbox_queue_depth") == 2
    assert value(text, "kns_outbox_sending") == 1
    assert 600 <= value(text, "kns_outbox_oldest_waiting_seconds") < 700
    assert value(text, "kns_database_up") == 1


def test_job_runs_and_summary_drift_are_reported(app, db, units, scrape):
    assert value(scrape(), "kns_job_runs_total", job="summary_check") is None
    run_job(app, "summary_check")
    text = scrape()
    assert value(text, "kns_job_runs_total", job="summary_check") == 1
    assert value(text, "kns_job_failures_total", job="summary_check") == 0
    assert value(text, "kns_job_last_success_timestamp_seconds", job="summary_check") > 0
    assert value(text, "kns_summary_drift_rows", table="people_stats") == 0
    assert value(text, "kns_summary_checked_timestamp_seconds") > 0

    # A count the hooks did not make: the next check finds the row that differs.
    db.session.add(PeopleStat(unit_id=units["c1"].id, role="cadre", accounts=7))
    db.session.commit()
    run_job(app, "summary_check")
    text = scrape()
    assert value(text, "kns_job_runs_total", job="summary_check") == 2
    assert value(text, "kns_summary_drift_rows", table="people_stats") == 1
    assert value(text, "kns_summary_drift_rows", table="learning_stats") == 0
