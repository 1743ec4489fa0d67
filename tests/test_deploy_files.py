"""The files in deploy/ agree with the app: every setting has its line in the environment file,
which starts the production profile once a key is given; the units run what README says; the
nginx site's limits are the app's. tests/cluster runs them all for real."""

from __future__ import annotations

import re

import pytest

from bench.cluster import APP_UNIT, ENV_TEMPLATE, SCHEDULER_UNIT, SITE_FILE, read_env_file, unit_command
from config import BASE_DIR, ConfigError, load_config

#: Settings that only the tests read.
NOT_FOR_PRODUCTION = {"TEST_DATABASE_URL"}


def settings_read_by_config() -> set[str]:
    source = (BASE_DIR / "config.py").read_text(encoding="utf-8")
    pairs = re.findall(r'env\.get\("([A-Z_]+)"|_flag\(env, "([A-Z_]+)"', source)
    return {name for pair in pairs for name in pair if name}


def test_the_environment_file_names_every_setting():
    template = ENV_TEMPLATE.read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, flags=re.MULTILINE))
    settings = settings_read_by_config()
    assert "SECRET_KEY" in settings
    assert "DATABASE_URL" in settings
    assert settings - NOT_FOR_PRODUCTION - named == set(), "add these to deploy/kynangso.env.example"


def test_the_environment_file_starts_production_once_a_key_is_set():
    env = read_env_file(ENV_TEMPLATE)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, argv=["gunicorn"])
    config = load_config({**env, "SECRET_KEY": "k" * 64}, argv=["gunicorn"])
    assert config["ENV_NAME"] == "production"
    assert config["PROXY_COUNT"] == 1
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SCHEDULER_IN_PROCESS"] is False
    assert config["SEED_DEMO"] is False
    assert config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert config["SCHEDULER_LOCK_RETRY_SECONDS"] == 30


def test_the_units_run_the_app_and_the_scheduler_with_the_environment_file():
    node = unit_command(APP_UNIT, instance="8001", APP_BIND="127.0.0.1")
    assert node[1:3] == ["-m", "gunicorn"]
    assert node[-1] == "app:create_app()"
    assert node[node.index("--bind") + 1] == "127.0.0.1:8001"
    assert unit_command(SCHEDULER_UNIT)[1:] == ["-m", "flask", "--app", "app:create_app", "scheduler", "run"]
    for unit in (APP_UNIT, SCHEDULER_UNIT):
        assert "EnvironmentFile=/etc/kynangso/kynangso.env\n" in unit.read_text(encoding="utf-8")


def test_the_site_passes_what_proxy_count_1_expects_and_the_apps_body_limit():
    site = SITE_FILE.read_text(encoding="utf-8")
    for header, value in (
        ("X-Forwarded-For", "$remote_addr"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Forwarded-Host", "$http_host"),
    ):
        assert f"proxy_set_header {header} {value};" in site
    body_limit = re.search(r"client_max_body_size (\d+)m;", site)
    assert int(body_limit.group(1)) * 1024 * 1024 == load_config({"APP_ENV": "testing"})["MAX_CONTENT_LENGTH"]


def test_gunicorn_loads_the_shared_libraries_in_its_master_but_never_the_app():
    """gunicorn.conf.py (read by gunicorn from the folder it starts in) imports the libraries the
    workers share; the app stays out of the master, so a reload serves new code."""
    import subprocess
    import sys

    probe = (
        "import runpy, sys; settings = runpy.run_path('gunicorn.conf.py'); "
        "assert callable(settings['pre_fork']) and callable(settings['post_fork']); "
        "print(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.') or m == 'config')); "
        "print('sqlalchemy.orm' in sys.modules and 'flask' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=BASE_DIR, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True"]
