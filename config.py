"""Configuration, read from environment variables when the application is created.

`APP_ENV` picks the profile:

* `production`, also when APP_ENV is not set: refuses to start without a strong SECRET_KEY,
  DATABASE_URL and sign-in limits shared by all its workers; never seeds demo accounts.
* `development`, chosen by `python run.py`: SQLite under instance/, demo data, and a secret key
  made once for this installation and kept in instance/secret_key.
* `testing`, for the test suite.

No secret key is ever written in the repository: a key that anyone can read signs anyone's
session cookie and API token.
"""

import ipaddress
import json
import os
import re
import secrets
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
PROFILES = ("development", "production", "testing")
MIN_SECRET_KEY_LENGTH = 32
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
# The test suite's key: random, so that no key in the repository signs a test app's cookies.
_TESTING_SECRET_KEY = secrets.token_hex(32)


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _installation_key(instance_dir: Path) -> str:
    """The development key of this installation: made on first start, then read from
    instance/secret_key (readable by its owner only)."""
    path = instance_dir / "secret_key"
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"{path} does not hold a usable key; delete it and start again.") from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _secret_key(env: Mapping[str, str], profile: str, explicit_profile: bool) -> str:
    key = env.get("SECRET_KEY")
    if key is None and profile == "testing":
        return _TESTING_SECRET_KEY
    if key is None and profile == "development":
        return _installation_key(INSTANCE_DIR)
    if key is None or len(key) < MIN_SECRET_KEY_LENGTH:
        problem = "is not set" if key is None else f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
        started_as = f"APP_ENV={profile}" if explicit_profile else "Without APP_ENV the app starts as production, which"
        raise ConfigError(
            f"SECRET_KEY {problem}. {started_as} needs SECRET_KEY set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters; make one with: {MAKE_A_KEY}. "
            "For development run `python run.py`, or set APP_ENV=development."
        )
    return key


#: The unit price of a message by channel when MESSAGE_PRICES is not set (VND per message).
DEFAULT_MESSAGE_PRICES = {"zalo": 300, "sms": 750}
PRICED_CHANNELS = ("zalo", "sms", "email", "in_app")


def message_prices(value: str | None) -> dict[str, float]:
    """MESSAGE_PRICES: a JSON object of VND per message by channel (zalo, sms, email, in_app),
    e.g. {"zalo": 300, "sms": 750}; a channel left out costs nothing. Unset: the defaults."""
    if value is None or not value.strip():
        return dict(DEFAULT_MESSAGE_PRICES)
    try:
        prices = json.loads(value)
    except ValueError:
        prices = None
    if not isinstance(prices, dict) or not all(
        key in PRICED_CHANNELS and isinstance(price, int | float) and not isinstance(price, bool) and 0 <= price < 1e9
        for key, price in prices.items()
    ):
        raise ConfigError(
            "MESSAGE_PRICES must be a JSON object of prices in VND per message by channel "
            f"({', '.join(PRICED_CHANNELS)}), each a number from 0, e.g. {json.dumps(DEFAULT_MESSAGE_PRICES)}."
        )
    return prices


def scheduler_intervals(value: str | None) -> dict[str, float]:
    """SCHEDULER_INTERVALS: a JSON object of seconds between runs by interval job, e.g.
    {"send_outbox": 30, "visit_reminders": 300}; a job left out keeps its interval. The job ids
    are checked when the scheduler is built (app/jobs/scheduler.py)."""
    if value is None or not value.strip():
        return {}
    try:
        intervals = json.loads(value)
    except ValueError:
        intervals = None
    if not isinstance(intervals, dict) or not all(
        isinstance(key, str) and isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0
        for key, seconds in intervals.items()
    ):
        raise ConfigError(
            "SCHEDULER_INTERVALS must be a JSON object of seconds between runs by job, each above 0, "
            'e.g. {"send_outbox": 30, "visit_reminders": 300}.'
        )
    return intervals


def _positive_seconds(env: Mapping[str, str], name: str, default: str) -> float:
    value = env.get(name) or default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{name}={value!r} must be a number of seconds above 0 and at most 3600.")
    return seconds


def worker_count(env: Mapping[str, str], argv: Sequence[str]) -> int | None:
    """How many worker processes serve the app, as WEB_CONCURRENCY and gunicorn's command line
    (GUNICORN_CMD_ARGS, then its arguments) say; None when nothing says."""
    count = env.get("WEB_CONCURRENCY")
    arguments = shlex.split(env.get("GUNICORN_CMD_ARGS", ""))
    if argv and "gunicorn" in str(argv[0]):
        arguments += list(argv[1:])
    for n, argument in enumerate(arguments):
        if argument in {"-w", "--workers"} and n + 1 < len(arguments):
            count = arguments[n + 1]
        elif argument.startswith("--workers="):
            count = argument.partition("=")[2]
        elif argument.startswith("-w") and argument[2:].isdigit():
            count = argument[2:]
    try:
        return int(count) if count is not None else None
    except ValueError:
        return None


LOG_FORMATS = ("plain", "json")


def allowed_networks(value: str | None) -> tuple[str, ...]:
    """METRICS_ALLOWED_NETWORKS: addresses or networks (CIDR), comma-separated; each is checked
    here so that a typing mistake stops the start rather than open or close /metrics silently."""
    networks = []
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(
                f"METRICS_ALLOWED_NETWORKS: {part!r} is not an address or a network such as 10.0.0.0/8."
            ) from None
    return tuple(networks)


_QUIET_HOURS = re.compile(r"^\s*([01]?\d|2[0-3]):[0-5]\d\s*-\s*([01]?\d|2[0-3]):[0-5]\d\s*$")


def _check_message_settings(config: dict) -> None:
    """Refuse message settings that cannot be read, rather than send at night or never by Zalo."""
    quiet = config["QUIET_HOURS"]
    if quiet.strip() and not _QUIET_HOURS.match(quiet):
        raise ConfigError(f"QUIET_HOURS={quiet!r} is not understood; write it as 21:00-07:00, or empty for none.")
    if config["MESSAGE_DAILY_CAP"] < 0:
        raise ConfigError("MESSAGE_DAILY_CAP must be 0 (no cap) or more.")
    templates = config["ZNS_TEMPLATES"]
    if templates.strip():
        try:
            parsed = json.loads(templates)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str | int) for v in parsed.values()):
            raise ConfigError(
                "ZNS_TEMPLATES must be a JSON object of message kinds and Zalo template ids, e.g. "
                '{"visit_reminder_resident": "123456"}.'
            )


def load_config(env: Mapping[str, str] | None = None, argv: Sequence[str] | None = None) -> dict:
    """Return the settings for the profile named by APP_ENV; raise ConfigError if unsafe."""
    env = os.environ if env is None else env
    argv = sys.argv if argv is None else argv
    explicit_profile = bool((env.get("APP_ENV") or "").strip())
    profile = (env.get("APP_ENV") or "production").strip().lower()
    if profile not in PROFILES:
        raise ConfigError(f"APP_ENV={profile!r} is unknown; use one of: {', '.join(PROFILES)}")
    production = profile == "production"
    testing = profile == "testing"
    development = profile == "development"

    if testing:
        default_db = env.get("TEST_DATABASE_URL", "sqlite://")
    else:
        default_db = f"sqlite:///{INSTANCE_DIR / 'kynangso.db'}"

    config = {
        "ENV_NAME": profile,
        "TESTING": testing,
        "SECRET_KEY": _secret_key(env, profile, explicit_profile),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The demo province and its accounts go only into an empty development database.
        "SEED_DEMO": development and _flag(env, "SEED_DEMO", True),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en", "bn"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure everywhere but on the development server, which serves plain HTTP on localhost.
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", not development),
        "REMEMBER_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", not development),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        # The session cookie is written when the session changes, not re-signed on every page.
        # It still lasts 12 hours from its last write, and an active person's is rewritten about
        # once a minute (the menu's notification count, app/jobs/routes.py).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": 60 * 60 * 12,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Static files are versioned in their address (app/templating.py), so they can be cached.
        "SEND_FILE_MAX_AGE_DEFAULT": 30 * 24 * 3600,
        # Course content (courses/README.md): the folder lesson pictures are served from, and the
        # weight limits `flask courses validate` and the sync hold lessons to, in bytes: a lesson
        # as a phone first downloads it (page, stylesheet, pictures), one picture, one recording.
        "COURSES_DIR": BASE_DIR / "courses",
        "LESSON_MEDIA_BUDGET": int(env.get("LESSON_MEDIA_BUDGET", "100000")),
        "LESSON_IMAGE_MAX_BYTES": int(env.get("LESSON_IMAGE_MAX_BYTES", "40000")),
        "LESSON_AUDIO_MAX_BYTES": int(env.get("LESSON_AUDIO_MAX_BYTES", "2000000")),
        # memory:// holds limits in one process; production uses redis:// so they hold across
        # workers and machines (refused below otherwise).
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Put before every key the limiter writes, so several installations can share one Redis.
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", ""),
        # Failed password checks (app/auth/limits.py): on one account from one address, from one
        # address on any account, and on one account from everywhere (an attack: the owner is
        # told, and the addresses that failed get no more tries until the window ends).
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 5 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": env.get("LOGIN_LIMIT_PER_ADDRESS", "30 per 5 minutes"),
        "LOGIN_ATTACK_PER_ACCOUNT": env.get("LOGIN_ATTACK_PER_ACCOUNT", "20 per hour"),
        # A forgotten password (app/auth/recovery.py): codes sent to one account, codes asked
        # from one address (above either, the same neutral answer, no code sent), and codes
        # tried from one address (429 above it).
        "RECOVERY_LIMIT_PER_ACCOUNT": env.get("RECOVERY_LIMIT_PER_ACCOUNT", "3 per hour"),
        "RECOVERY_LIMIT_PER_ADDRESS": env.get("RECOVERY_LIMIT_PER_ADDRESS", "10 per hour"),
        "RECOVERY_TRIES_PER_ADDRESS": env.get("RECOVERY_TRIES_PER_ADDRESS", "20 per hour"),
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
        # Zalo Notification Service (app/jobs/channels.py). Without an access or refresh token
        # and templates no message goes by Zalo. ZNS_TEMPLATES maps a message kind to the id of
        # its approved template, as JSON: {"visit_reminder_resident": "123456", ...}.
        "ZNS_API_URL": env.get("ZNS_API_URL", "https://business.openapi.zalo.me/message/template"),
        "ZNS_OAUTH_URL": env.get("ZNS_OAUTH_URL", "https://oauth.zaloapp.com/v4/oa/access_token"),
        "ZNS_ACCESS_TOKEN": env.get("ZNS_ACCESS_TOKEN", ""),
        "ZNS_REFRESH_TOKEN": env.get("ZNS_REFRESH_TOKEN", ""),
        "ZNS_APP_ID": env.get("ZNS_APP_ID", ""),
        "ZNS_SECRET_KEY": env.get("ZNS_SECRET_KEY", ""),
        "ZNS_TEMPLATES": env.get("ZNS_TEMPLATES", ""),
        # SMS through an HTTP gateway; SMS_ADAPTER names the class that talks to it (a dotted
        # path), SMS_ASCII sends the text without Vietnamese diacritics. Without SMS_API_URL no
        # message goes by SMS.
        "SMS_ADAPTER": env.get("SMS_ADAPTER", "app.jobs.channels.HttpSmsGateway"),
        "SMS_API_URL": env.get("SMS_API_URL", ""),
        "SMS_API_KEY": env.get("SMS_API_KEY", ""),
        "SMS_SENDER": env.get("SMS_SENDER", ""),
        "SMS_ASCII": _flag(env, "SMS_ASCII", True),
        # Local hours when no message goes out by Zalo, SMS or e-mail (they wait until the end;
        # sign-in codes excepted); "" sends at any hour. At most MESSAGE_DAILY_CAP such messages
        # per person per local day (0: no cap); the rest wait for the next day.
        "QUIET_HOURS": env.get("QUIET_HOURS", "21:00-07:00"),
        "MESSAGE_DAILY_CAP": int(env.get("MESSAGE_DAILY_CAP") or "5"),
        # The site's public address, for links in e-mails (e.g. https://kynangso.example.gov.vn).
        "PUBLIC_URL": env.get("PUBLIC_URL", "").rstrip("/"),
        # The in-process scheduler of `python run.py`; production runs `flask scheduler run`.
        "SCHEDULER_IN_PROCESS": _flag(env, "SCHEDULER_IN_PROCESS", not production and not testing),
        # `flask scheduler run`: seconds between runs of its interval jobs, by job id (JSON; unset
        # ones keep app/jobs/scheduler.py's), and how often a standby scheduler tries to take the
        # lock (and the running one checks it still holds it): the longest a takeover waits.
        "SCHEDULER_INTERVALS": scheduler_intervals(env.get("SCHEDULER_INTERVALS")),
        "SCHEDULER_LOCK_RETRY_SECONDS": _positive_seconds(env, "SCHEDULER_LOCK_RETRY_SECONDS", "30"),
        # How many reverse proxies to trust for X-Forwarded-For / -Proto.
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "1" if production else "0")),
        # Retention (app/privacy/retention.py), in days: free-text notes of closed help requests
        # and visits; phone numbers of residents with no activity; messages of the outbox.
        "RETENTION_NOTES_DAYS": int(env.get("RETENTION_NOTES_DAYS", "365")),
        "RETENTION_INACTIVE_PHONE_DAYS": int(env.get("RETENTION_INACTIVE_PHONE_DAYS", "730")),
        "RETENTION_MESSAGES_DAYS": int(env.get("RETENTION_MESSAGES_DAYS", "180")),
        # Delivery receipts (app/jobs/receipt_routes.py). SMS: the gateway signs each receipt with
        # HMAC-SHA256 of the body under this secret. Zalo: the OA's webhook secret key (Zalo signs
        # with sha256 of app id, body, timestamp and this key). Unset: the endpoint answers 404.
        "SMS_RECEIPT_SECRET": env.get("SMS_RECEIPT_SECRET", ""),
        "ZALO_RECEIPT_SECRET": env.get("ZALO_RECEIPT_SECRET", ""),
        # Receipts taken from one address, and refused ones (bad signature or body) per address.
        "RECEIPT_RATE_LIMIT": env.get("RECEIPT_RATE_LIMIT", "600 per minute"),
        "RECEIPT_FAILURE_LIMIT": env.get("RECEIPT_FAILURE_LIMIT", "60 per 10 minutes"),
        # What a message costs by channel (VND), for the message cost report.
        "MESSAGE_PRICES": message_prices(env.get("MESSAGE_PRICES")),
        # Logs (app/monitoring/logs.py): "plain" text, or "json", one object per line with the
        # request id, for a log collector.
        "LOG_FORMAT": (env.get("LOG_FORMAT") or "plain").strip().lower(),
        # /metrics (app/monitoring): answered only to a bearer token equal to METRICS_TOKEN and/or
        # from an address in METRICS_ALLOWED_NETWORKS (comma-separated, e.g. "10.0.0.0/8,
        # 127.0.0.1"); with neither set it answers 404.
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "METRICS_ALLOWED_NETWORKS": allowed_networks(env.get("METRICS_ALLOWED_NETWORKS")),
    }
    if testing:
        config["RATELIMIT_STORAGE_URI"] = "memory://"
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT={config['LOG_FORMAT']!r} is unknown; use one of: {', '.join(LOG_FORMATS)}")
    _check_message_settings(config)

    if production:
        if "DATABASE_URL" not in env:
            raise ConfigError("APP_ENV=production needs DATABASE_URL (a PostgreSQL URL).")
        if config["RATELIMIT_STORAGE_URI"].startswith("memory://") and worker_count(env, argv) != 1:
            raise ConfigError(
                "APP_ENV=production keeps the sign-in limits in memory, apart in each worker "
                "process, where they do not hold. Set RATELIMIT_STORAGE_URI to a Redis shared by "
                "all workers (e.g. redis://127.0.0.1:6379/0), or WEB_CONCURRENCY=1 when exactly "
                "one worker process serves the app."
            )
    return config
