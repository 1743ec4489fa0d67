"""A worker starts lean: the heavy libraries (PDF and font shaping, images, QR codes, XLSX,
iCalendar, password strength, HTTP to providers, migrations, phone numbers, Markdown and XML for
the course checks, Babel's catalog compiler) and the command groups are imported where they are
used, so create_app() does not load them into every gunicorn worker (bench/worker_memory.py
measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Top-level modules that create_app() must not import, and what each is for.
HEAVY = {
    "fpdf": "certificate PDFs",
    "uharfbuzz": "text shaping in certificates",
    "fontTools": "fonts in certificates",
    "PIL": "images in certificates",
    "segno": "QR codes on certificates",
    "openpyxl": "XLSX exports and imports",
    "numpy": "pulled in by openpyxl",
    "icalendar": "calendar feeds",
    "zxcvbn": "judging a new password",
    "requests": "Zalo and SMS providers",
    "alembic": "migrations",
    "flask_migrate": "migrations",
    "apscheduler": "the scheduler process",
    "phonenumbers": "reading or showing a phone number",
    "markdown_it": "the course checks and the sync",
    "defusedxml": "checking a course's SVG pictures",
    "babel.messages": "compiling a catalog that is out of date",
    "smtplib": "sending e-mail (app.jobs.mail)",
    # Modules of the app itself that only a command or a rare page needs.
    "app.demo.generate": "flask demo generate",
    "app.jobs.cli": "flask jobs / flask scheduler",
    "app.api.openapi": "the API's contract, /api/v1/openapi.json and /api/v1/docs",
}

PROBE = """
import json, sys
from app import create_app
app = create_app()
print(json.dumps(sorted({*sys.modules, *(name.split(".")[0] for name in sys.modules)})))
"""


def test_create_app_leaves_the_heavy_libraries_unloaded():
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env["APP_ENV"] = "testing"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "flask" in loaded and "app" in loaded
    found = {name: why for name, why in HEAVY.items() if name in loaded}
    assert not found, f"create_app() imports libraries it should import where they are used: {found}"


def test_migrations_still_load_when_asked_for(app):
    """Flask-Migrate is set up on first use: its configuration answers as it always did."""
    config = app.extensions["migrate"]
    assert Path(config.directory) == ROOT / "migrations"
    assert config.configure_args["render_as_batch"] is True
    assert "db" in app.cli.list_commands(None)


def test_every_command_group_loads_when_asked_for(app):
    names = app.cli.list_commands(None)
    assert {"db", "demo", "jobs", "scheduler", "courses", "units", "users", "reports", "privacy"} <= set(names)
    for name in names:
        assert app.cli.get_command(None, name) is not None, name
