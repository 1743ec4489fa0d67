"""Start-up, configuration, health, headers, errors and language choice."""

import ast
import hashlib
import stat

import pytest
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine

import config
import run
from app import create_app
from app.extensions import db
from config import BASE_DIR, ConfigError, load_config
from tests.conftest import TEST_PASSWORD


def test_health_check_answers_without_the_database(app, client):
    """Liveness: the process answers, also when the database does not."""
    engines = db.engines
    working = engines[None]
    engines[None] = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    try:
        response = client.get("/healthz")
    finally:
        engines[None].dispose()
        engines[None] = working
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_answers_503_when_the_database_is_unreachable(app, client):
    assert client.get("/readyz").status_code == 200
    engines = db.engines
    working = engines[None]
    engines[None] = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    try:
        response = client.get("/readyz")
    finally:
        engines[None].dispose()
        engines[None] = working
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "reason": "database_unreachable"}


def test_production_refuses_the_default_secret_key():
    env = {"APP_ENV": "production", "DATABASE_URL": "postgresql+psycopg://x@y/z", "WEB_CONCURRENCY": "1"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**env, "SECRET_KEY": "dev-only-secret-key-change-me"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 40})
    settings = load_config({**env, "SECRET_KEY": "x" * 40, "SEED_DEMO": "1"})
    assert settings["SEED_DEMO"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_development_defaults_need_no_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    settings = load_config({"APP_ENV": "development"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kynangso.db'}"
    assert settings["SEED_DEMO"] is True
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"})


def test_a_server_started_without_app_env_refuses_to_start_without_a_secret_key(monkeypatch):
    # `gunicorn 'app:create_app()'` with only DATABASE_URL.
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    with pytest.raises(ConfigError, match="SECRET_KEY") as refusal:
        create_app()
    message = str(refusal.value)
    assert "secrets.token_hex(32)" in message and "APP_ENV=development" in message
    for weak in ("", "short", "x" * 31):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            load_config({"DATABASE_URL": "sqlite://", "SECRET_KEY": weak})


def test_the_development_key_is_made_once_per_installation_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    first = load_config({"APP_ENV": "development"})["SECRET_KEY"]
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text().strip() == first and len(first) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config({"APP_ENV": "development"})["SECRET_KEY"] == first
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "another")
    assert load_config({"APP_ENV": "development"})["SECRET_KEY"] != first
    # A key given in the environment wins.
    assert load_config({"APP_ENV": "development", "SECRET_KEY": "k" * 40})["SECRET_KEY"] == "k" * 40


def test_run_py_chooses_development_by_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    app = run.development_app()
    assert app.config["ENV_NAME"] == "development"
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


def _keys_in_the_repository() -> set[str]:
    """Every string written in the configuration and entry points, and the keys they once held."""
    keys = {"dev-only-secret-key-change-me", "testing-secret-key"}
    for path in (BASE_DIR / "config.py", BASE_DIR / "run.py", BASE_DIR / "app" / "__init__.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
                keys.add(node.value)
    return keys


def test_a_cookie_or_token_signed_with_a_key_from_the_repository_opens_nothing(app, client, make_user, units):
    admin = make_user("admin", units["province"])
    assert app.config["SECRET_KEY"] not in _keys_in_the_repository()
    for key in _keys_in_the_repository():
        serializer = URLSafeTimedSerializer(
            key,
            salt="cookie-session",
            serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )
        forged = app.test_client()
        forged.set_cookie("session", serializer.dumps({"_user_id": admin.get_id(), "_fresh": True}), domain="localhost")
        assert forged.get("/audit/").status_code == 302, key
        token = URLSafeTimedSerializer(key, salt="api-token").dumps({"u": admin.id, "e": admin.session_epoch})
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401, key
    # The forgery itself is right: signed with the app's own key, the same cookie opens the page.
    serializer = app.session_interface.get_signing_serializer(app)
    genuine = app.test_client()
    genuine.set_cookie("session", serializer.dumps({"_user_id": admin.get_id(), "_fresh": True}), domain="localhost")
    assert genuine.get("/audit/").status_code == 200


def test_cookies_are_secure_outside_development(client, make_user, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "x", "WEB_CONCURRENCY": "1"}
    for env in (production, {"APP_ENV": "testing"}):
        settings = load_config(env)
        assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"], env
    assert not load_config({"APP_ENV": "development"})["SESSION_COOKIE_SECURE"]
    user = make_user("cadre")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def test_production_refuses_limits_kept_in_each_worker(monkeypatch):
    env = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql+psycopg://x@y/z"}
    for refused in (env, {**env, "WEB_CONCURRENCY": "4"}, {**env, "RATELIMIT_STORAGE_URI": "memory://"}):
        with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
            load_config(refused, argv=["gunicorn", "app:create_app()"])
    # One worker may keep its limits in memory; more need a shared store.
    assert load_config({**env, "WEB_CONCURRENCY": "1"}, argv=["gunicorn"])["RATELIMIT_STORAGE_URI"] == "memory://"
    for argv in (["gunicorn", "-w", "4", "app:create_app()"], ["gunicorn", "--workers=3", "app:create_app()"]):
        with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
            load_config({**env, "WEB_CONCURRENCY": "1"}, argv=argv)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config({**env, "WEB_CONCURRENCY": "1", "GUNICORN_CMD_ARGS": "--workers 2"}, argv=["gunicorn"])
    shared = {**env, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    assert load_config(shared, argv=["gunicorn", "-w", "4"])["RATELIMIT_STORAGE_URI"].startswith("redis://")


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
    user = make_user("cadre")
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    production = {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "x", "WEB_CONCURRENCY": "1"}
    assert load_config(production)["SESSION_COOKIE_SECURE"]


def test_errors_show_a_page_without_a_traceback(client, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": False})

    @fresh.route("/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = fresh.test_client().get("/_boom?lang=en")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html and "Traceback" not in html
    assert "Something went wrong on our side" in html
    not_found = client.get("/nowhere")
    assert not_found.status_code == 404
    assert "We could not find this page" in not_found.get_data(as_text=True)


def test_language_comes_from_the_switch_else_vietnamese_never_the_browser(app):
    browser = app.test_client()
    assert 'lang="vi"' in browser.get("/login").get_data(as_text=True)  # default
    # A phone set to English still gets the product's language until its owner switches.
    assert 'lang="vi"' in browser.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert 'lang="bn"' in browser.get("/login?lang=bn").get_data(as_text=True)
    # remembered in the session, over the browser's preference
    assert 'lang="bn"' in browser.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="vi"' in browser.get("/login?lang=vi").get_data(as_text=True)


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
