"""With Redis as the limiter's storage, the sign-in limit holds across workers (two app
instances stand in for two gunicorn workers)."""

import os
import uuid

import pytest
import redis

from app import create_app
from app.extensions import db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); start redis-server or set TEST_REDIS_URL")
    prefix = f"kns-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_failed_sign_ins_are_counted_across_workers(tmp_path, redis_prefix, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    # The workers share their own small database, apart from the per-test transaction.
    shared_database = f"sqlite:///{tmp_path / 'workers.db'}"
    workers = [
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": shared_database,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_STORAGE_URI": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": redis_prefix,
                "LOGIN_LIMIT_PER_ACCOUNT": "4 per minute",
            }
        )
        for _ in range(2)
    ]
    with workers[0].app_context():
        db.create_all()
    statuses = []
    for attempt in range(6):
        worker = workers[attempt % 2].test_client()
        response = worker.post("/login", data={"username": "lan.nt", "password": "wrong password"})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
