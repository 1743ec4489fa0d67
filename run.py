"""Development entry point: `python run.py`.

Starts the development profile (APP_ENV=development unless set otherwise), whose secret key is
made once for this installation in instance/secret_key. Creates the SQLite database under
instance/ (or uses DATABASE_URL), applies the migrations, syncs the courses in courses/, loads
the demo province when the database is empty, and serves on http://127.0.0.1:5000 (HOST and
PORT change that). Production uses gunicorn and `flask db upgrade` instead.
"""

import os
import sys

from flask_migrate import upgrade

from app import create_app
from app.demo.operations import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.extensions import db
from app.jobs.scheduler import start_in_process
from app.learning.cli import COURSES_DIR
from app.learning.content import sync_courses
from app.reports import recount
from config import ConfigError


def prepare(app) -> bool:
    """Migrate, sync the courses and seed; returns True when demo data was added."""
    with app.app_context():
        upgrade()
        sync_courses(COURSES_DIR)
        db.session.commit()
        seeded = app.config["SEED_DEMO"] and seed_demo()
        if not seeded and recount.missing():
            recount.rebuild()  # a database from before the dashboards' summary tables
        db.session.commit()
        return bool(seeded)


def development_app():
    """The app in the development profile: running this file says it is development, while
    anything else that builds the app without APP_ENV gets the production profile."""
    os.environ.setdefault("APP_ENV", "development")
    return create_app()


def main() -> None:
    try:
        app = development_app()
    except ConfigError as error:
        sys.exit(f"Configuration problem: {error}")
    if app.config["ENV_NAME"] == "production":
        sys.exit("run.py is for development; in production run gunicorn (see README).")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    debug = os.environ.get("FLASK_DEBUG", "") in {"1", "true"}
    # With the reloader the file runs twice; prepare only in the serving child.
    if not debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        prepare(app)
        if app.config["SCHEDULER_IN_PROCESS"]:
            start_in_process(app)
        if app.config["SEED_DEMO"]:
            print(f"\nKỹ năng số is running on http://{host}:{port}/login")
            print(f"Demo sign-ins (password {DEMO_PASSWORD}): " + ", ".join(u for u, _ in DEMO_ACCOUNTS))
            print("The province and people in the demo data are fictional.\n", flush=True)
    app.run(host=host, port=port, debug=debug, use_reloader=debug)


if __name__ == "__main__":
    main()
