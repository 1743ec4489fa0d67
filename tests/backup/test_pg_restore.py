"""PostgreSQL: deploy/backup.sh dumps a live database while the app writes to it, deploy/restore.sh
restores the dump into a new database, which is at the code's migration head, holds exactly the
rows of the dumped snapshot, serves a smoke journey, and erases again a person erased after the
dump (`flask privacy reapply --from LEDGER`, as restore.sh runs it).

The databases are made next to the test database and dropped afterwards."""

from __future__ import annotations

import os
import random
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.auth.models import User
from app.db import utcnow
from app.demo.operations import DEMO_PASSWORD
from app.exceptions import Conflict, Invalid
from app.extensions import db as _db
from app.learning.models import Course
from app.privacy import erasure
from app.visits import operations as visits
from run import prepare
from tests.conftest import IsolatedClient, in_english, is_postgresql

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(not is_postgresql(), reason="pg_dump and pg_restore need PostgreSQL (TEST_DATABASE_URL)"),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def databases(database_url):
    """Two new, empty databases: the live one and the one a backup is restored into."""
    url = make_url(database_url)
    names = [f"{url.database}_bk_live", f"{url.database}_bk_restored"]
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield [url.set(database=name).render_as_string(hide_password=False) for name in names]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def app_on(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SEED_DEMO": True, "WTF_CSRF_ENABLED": False})
    app.test_client_class = IsolatedClient
    return app


def run(command: list[str], database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": database_url}
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def row_counts(connection) -> dict[str, int]:
    tables = sorted(inspect(connection).get_table_names())
    return {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() for table in tables}


def sign_in(client, username: str):
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def test_a_backup_of_a_live_database_restores_whole_and_erases_again(databases, tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    live_url, restored_url = databases
    live = app_on(live_url)
    assert prepare(live)  # migrations, courses, the demo province

    # The app keeps working while the backup runs: people sign in, visits are booked.
    stop, done, errors = threading.Event(), {"sign_ins": 0, "bookings": 0}, []

    def writer():
        client = in_english(live.test_client())
        rng = random.Random(7)
        with live.app_context():
            try:
                manager = _db.session.scalar(select(User).where(User.username == "commune_manager"))
                member = _db.session.scalar(select(User).where(User.username == "techteam"))
                resident = _db.session.scalar(select(User).where(User.username == "resident"))
                while not stop.is_set() or done["bookings"] < 3:
                    sign_in(client, rng.choice(["cadre", "resident", "techteam"]))
                    client.post("/logout")
                    done["sign_ins"] += 1
                    start = utcnow().replace(second=0, microsecond=0) + timedelta(
                        days=rng.randint(3, 40), hours=rng.randint(0, 23)
                    )
                    try:
                        visits.book_visit(
                            member, start, 30, skill="eid", place="Nhà văn hoá", booked_by=manager,
                            resident=resident, override=True, override_reason="backup test",
                        )  # fmt: skip
                        _db.session.commit()
                        done["bookings"] += 1
                    except (Conflict, Invalid):
                        _db.session.rollback()
            except Exception as error:  # asserted below
                errors.append(error)
            finally:
                _db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    snapshot_engine = create_engine(live_url)
    try:
        while done["bookings"] < 2 and thread.is_alive():
            thread.join(0.05)
        # pg_dump takes its rows from a snapshot; export one and hand it over, so the rows it
        # holds are known exactly while the writes go on.
        with snapshot_engine.connect() as holder:
            holder.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
            snapshot = holder.execute(text("SELECT pg_export_snapshot()")).scalar()
            dumped = row_counts(holder)
            before = dict(done)
            backup_dir = tmp_path / "backups"
            monkeypatch.setenv("PG_DUMP_OPTIONS", f"--snapshot={snapshot}")
            result = run([str(ROOT / "deploy" / "backup.sh"), str(backup_dir)], live_url)
            holder.execute(text("COMMIT"))
    finally:
        stop.set()
        thread.join()
        snapshot_engine.dispose()
    assert errors == []
    assert done["bookings"] > before["bookings"] or done["sign_ins"] > before["sign_ins"]
    dumps = sorted(backup_dir.glob("kns-*.dump"))
    ledgers = sorted(backup_dir.glob("kns-*.erasures.json"))
    assert len(dumps) == 1 and len(ledgers) == 1, result.stdout
    assert "backup:" in result.stdout

    # After the dump, a person is erased on the live database; the ledger written since knows it.
    with live.app_context():
        admin = _db.session.scalar(select(User).where(User.username == "admin"))
        cadre = _db.session.scalar(select(User).where(User.username == "cadre2"))
        erased_name, erased_id = cadre.full_name, cadre.id
        erasure.erase_account(admin, cadre, "Yêu cầu của người dân")
        _db.session.commit()
        later_ledger = tmp_path / "erasures-now.json"
        exported = live.test_cli_runner().invoke(args=["privacy", "ledger-export", str(later_ledger)])
        assert exported.exit_code == 0, exported.output
        _db.session.remove()
        _db.engine.dispose()

    # Restore into the new database (the script checks the migration head itself).
    result = run([str(ROOT / "deploy" / "restore.sh"), str(dumps[0]), restored_url], restored_url)
    assert "migrations: database at" in result.stdout and "(head)" in result.stdout
    restored = app_on(restored_url)
    with restored.app_context():
        with _db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
            assert row_counts(connection) == dumped
        heads = ScriptDirectory.from_config(restored.extensions["migrate"].migrate.get_config()).get_heads()
        assert set(current) == set(heads)

        # A smoke journey on the restored database.
        client = in_english(restored.test_client())
        sign_in(client, "resident")
        assert client.get("/").status_code == 200
        course = _db.session.scalar(select(Course).where(Course.slug == "smartphone-basics"))
        lesson = course.active_modules[0].active_lessons[0]
        page = client.get(f"/learning/{course.slug}/lessons/{lesson.key}")
        assert page.status_code == 200
        client.post("/logout")
        sign_in(client, "manager")
        dashboard = client.get("/reports/")
        assert dashboard.status_code == 200
        assert "An Phu Commune" in dashboard.get_data(as_text=True)

        # The person erased after the dump is back in the restored copy …
        assert _db.session.get(User, erased_id).full_name == erased_name
        _db.session.remove()

        # … until the newer ledger is applied (what restore.sh runs with a LEDGER argument).
        result = restored.test_cli_runner().invoke(args=["privacy", "reapply", "--from", str(later_ledger)])
        assert result.exit_code == 0, result.output
        assert "Đã đưa lại 1 dòng sổ xóa." in result.output
        person = _db.session.get(User, erased_id)
        assert person.erased_at is not None
        assert person.full_name != erased_name
        assert not person.active
        client = in_english(restored.test_client())
        refused = client.post("/login", data={"username": "cadre2", "password": DEMO_PASSWORD})
        assert refused.status_code == 200  # the form again: no such account
        _db.session.remove()
        _db.engine.dispose()
