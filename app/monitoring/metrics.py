"""Prometheus metrics.

Counted in each process as requests are answered (labelled by the Flask endpoint, never the
address, so the number of series stays bounded):

- kns_http_request_duration_seconds{endpoint}: a histogram of the time to answer;
- kns_http_requests_total{endpoint, method, status}.

Read from the database at scrape time (the same on every node):

- kns_database_up: 1 when the database answered the scrape's queries;
- kns_outbox_queue_depth, kns_outbox_oldest_waiting_seconds: messages waiting to be sent and the
  age of the oldest; kns_outbox_sending: claimed and not yet marked sent (old ones are stuck);
- kns_job_runs_total{job}, kns_job_failures_total{job}, kns_job_last_success_timestamp_seconds{job}:
  written by the scheduler for every run (app.jobs.scheduler.run_job);
- kns_summary_drift_rows{table}, kns_summary_checked_timestamp_seconds: the last comparison of
  the summary tables with a recount (nightly job summary_check, `flask reports check`).

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty directory, before the
server starts) and start gunicorn with `-c python:app.monitoring.gunicorn_conf`: every worker's
counts are then added up whichever worker answers the scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import utcnow
from app.extensions import db
from app.jobs.models import JobRun, Message
from app.reports.models import SummaryCheck

#: Where StampArrival keeps the moment a request arrived.
STARTED_KEY = "kns.started"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Seconds: from a cached lesson page (a few ms) to a large export.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "kns_http_request_duration_seconds", "Time to answer a request, by Flask endpoint.", ["endpoint"], buckets=_BUCKETS
)
REQUESTS = Counter(
    "kns_http_requests", "Requests answered, by Flask endpoint, method and status.", ["endpoint", "method", "status"]
)


class StampArrival:
    """WSGI wrapper noting when a request arrived, before any request hook runs (so a request
    the input guard refuses is timed too)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ[STARTED_KEY] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def request_started() -> float | None:
    return request.environ.get(STARTED_KEY)


def observe_request(status: int, seconds: float) -> None:
    # No rule matched (404, 405): one label for all, whatever address was asked for.
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in _METHODS else "other"
    REQUEST_SECONDS.labels(endpoint).observe(seconds)
    REQUESTS.labels(endpoint, method, str(status)).inc()


def refusal(config, headers, remote_addr: str | None) -> int | None:
    """None when the caller may read the metrics, else the status to answer: 404 when metrics
    are not enabled (no token, no network) or the address is outside the allowed networks, 401
    when the bearer token is missing or wrong."""
    token = config["METRICS_TOKEN"]
    networks = config["METRICS_ALLOWED_NETWORKS"]
    if not token and not networks:
        return 404
    if networks:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return 404
        if not any(address in ipaddress.ip_network(network) for network in networks):
            return 404
    if token:
        scheme, _, given = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return 401
    return None


class _ThisProcess:
    """The default registry's metrics (this process's counts when not in multiprocess mode)."""

    def collect(self):
        yield from REGISTRY.collect()


class _FromDatabase:
    """Gauges and counters read from the database at scrape time."""

    def collect(self):
        up = GaugeMetricFamily("kns_database_up", "1 when the database answered the scrape's queries.")
        try:
            families = list(_database_families())
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _database_families():
    now = utcnow()
    depth, oldest = db.session.execute(
        select(func.count(Message.id), func.min(Message.created_at)).where(Message.status == "pending")
    ).one()
    sending = db.session.scalar(select(func.count(Message.id)).where(Message.status == "sending"))
    yield GaugeMetricFamily("kns_outbox_queue_depth", "Messages waiting to be sent (pending).", value=depth)
    yield GaugeMetricFamily(
        "kns_outbox_oldest_waiting_seconds",
        "Age of the oldest message waiting to be sent (0 when none waits).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
    )
    yield GaugeMetricFamily(
        "kns_outbox_sending",
        "Messages claimed by a sender and not marked sent yet (old ones are stuck).",
        value=sending,
    )

    runs = CounterMetricFamily("kns_job_runs", "Runs of each scheduled job.", labels=["job"])
    failures = CounterMetricFamily("kns_job_failures", "Failed runs of each scheduled job.", labels=["job"])
    last_success = GaugeMetricFamily(
        "kns_job_last_success_timestamp_seconds", "When each job last ran without error (Unix time).", labels=["job"]
    )
    for row in db.session.scalars(select(JobRun).order_by(JobRun.job)):
        runs.add_metric([row.job], row.runs)
        failures.add_metric([row.job], row.failures)
        if row.last_success_at is not None:
            last_success.add_metric([row.job], row.last_success_at.timestamp())
    yield from (runs, failures, last_success)

    drift = GaugeMetricFamily(
        "kns_summary_drift_rows", "Rows of each summary table that differ from a recount.", labels=["table"]
    )
    checked = None
    for row in db.session.scalars(select(SummaryCheck).order_by(SummaryCheck.table_name)):
        drift.add_metric([row.table_name], row.differing_rows)
        checked = max(checked or row.checked_at, row.checked_at)
    yield drift
    if checked is not None:
        yield GaugeMetricFamily(
            "kns_summary_checked_timestamp_seconds",
            "When the summary tables were last compared.",
            value=checked.timestamp(),
        )
    db.session.commit()


def exposition() -> bytes:
    """The metrics in Prometheus's text format: the request counts (of every worker in
    multiprocess mode, else of this process) and the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_FromDatabase())
    return generate_latest(registry)
