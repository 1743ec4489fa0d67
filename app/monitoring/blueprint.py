"""The blueprint of the health checks and metrics (no URL prefix: /healthz, /readyz, /metrics)."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__)
