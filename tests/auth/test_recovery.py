"""A forgotten password: a 6-digit code by the outbox, then a new password, on the pages and the
API; the same answers for unknown accounts; the limits; the audit log; the register's handlers."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.audit.models import AuditEvent
from app.auth.models import RecoveryCode, User
from app.auth.recovery import MAX_TRIES, start_recovery
from app.db import utcnow
from app.extensions import db as _db
from app.jobs.models import Message
from app.privacy.erasure import erase_account
from app.privacy.register import Subject, load
from app.privacy.retention import apply_retention
from app.units.models import Unit
from tests.conftest import TEST_PASSWORD, csrf_token_from, in_english
from tests.jobs import conftest as jobs_fixtures

# The real SMTP server on loopback, from the jobs tests' fixtures.
mail_port, start_smtp, smtp = jobs_fixtures.mail_port, jobs_fixtures.start_smtp, jobs_fixtures.smtp

NEW_PASSWORD = "the old buffalo grazes beside the dike"
HOME = {"REMOTE_ADDR": "198.51.100.7"}
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.66"}
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def lan(make_user):
    return make_user(
        "resident", username="lan.nt", full_name="Nguyễn Thị Lan", email="lan@example.org", phone="+84912345678"
    )


def ask(client, login, address=HOME):
    """The API's first step; the answer is closed, so the code is handed to the sender."""
    response = client.post("/api/v1/auth/recovery", json={"login": login}, environ_base=address)
    response.close()
    return response


def confirm(client, login, code, password=NEW_PASSWORD, address=HOME):
    body = {"login": login, "code": code, "new_password": password}
    return client.post("/api/v1/auth/recovery/confirm", json=body, environ_base=address)


def last_code(db, user) -> str:
    """The code in the person's latest message (kept in the outbox, in-app too)."""
    message = db.session.scalars(
        select(Message).where(Message.user_id == user.id).order_by(Message.id.desc()).limit(1)
    ).one()
    return CODE.search(message.body).group(1)


def actions(db, user=None) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.action.like("%recover%")).order_by(AuditEvent.id)
    if user is not None:
        query = query.where(AuditEvent.target_user_id == user.id)
    return list(db.session.scalars(query))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- end to end -------------------------------------------------------------------------------


def test_by_e_mail_on_the_pages_ends_every_session_and_the_new_password_signs_in(app, db, client, lan, smtp, api_token):
    old_browser = app.test_client()
    assert old_browser.post("/login", data={"username": "lan.nt", "password": TEST_PASSWORD}).status_code == 302
    old_token = api_token(lan)
    assert old_browser.get("/account").status_code == 200

    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/auth/recover"' in login_page
    response = client.post("/auth/recover", data={"login": "LAN@example.org "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/recover/code")
    response.close()  # the answer went out: the code is handed to the mail server

    [mail] = smtp.to("lan@example.org")
    code = CODE.search(mail.get_content()).group(1)
    assert "10" in mail.get_content()
    stored = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == lan.id)).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64

    page = client.get("/auth/recover/code").get_data(as_text=True)
    assert "If the account exists, a 6-digit code was sent" in page
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    response = client.post(
        "/auth/recover/code",
        data={"login": "LAN@example.org", "code": code, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # signed in with a fresh session

    assert old_browser.get("/account").status_code == 302  # the old cookie is anonymous
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "lan.nt", "password": TEST_PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"username": "lan.nt", "password": NEW_PASSWORD}).status_code == 302
    assert db.session.get(RecoveryCode, stored.id).used_at is not None
    assert actions(db, lan) == ["recovery_requested", "password_recovered"]


def test_the_page_hands_over_only_the_code_and_leaves_the_queue_to_the_scheduler(client, db, lan, smtp, make_user):
    from app.jobs.outbox import enqueue

    other = make_user("cadre", lan.unit, username="other.person", email="other@example.org")
    enqueue("test:waiting", other, "recovery_code", now=utcnow(), code="000000", minutes=10)
    db.session.commit()
    response = client.post("/auth/recover", data={"login": "lan.nt"})
    assert response.status_code == 302
    response.close()
    assert len(smtp.to("lan@example.org")) == 1
    assert smtp.to("other@example.org") == []  # the scheduler's to send, not the sign-in page's
    waiting = db.session.scalars(select(Message).where(Message.key == "test:waiting")).one()
    db.session.refresh(waiting)
    assert waiting.status == "pending"


def test_the_api_doors_and_a_one_time_password_no_longer_needed(client, db, lan, smtp, api_token):
    old_token = api_token(lan)
    lan.must_change_password = True  # as after a manager's one-time password
    db.session.flush()
    response = ask(client, "0912 345 678")  # the phone, in the local format
    assert response.status_code == 202
    assert response.get_json() == {"status": "sent_if_exists"}
    code = CODE.search(smtp.to("lan@example.org")[0].get_content()).group(1)

    response = confirm(client, "+84912345678", code)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "password_changed"}
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert db.session.get(User, lan.id).must_change_password is False
    assert client.get("/api/v1/me", headers=api_token(lan, NEW_PASSWORD)).status_code == 200
    # A used code is done.
    assert confirm(client, "lan.nt", code, "another long phrase to remember").status_code == 422


def test_the_code_goes_out_in_the_persons_language_for_account_security(client, db, make_user):
    rahim = make_user("resident", username="rahim", full_name="Rahim Uddin", email="rahim@example.org", locale="bn")
    ask(client, "rahim@example.org")
    message = db.session.scalars(select(Message).where(Message.user_id == rahim.id)).one()
    assert message.purpose is None
    assert "আপনার কোড" in message.subject
    assert CODE.search(message.body)


# --- the same answers for an unknown account -------------------------------------------------


def test_an_unknown_account_gets_the_same_answers_and_no_message(app, client, db, lan, smtp, time_machine):
    known, unknown = ask(client, "lan.nt"), ask(client, "nobody.here")
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert len(smtp.messages) == 1
    assert db.session.scalar(select(Message.id).where(Message.user_id != lan.id)) is None

    pages = []
    for login in ("lan.nt", "nobody.here"):
        browser = app.test_client()
        in_english(browser)
        answer = browser.post("/auth/recover", data={"login": login})
        page = browser.get("/auth/recover/code").get_data(as_text=True)
        pages.append((answer.status_code, answer.headers["Location"], _without_token(page).replace(login, "X")))
    assert pages[0] == pages[1]

    # Typing codes answers alike too: wrong with the tries left, then no longer valid.
    code = last_code(db, lan)
    for left in (4, 3, 2, 1):
        for login, typed in (("lan.nt", wrong(code)), ("nobody.here", "123456")):
            answer = confirm(client, login, typed)
            assert answer.status_code == 422
            assert answer.get_json()["error"]["message"] == f"The code is wrong. Tries left: {left}."
    last = [confirm(client, login, "000000").get_json() for login in ("lan.nt", "nobody.here")]
    assert last[0] == last[1]
    assert "can no longer be used" in last[0]["error"]["message"]
    # Ten minutes later, both have expired.
    time_machine.move_to(utcnow() + timedelta(minutes=11), tick=True)
    later = [confirm(client, login, "000000").get_json() for login in ("lan.nt", "nobody.here")]
    assert later[0] == later[1]
    assert "expired" in later[0]["error"]["message"]
    # Never asked for: "expired" for both.
    assert confirm(client, "cadre99", "123456").get_json() == confirm(client, "no.one", "123456").get_json()
    assert [event.target_user_id for event in db.session.scalars(select(AuditEvent))][:2] == [lan.id, None]


def _without_token(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page)


# --- codes that fail --------------------------------------------------------------------------


def test_five_wrong_codes_end_the_code(client, db, lan):
    ask(client, "lan.nt")
    code = last_code(db, lan)
    messages = [confirm(client, "lan.nt", wrong(code)).get_json()["error"]["message"] for _ in range(5)]
    assert messages[:4] == [f"The code is wrong. Tries left: {n}." for n in (4, 3, 2, 1)]
    assert "can no longer be used after 5 wrong tries" in messages[4]
    answer = confirm(client, "lan.nt", code)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "code"
    assert db.session.get(User, lan.id).check_password(TEST_PASSWORD)
    assert actions(db, lan) == ["recovery_requested"] + ["recovery_failed"] * 4 + ["recovery_locked"]
    # A new code starts afresh and replaces the dead one.
    ask(client, "lan.nt")
    assert confirm(client, "lan.nt", last_code(db, lan)).status_code == 200


def test_an_expired_code_says_so_and_a_new_one_replaces_the_old(client, db, lan, time_machine):
    ask(client, "lan.nt")
    first = last_code(db, lan)
    time_machine.move_to(utcnow() + timedelta(minutes=11), tick=True)
    answer = confirm(client, "lan.nt", first)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["message"] == "The code has expired or was already used. Ask for a new one."

    ask(client, "lan.nt")
    second = last_code(db, lan)
    ask(client, "lan.nt")
    third = last_code(db, lan)
    if second != third:  # one in a million they are the same
        assert confirm(client, "lan.nt", second).status_code == 422
    assert confirm(client, "lan.nt", third).status_code == 200


def test_a_code_of_one_account_does_not_work_for_another(client, db, lan, make_user):
    minh = make_user("cadre", username="minh.tv", full_name="Trần Văn Minh", email="minh@example.org")
    ask(client, "lan.nt")
    ask(client, "minh.tv")
    lan_code, minh_code = last_code(db, lan), last_code(db, minh)
    if lan_code != minh_code:
        assert confirm(client, "minh.tv", lan_code).status_code == 422
    assert db.session.get(User, minh.id).check_password(TEST_PASSWORD)
    assert confirm(client, "lan.nt", lan_code).status_code == 200


def test_a_weak_new_password_is_refused_without_using_a_try(client, db, lan):
    ask(client, "lan.nt")
    code = last_code(db, lan)
    answer = confirm(client, "lan.nt", code, "matkhau123")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "new_password"
    assert db.session.scalars(select(RecoveryCode)).one().tries == 0
    assert confirm(client, "lan.nt", code).status_code == 200


def test_the_page_shows_a_wrong_code_on_its_field(client, db, lan):
    client.post("/auth/recover", data={"login": "lan.nt"})
    code = last_code(db, lan)
    response = client.post(
        "/auth/recover/code",
        data={"login": "lan.nt", "code": wrong(code), "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "The code is wrong. Tries left: 4." in response.get_data(as_text=True)


# --- limits ---------------------------------------------------------------------------------------


def test_three_codes_an_hour_per_account_then_the_same_answer_and_no_code(client, db, lan, smtp):
    for n, address in enumerate(["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"]):
        response = ask(client, "lan.nt", {"REMOTE_ADDR": address})
        assert (response.status_code, response.get_json()) == (202, {"status": "sent_if_exists"}), n
    assert len(smtp.to("lan@example.org")) == 3
    assert db.session.query(RecoveryCode).count() == 3
    assert actions(db, lan).count("recovery_throttled") == 1


def test_ten_requests_an_hour_per_address_then_the_same_answer_and_no_code(client, db, lan):
    for n in range(10):
        assert ask(client, f"someone{n}").status_code == 202
    response = ask(client, "lan.nt")
    assert (response.status_code, response.get_json()) == (202, {"status": "sent_if_exists"})
    assert db.session.query(Message).count() == 0
    assert ask(client, "lan.nt", ELSEWHERE).status_code == 202
    assert db.session.query(Message).count() == 1


def test_codes_typed_from_one_address_are_limited(app, client, db, lan, monkeypatch):
    monkeypatch.setitem(app.config, "RECOVERY_TRIES_PER_ADDRESS", "3 per hour")
    ask(client, "lan.nt")
    code = last_code(db, lan)
    for _ in range(3):
        assert confirm(client, "lan.nt", wrong(code)).status_code == 422
    refused = confirm(client, "lan.nt", code)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert (
        client.post(
            "/auth/recover/code",
            data={"login": "lan.nt", "code": code, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            environ_base=HOME,
        ).status_code
        == 429
    )
    assert "recovery_throttled" in actions(db)
    assert confirm(client, "lan.nt", code, address=ELSEWHERE).status_code == 200


# --- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"login": 12},
        {"login": None},
        {"login": ["lan.nt"]},
        {"login": ""},
        {"login": "x" * 5000},
        {"login": "lan\x00.nt"},
        {},
    ],
)
def test_the_first_step_refuses_what_is_not_a_login(client, db, lan, body):
    response = client.post("/api/v1/auth/recovery", json=body)
    assert response.status_code == 422, response.get_json()
    assert db.session.query(Message).count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"code": 123456},
        {"code": "12345"},
        {"code": "12345a"},
        {"code": "１２３４５６"},
        {"code": "1" * 100_000},
        {"new_password": None},
        {"new_password": "x" * 10_000},
        {"login": {"a": 1}},
        {"code": "12\x0034"},
    ],
)
def test_the_second_step_refuses_bad_values_with_422(client, db, lan, change):
    ask(client, "lan.nt")
    body = {"login": "lan.nt", "code": last_code(db, lan), "new_password": NEW_PASSWORD, **change}
    response = client.post("/api/v1/auth/recovery/confirm", json=body)
    assert response.status_code == 422, response.get_json()
    assert db.session.get(User, lan.id).check_password(TEST_PASSWORD)


def test_the_pages_refuse_bad_values_with_400(client, db, lan):
    assert client.post("/auth/recover", data={"login": ""}).status_code == 400
    assert client.post("/auth/recover", data={"login": "x" * 5000}).status_code == 400
    assert client.post("/auth/recover", data={"login": "lan\x00"}).status_code == 400
    assert client.post("/api/v1/auth/recovery", data="[]", content_type="application/json").status_code == 400
    data = {"login": "lan.nt", "code": "abc", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post("/auth/recover/code", data=data).status_code == 400
    data = {"login": "lan.nt", "code": "123456", "new_password": NEW_PASSWORD, "confirm": "other words"}
    assert client.post("/auth/recover/code", data=data).status_code == 400
    # Without the first step, the second sends the person back to it.
    assert client.get("/auth/recover/code").headers["Location"].endswith("/auth/recover")
    assert db.session.query(Message).count() == 0


def test_the_forms_carry_a_csrf_token_and_refuse_without_it(client, csrf_enabled, lan):
    page = client.get("/auth/recover").get_data(as_text=True)
    token = csrf_token_from(page)
    assert client.post("/auth/recover", data={"login": "lan.nt"}).status_code == 400
    assert client.post("/auth/recover", data={"login": "lan.nt", "csrf_token": token}).status_code == 302
    page = client.get("/auth/recover/code").get_data(as_text=True)
    assert csrf_token_from(page)
    data = {"login": "lan.nt", "code": "123456", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post("/auth/recover/code", data=data).status_code == 400


# --- personal data ---------------------------------------------------------------------------


def test_codes_are_exported_erased_and_kept_one_day(client, db, lan, make_user, units):
    ask(client, "lan.nt")
    load()
    from app.auth.privacy import export_recovery_codes

    [row] = export_recovery_codes(Subject(lan.id))
    assert row["wrong_tries"] == 0
    assert "code_hash" not in row

    report = apply_retention(utcnow() + timedelta(hours=23))
    assert db.session.query(RecoveryCode).count() == 1
    report = apply_retention(utcnow() + timedelta(days=1, minutes=1))
    assert any(item["key"] == "recovery_code" and item["count"] == 1 for item in report.items)
    assert db.session.query(RecoveryCode).count() == 0

    ask(client, "lan.nt", ELSEWHERE)
    admin = make_user("admin", units["province"])
    report = erase_account(admin, lan, "The person asked for it.")
    assert any(item["table"] == "recovery_codes" for item in report.erased)
    assert db.session.query(RecoveryCode).count() == 0


# --- tries at the same time -------------------------------------------------------------------


@pytest.fixture
def served(empty_database_url, monkeypatch):
    """The app served by a threaded server on its own database, with `lan.nt` and an open code
    whose value is known: (address of the server, the app, the code)."""
    monkeypatch.setenv("APP_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "WTF_CSRF_ENABLED": False, "SEED_DEMO": False})
    with app.app_context(), app.test_request_context():
        _db.create_all()
        unit = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        user = User(username="lan.nt", full_name="Nguyễn Thị Lan", role="cadre", unit=unit)
        user.set_password(TEST_PASSWORD)
        _db.session.add_all([unit, user])
        _db.session.flush()
        start_recovery("lan.nt", "192.0.2.1", utcnow())
        _db.session.commit()
        code = CODE.search(_db.session.scalars(select(Message.body)).one()).group(1)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app, code
    http.shutdown()
    thread.join()
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _confirm_over_http(url: str, code: str) -> tuple[int, dict]:
    body = json.dumps({"login": "lan.nt", "code": code, "new_password": NEW_PASSWORD}).encode()
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    request = urllib.request.Request(f"{url}/api/v1/auth/recovery/confirm", data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_wrong_codes_sent_at_once_use_exactly_the_five_tries(served):
    url, app, code = served
    answers: list[tuple[int, dict]] = []
    start = threading.Barrier(10)

    def send():
        start.wait()
        answers.append(_confirm_over_http(url, wrong(code)))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {422}, answers  # SQLite: never "database is locked"
    messages = sorted(answer["error"]["message"] for _, answer in answers)
    assert sum("Tries left" in message for message in messages) == 4, messages
    with app.app_context():
        assert _db.session.scalars(select(RecoveryCode.tries)).one() == MAX_TRIES
    assert _confirm_over_http(url, code)[0] == 422  # the code is dead
