"""gunicorn hooks for /metrics with several workers, used as
`gunicorn -c python:app.monitoring.gunicorn_conf ...` with PROMETHEUS_MULTIPROC_DIR set to a
directory of its own: the directory is emptied when the server starts, and a worker that ends is
marked dead so its gauges leave the sums (its counts stay)."""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for path in Path(directory).glob("*.db"):
            path.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
