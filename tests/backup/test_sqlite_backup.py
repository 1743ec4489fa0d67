"""`flask db backup PATH`: an online copy of a SQLite database, taken while the app writes, that
never overwrites a file. Runs in both passes (it makes its own SQLite file)."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db as _db
from app.units.models import Unit


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on a SQLite file of its own, with its schema, as a small installation runs."""
    monkeypatch.setenv("APP_ENV", "testing")
    path = tmp_path / "live.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SEED_DEMO": False})
    with app.app_context():
        _db.create_all()
        _db.session.add(Unit(code="P", kind="province", name="Tỉnh", path="/P/"))
        _db.session.commit()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def backup(app, target):
    """`flask db backup TARGET` run against `app` (in its own context, as the command line does)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["db", "backup", str(target)])


def units_in(path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {code for (code,) in connection.execute("SELECT code FROM units")}


def test_a_backup_taken_while_the_app_writes_is_a_whole_database(sqlite_app, tmp_path):
    stop, written, errors = threading.Event(), [], []

    def writer():
        # The app goes on adding villages, one commit each, for as long as the backup runs.
        with sqlite_app.app_context():
            province = _db.session.scalar(select(Unit).where(Unit.code == "P"))
            n = 0
            try:
                while not stop.is_set() or n < 20:
                    n += 1
                    code = f"V{n:05d}"
                    _db.session.add(Unit(code=code, kind="village", name=code, parent=province, path=f"/P/{code}/"))
                    _db.session.commit()
                    written.append(code)
            except Exception as error:  # asserted below
                errors.append(error)
            finally:
                _db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 10:
            thread.join(0.01)
        target = tmp_path / "backups" / "kns.db"
        target.parent.mkdir()
        result = backup(sqlite_app, target)
        copied_while_writing = len(written)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert result.exit_code == 0, result.output
    assert f"Đã ghi bản sao lưu: {target}" in result.output  # the CLI speaks Vietnamese

    # A whole, standalone database: it passes SQLite's check, has no -wal beside it, and holds
    # a prefix of what the app wrote (every committed village up to the moment of the copy).
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (target.parent / "kns.db-wal").exists()
    assert sorted(target.parent.iterdir()) == [target]  # no partial file left behind
    codes = units_in(target) - {"P"}
    assert len(codes) >= 10
    assert codes == set(written[: len(codes)])
    assert len(codes) <= copied_while_writing + 1
    # The app kept writing after the copy, into its own database only.
    with sqlite_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Unit)) == len(written) + 1

    # The copy opens as the app's database.
    copy_app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}", "SEED_DEMO": False})
    with copy_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Unit)) == len(codes) + 1
        _db.session.remove()
        _db.engine.dispose()


def test_a_backup_never_overwrites_a_file(sqlite_app, tmp_path):
    target = tmp_path / "kns.db"
    target.write_bytes(b"yesterday's backup")
    result = backup(sqlite_app, target)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert target.read_bytes() == b"yesterday's backup"

    missing = tmp_path / "no-such-folder" / "kns.db"
    result = backup(sqlite_app, missing)
    assert result.exit_code != 0
    assert "is not a folder" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_on_postgresql_the_command_points_to_pg_dump(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "testing")
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/none"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SEED_DEMO": False})
    result = backup(app, tmp_path / "never-written.db")
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "never-written.db").exists()
