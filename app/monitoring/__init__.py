"""Seeing a running installation: liveness and readiness checks, Prometheus metrics, and logs
that carry a request id (plain text, or JSON lines with LOG_FORMAT=json).

- hooks.py: sets it all up on the app (create_app calls register).
- blueprint.py: the blueprint alone.
- routes.py: /healthz (the process answers), /readyz (the database answers and stands at the
  migrations' head), /metrics (protected by METRICS_TOKEN and/or METRICS_ALLOWED_NETWORKS).
- metrics.py: request latency and status counts per Flask endpoint, and the gauges read from the
  database at scrape time (outbox queue, job runs, summary-table drift).
- logs.py: the request id (from X-Request-ID when sane, else new), the JSON formatter, and the
  request's log line.
- gunicorn_conf.py: gunicorn hooks for metrics with several workers (PROMETHEUS_MULTIPROC_DIR).
"""
