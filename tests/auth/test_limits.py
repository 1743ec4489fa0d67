"""Sign-in limits that hold: one failure counter per account for every door that checks a
password, atomic under parallel requests, and never a lock-out of the owner from elsewhere."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db
from app.jobs.models import Message
from app.units.models import Unit
from tests.conftest import TEST_PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}
NEW = "a new long phrase"


def sign_in(client, user, password, address=None):
    data = {"username": user.username, "password": password}
    return client.post("/login", data=data, environ_base=address or {})


def token(client, user, password, address=None):
    data = {"username": user.username, "password": password}
    return client.post("/api/v1/auth/token", json=data, environ_base=address or {})


# --- a real server, for requests that really run at the same time ---------------------------


@pytest.fixture
def server(empty_database_url, monkeypatch):
    """The app served by a threaded server on its own database, with one account `lan.nt`."""
    monkeypatch.setenv("APP_ENV", "testing")
    served = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "WTF_CSRF_ENABLED": False, "SEED_DEMO": False})
    with served.app_context():
        db.create_all()
        unit = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        user = User(username="lan.nt", full_name="Nguyễn Thị Lan", role="cadre", unit=unit)
        user.set_password(TEST_PASSWORD)
        db.session.add_all([unit, user])
        db.session.commit()
    http = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    with served.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _post(url: str, body: bytes, content_type: str) -> int:
    headers = {"Content-Type": content_type}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (our own server)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _in_parallel(count: int, send) -> list[int]:
    start = threading.Barrier(count)
    statuses: list[int] = []

    def attempt():
        start.wait()
        statuses.append(send())

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_parallel_wrong_passwords_to_the_token_endpoint_are_limited(server):
    body = json.dumps({"username": "lan.nt", "password": "wrong password"}).encode()
    statuses = _in_parallel(12, lambda: _post(f"{server}/api/v1/auth/token", body, "application/json"))
    assert 500 not in statuses, statuses  # SQLite: never "database is locked"
    assert statuses.count(401) <= 5 and statuses.count(429) >= 7, statuses


def test_parallel_wrong_passwords_on_the_sign_in_page_are_limited(server):
    body = urllib.parse.urlencode({"username": "lan.nt", "password": "wrong password"}).encode()
    statuses = _in_parallel(12, lambda: _post(f"{server}/login", body, "application/x-www-form-urlencoded"))
    assert 500 not in statuses, statuses
    assert statuses.count(200) <= 5 and statuses.count(429) >= 7, statuses


# --- one counter per account --------------------------------------------------------------


def test_the_sign_in_page_the_api_and_the_password_change_share_one_counter(app, client, make_user, login_as):
    user = make_user("cadre")
    login_as(user)
    for _ in range(2):
        wrong = {"current_password": "not my password", "new_password": NEW, "confirm": NEW}
        assert client.post("/account/password", data=wrong).status_code == 400
    for _ in range(2):
        assert token(client, user, "not my password").status_code == 401
    assert sign_in(app.test_client(), user, "not my password").status_code == 200
    # Five failures through three doors: the account is locked for this address, at every door.
    assert token(client, user, TEST_PASSWORD).status_code == 429
    assert sign_in(app.test_client(), user, TEST_PASSWORD).status_code == 429


def test_the_current_password_cannot_be_guessed_without_limit(client, make_user, login_as):
    user = make_user("cadre")
    login_as(user)
    for n in range(5):
        guess = {"current_password": f"guess number {n}", "new_password": NEW, "confirm": NEW}
        assert client.post("/account/password", data=guess).status_code == 400
    right = {"current_password": TEST_PASSWORD, "new_password": NEW, "confirm": NEW}
    response = client.post("/account/password", data=right)
    assert response.status_code == 429
    assert db.session.get(User, user.id).check_password(TEST_PASSWORD)


def test_a_right_current_password_with_a_weak_new_one_is_not_a_failure(client, make_user, login_as):
    user = make_user("cadre")
    login_as(user)
    for _ in range(8):
        weak = {"current_password": TEST_PASSWORD, "new_password": "aaaaaaaa", "confirm": "aaaaaaaa"}
        assert client.post("/account/password", data=weak).status_code == 400
    good = {"current_password": TEST_PASSWORD, "new_password": NEW, "confirm": NEW}
    assert client.post("/account/password", data=good).status_code == 302


# --- per account and address --------------------------------------------------------------


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(app, make_user):
    user = make_user("cadre")
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(5):
        assert sign_in(attacker, user, "guess guess", ATTACKER).status_code == 200
    assert sign_in(attacker, user, TEST_PASSWORD, ATTACKER).status_code == 429
    assert token(attacker, user, TEST_PASSWORD, ATTACKER).status_code == 429
    assert sign_in(owner, user, TEST_PASSWORD, OWNER).status_code == 302
    assert token(owner, user, TEST_PASSWORD, OWNER).status_code == 200


def test_an_attacked_account_is_audited_and_its_owner_told_once(app, make_user):
    app.config["LOGIN_ATTACK_PER_ACCOUNT"] = "6 per hour"
    try:
        user = make_user("cadre")
        visitor = app.test_client()
        addresses = [{"REMOTE_ADDR": f"203.0.113.{n}"} for n in range(1, 6)]
        for address in addresses[:3]:
            for _ in range(2):
                assert sign_in(visitor, user, "guess guess", address).status_code == 200
        alerts = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "sign_in_attack")).all()
        assert [(event.target_user_id, event.username) for event in alerts] == [(user.id, user.username)]
        notices = db.session.scalars(db.select(Message).where(Message.user_id == user.id)).all()
        assert len(notices) == 1 and notices[0].link == "/account/password"
        assert user.username in notices[0].body and user.full_name in notices[0].body
        # While the account is attacked, an address that already failed gets no more tries, even
        # with the right password; a new address still gets its own first try.
        assert sign_in(visitor, user, TEST_PASSWORD, addresses[0]).status_code == 429
        assert token(visitor, user, "guess guess", addresses[3]).status_code == 401
        assert token(visitor, user, "guess guess", addresses[3]).status_code == 429
        assert sign_in(visitor, user, "guess guess", addresses[4]).status_code == 200
        # Once per window, not once per attempt.
        assert db.session.scalar(db.select(db.func.count()).where(AuditEvent.action == "sign_in_attack")) == 1
        assert db.session.scalar(db.select(db.func.count()).where(Message.user_id == user.id)) == 1
        assert sign_in(app.test_client(), user, TEST_PASSWORD, OWNER).status_code == 302
    finally:
        app.config["LOGIN_ATTACK_PER_ACCOUNT"] = "20 per hour"


def test_throttled_attempts_are_audited_once_per_window(app, make_user):
    user = make_user("cadre")
    visitor = app.test_client()
    for _ in range(5):
        sign_in(visitor, user, "guess guess", ATTACKER)
    for _ in range(4):
        assert sign_in(visitor, user, "guess guess", ATTACKER).status_code == 429
    throttled = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "login_throttled")).all()
    assert [event.username for event in throttled] == [user.username]
