import re

from app.audit.models import AuditEvent
from app.extensions import db
from tests.conftest import TEST_PASSWORD, csrf_token_from


def test_sign_in_page_is_served_without_an_account(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="username"' in response.get_data(as_text=True)


def test_pages_need_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_correct_password_signs_in_and_records_it(client, make_user):
    user = make_user("cadre")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert user.full_name in client.get("/").get_data(as_text=True)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "login")).target_user_id == user.id


def test_username_is_not_case_sensitive(client, make_user):
    make_user("cadre", username="lan.nt")
    response = client.post("/login", data={"username": "  LAN.NT ", "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(client, make_user):
    user = make_user("cadre")
    wrong_password = client.post("/login", data={"username": user.username, "password": "nope-nope"})
    unknown_user = client.post("/login", data={"username": "nobody", "password": "nope-nope"})
    assert wrong_password.status_code == unknown_user.status_code == 200

    def message(response):
        html = response.get_data(as_text=True)
        # The form echoes the typed username and carries a fresh CSRF token; everything else
        # must be identical.
        html = re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]+"', "", html)
        return html.replace(user.username, "X").replace("nobody", "X")

    assert message(wrong_password) == message(unknown_user)
    assert "The username or password is not correct." in wrong_password.get_data(as_text=True)
    failures = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert {event.username for event in failures} == {user.username, "nobody"}


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("cadre", active=False)
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "The username or password is not correct." in response.get_data(as_text=True)


def test_empty_form_is_refused_with_a_message(client):
    response = client.post("/login", data={})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your username." in html
    assert "Enter your password." in html


def test_next_redirect_stays_on_the_site(client, make_user):
    user = make_user("cadre")
    for target, expected in [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        client.post("/logout")
        response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD, "next": target})
        assert response.headers["Location"] == expected, target


def test_sign_out_ends_the_session_and_an_old_cookie_is_anonymous(app, make_user):
    user = make_user("cadre")
    first_device = app.test_client()
    second_device = app.test_client()
    for device in (first_device, second_device):
        device.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert device.get("/").status_code == 200
    stolen_cookie = first_device.get_cookie("session").value

    first_device.post("/logout")
    assert first_device.get("/").status_code == 302
    # The other device's session ended too.
    assert second_device.get("/").status_code == 302
    # Replaying the cookie from before sign-out gives an anonymous visitor.
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie, domain="localhost")
    assert replay.get("/").status_code == 302


def test_sign_in_is_throttled_per_account(app, client, make_user):
    user = make_user("cadre")
    for _ in range(5):
        response = client.post("/login", data={"username": user.username, "password": "wrong-one"})
        assert response.status_code == 200
    blocked = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "login_throttled"))
    # Another account from the same address is not blocked by this one's failures.
    other = make_user("cadre")
    assert client.post("/login", data={"username": other.username, "password": TEST_PASSWORD}).status_code == 302


def test_sign_in_is_throttled_per_address(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    try:
        for n in range(3):
            client.post("/login", data={"username": f"someone{n}", "password": "x" * 8})
        user = make_user("cadre")
        response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
        assert response.status_code == 429
    finally:
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "30 per 5 minutes"


def test_successful_sign_ins_do_not_use_up_the_limit(client, make_user):
    user = make_user("cadre")
    for _ in range(8):
        assert client.post("/login", data={"username": user.username, "password": TEST_PASSWORD}).status_code == 302
        client.post("/logout")


def test_form_without_csrf_token_is_refused(app, client, make_user, csrf_enabled):
    user = make_user("cadre")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # Signing out is a form too.
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
