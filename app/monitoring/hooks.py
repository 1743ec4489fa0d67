"""Monitoring set up on the app: logging, the request id, request metrics and the routes."""

from __future__ import annotations

import time

from flask import Flask

from app.monitoring import (
    logs,
    metrics,
    routes,  # noqa: F401 (registers the views on the blueprint)
)
from app.monitoring.blueprint import bp


def register(app: Flask) -> None:
    logs.configure(app)
    app.wsgi_app = metrics.StampArrival(app.wsgi_app)

    @app.after_request
    def observe(response):
        started = metrics.request_started()
        seconds = time.perf_counter() - started if started is not None else 0.0
        metrics.observe_request(response.status_code, seconds)
        logs.finish_request(response, seconds)
        return response

    app.register_blueprint(bp)
