"""The cluster of bench/cluster.py as a fixture: two gunicorn nodes behind Debian's nginx with
the shipped site, the scheduler, a fresh PostgreSQL database and Redis, started once for the
tests of this folder and stopped (every process, the database, the Redis keys) after them.

The tests run in the PostgreSQL pass (TEST_DATABASE_URL), on that server; elsewhere they are
skipped with the reason.
"""

from __future__ import annotations

import os
import shutil

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from bench.cluster import NGINX, Cluster, free_port
from config import load_config
from tests.conftest import is_postgresql
from tests.jobs.conftest import Mailbox

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.parent.name == "cluster":
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def mailbox():
    """An SMTP server on loopback for the scheduler's outbox sender."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture(scope="session")
def cluster(request):
    if not is_postgresql():
        pytest.skip("the cluster runs on PostgreSQL: set TEST_DATABASE_URL (the CI's second pass does)")
    if not shutil.which(NGINX):
        pytest.skip("Debian's nginx is not installed (apt-get install nginx; .ci/run does)")
    try:
        with redis.Redis.from_url(REDIS_URL) as client:
            client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); start redis-server or set TEST_REDIS_URL")
    _box, mail_port = request.getfixturevalue("mailbox")
    admin_url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="postgres").render_as_string(False)
    with Cluster(admin_url, REDIS_URL, workers=1, lock_retry_seconds=1.0, mail_port=mail_port) as running:
        yield running
    assert running.leftovers() == [], "processes of the cluster outlived it"


@pytest.fixture(scope="session")
def cluster_app(cluster):
    """The app in this process with the cluster's settings and database: one more machine
    sharing them, for work done on a machine rather than through a page (a course sync)."""
    settings = load_config(cluster.environment(), argv=["gunicorn"])
    app = create_app({**settings, "TESTING": True})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
