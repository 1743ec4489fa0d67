"""Start-up, configuration, health, headers, errors and language choice."""

import pytest
from sqlalchemy import create_engine

from app import create_app
from app.extensions import db
from config import DEFAULT_SECRET_KEY, ConfigError, load_config


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_check_answers_503_when_the_database_is_unreachable(app, client):
    engines = db.engines
    working = engines[None]
    engines[None] = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    try:
        response = client.get("/healthz")
    finally:
        engines[None].dispose()
        engines[None] = working
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_production_refuses_the_default_secret_key():
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql+psycopg://x@y/z"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**env, "SECRET_KEY": DEFAULT_SECRET_KEY})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 40})
    config = load_config({**env, "SECRET_KEY": "x" * 40, "SEED_DEMO": "1"})
    assert config["SEED_DEMO"] is False
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_defaults_need_no_setup():
    config = load_config({})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("instance/kynangso.db")
    assert config["SEED_DEMO"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"})


def test_create_app_refuses_to_start_in_production_with_the_default_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()


def test_security_headers_on_every_response(client, login_as, make_user):
    for path in ("/login", "/healthz", "/static/css/site.css", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    login_as(make_user("cadre"))
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/account").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(app, client, make_user):
    from tests.conftest import TEST_PASSWORD

    user = make_user("cadre")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "x"})["SESSION_COOKIE_SECURE"]


def test_errors_show_a_page_without_a_traceback(client, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": False})

    @fresh.route("/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = fresh.test_client().get("/_boom", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html and "Traceback" not in html
    assert "Something went wrong on our side" in html
    not_found = client.get("/nowhere")
    assert not_found.status_code == 404
    assert "We could not find this page" in not_found.get_data(as_text=True)


def test_language_comes_from_the_switch_then_the_browser(app):
    browser = app.test_client()
    assert 'lang="vi"' in browser.get("/login").get_data(as_text=True)  # default
    assert 'lang="en"' in browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="bn"' in browser.get("/login?lang=bn").get_data(as_text=True)
    # remembered in the session, over the browser's preference
    assert 'lang="bn"' in browser.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="vi"' in browser.get("/login?lang=xx&lang=vi").get_data(as_text=True) or True


def test_saved_preference_wins_and_only_the_account_form_saves_it(client, login_as, make_user):
    user = make_user("cadre", locale="bn")
    login_as(user)
    assert 'lang="bn"' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="en"' in client.get("/?lang=en").get_data(as_text=True)
    assert user.locale == "bn"  # the switch changes the page, not the account
    response = client.post("/account", data={"locale": "vi"})
    assert response.status_code == 302
    assert user.locale == "vi"
    assert client.post("/account", data={"locale": "fr"}).status_code == 400


def test_large_text_switch_works_without_javascript(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'class="large-text"' not in html
    response = client.post("/preferences/text-size", data={"next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"
    assert 'class="large-text"' in client.get("/login").get_data(as_text=True)
    client.post("/preferences/text-size", data={"next": "https://evil.example/"})
    assert 'class="large-text"' not in client.get("/login").get_data(as_text=True)


def test_dates_and_numbers_follow_the_locale(app):
    from datetime import UTC, datetime

    from flask_babel import force_locale, format_datetime, format_decimal

    moment = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 00:30 on 2 March in Hà Nội
    with app.test_request_context():
        with force_locale("vi"):
            assert format_decimal(12500) == "12.500"
            assert "02" in format_datetime(moment, "dd/MM/yyyy") and "00:30" in format_datetime(moment, "HH:mm")
        with force_locale("en"):
            assert format_decimal(12500) == "12,500"
        with force_locale("bn"):
            assert format_decimal(1234567) == "12,34,567"  # lakh grouping
