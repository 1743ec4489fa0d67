"""Fixtures for the browser tests: the real app served by `python run.py`, and Debian's Chromium.

The server runs as a subprocess on a free port with its own SQLite file and the demo data, so
these tests see exactly what a person running the app in development sees. (The autouse `db`
fixture of tests/conftest.py still builds its own, separate test database; that is harmless.)

Chromium comes from Debian (`apt-get install chromium`); set CHROMIUM to use another binary.

Under TEST_NOW (tests/conftest.py) the server starts at the tests' current moment and its clock
runs from there. Chromium keeps the real time, which is harmless: it judges a cookie's expiry
against the server's Date header, and no page script reads the date.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT = 60.0
PHONE = {"width": 360, "height": 740}
LOCALE = "vi-VN"

# Settings that must not leak from the caller's environment into the served app.
_SCRUBBED_ENV = (
    "TEST_DATABASE_URL",
    "FLASK_DEBUG",
    "RATELIMIT_STORAGE_URI",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_ADDRESS",
    "PROXY_COUNT",
    "SESSION_COOKIE_SECURE",
    "WERKZEUG_RUN_MAIN",
    "WERKZEUG_SERVER_FD",
)


# `python run.py` with its clock moved to TEST_NOW (an ISO moment), time passing from there.
_RUN_AT_TEST_NOW = """
import os, runpy, time_machine
from datetime import datetime
time_machine.travel(datetime.fromisoformat(os.environ["TEST_NOW"]).timestamp(), tick=True).start()
runpy.run_path("run.py", run_name="__main__")
"""


def _server_command(env: dict[str, str]) -> list[str]:
    """`python run.py`; under TEST_NOW, at the tests' current moment (set in `env`)."""
    if not os.environ.get("TEST_NOW"):
        return [sys.executable, "run.py"]
    env["TEST_NOW"] = datetime.now(UTC).isoformat()  # this process's clock, moved by tests/conftest.py
    return [sys.executable, "-c", _RUN_AT_TEST_NOW]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthz_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own localhost URL)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """Base URL (no trailing slash) of the app started with `python run.py`."""
    workdir = tmp_path_factory.mktemp("live_server")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
    env.update(
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{workdir / 'browser.db'}",
        HOST="127.0.0.1",
        PORT=str(port),
        SEED_DEMO="1",
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "server.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _server_command(env),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            status = _healthz_status(base_url + "/healthz")
            if status == 200:
                break
            time.sleep(0.2)
        if status != 200:
            exit_code = process.poll()
            state = f"exited with code {exit_code}" if exit_code is not None else "still running"
            output = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(
                f"`python run.py` did not answer GET {base_url}/healthz with 200 within "
                f"{START_TIMEOUT:.0f} s (last status: {status}; process {state}).\n"
                f"--- server output ({log_path}) ---\n{output}",
                pytrace=False,
            )
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing browser there is an error
        # On a newcomer's machine without Debian's Chromium the browser tests are skipped, saying why.
        pytest.skip(message)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """Make fresh browser contexts (a phone-sized window, Vietnamese locale); all are closed at
    the end of the test. Keyword arguments go to Browser.new_context."""
    contexts = []

    def make(**options):
        settings = {"viewport": PHONE, "locale": LOCALE, "base_url": live_server}
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()
