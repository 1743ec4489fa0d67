"""Configuration, read from environment variables when the application is created.

`APP_ENV` picks the profile: `development` (the default: SQLite under instance/, demo data),
`production` (refuses unsafe settings, never seeds demo accounts) or `testing`.
"""

import os
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 (refused in production)
PROFILES = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(env: Mapping[str, str] | None = None) -> dict:
    """Return the settings for the profile named by APP_ENV; raise ConfigError if unsafe."""
    env = os.environ if env is None else env
    profile = (env.get("APP_ENV") or "development").strip().lower()
    if profile not in PROFILES:
        raise ConfigError(f"APP_ENV={profile!r} is unknown; use one of: {', '.join(PROFILES)}")
    production = profile == "production"
    testing = profile == "testing"

    if testing:
        default_db = env.get("TEST_DATABASE_URL", "sqlite://")
    else:
        default_db = f"sqlite:///{INSTANCE_DIR / 'kynangso.db'}"

    config = {
        "ENV_NAME": profile,
        "TESTING": testing,
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The demo province and its accounts go only into an empty development database.
        "SEED_DEMO": (not production and not testing) and _flag(env, "SEED_DEMO", True),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en", "bn"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        # The session cookie is written when the session changes, not re-signed on every page.
        # It still lasts 12 hours from its last write, and an active person's is rewritten about
        # once a minute (the menu's notification count, app/jobs/routes.py).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": 60 * 60 * 12,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Static files are versioned in their address (app/templating.py), so they can be cached.
        "SEND_FILE_MAX_AGE_DEFAULT": 30 * 24 * 3600,
        # memory:// holds limits in one process; production uses redis:// so they hold across
        # workers and machines.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": env.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 5 minutes"),
        "API_TOKEN_HOURS": int(env.get("API_TOKEN_HOURS", "12")),
        # Visits: minutes kept free between two visits for travel, and visits per member per day.
        "VISIT_TRAVEL_BUFFER_MINUTES": int(env.get("VISIT_TRAVEL_BUFFER_MINUTES", "15")),
        "VISIT_DAILY_CAP": int(env.get("VISIT_DAILY_CAP", "4")),
        # Outgoing e-mail (the outbox sender). Without MAIL_SERVER messages stay in-app only.
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag(env, "MAIL_USE_TLS", False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "Kỹ năng số <no-reply@localhost>"),
        # The site's public address, for links in e-mails (e.g. https://kynangso.example.gov.vn).
        "PUBLIC_URL": env.get("PUBLIC_URL", "").rstrip("/"),
        # The in-process scheduler of `python run.py`; production runs `flask scheduler run`.
        "SCHEDULER_IN_PROCESS": _flag(env, "SCHEDULER_IN_PROCESS", not production and not testing),
        # How many reverse proxies to trust for X-Forwarded-For / -Proto.
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "1" if production else "0")),
    }
    if testing:
        config["SECRET_KEY"] = env.get("SECRET_KEY", "testing-secret-key")
        config["RATELIMIT_STORAGE_URI"] = "memory://"

    if production:
        if config["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(config["SECRET_KEY"]) < 32:
            raise ConfigError(
                "APP_ENV=production needs SECRET_KEY set to a random value of at least 32 "
                "characters, e.g. the output of: python -c 'import secrets; "
                "print(secrets.token_hex(32))'"
            )
        if "DATABASE_URL" not in env:
            raise ConfigError("APP_ENV=production needs DATABASE_URL (a PostgreSQL URL).")
    return config
