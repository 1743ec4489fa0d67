"""How a request's transaction ends: COMMIT when it only read (so PostgreSQL keeps the prepared
statements, which psycopg forgets on ROLLBACK), ROLLBACK whenever anything was or would be
written and not committed, or the request failed.

These tests need real transaction ends, so they use an app of their own on a database of their
own, not the suite's rolled-back test transaction."""

import pytest
from sqlalchemy import event, func, select, text

from app import create_app
from app.extensions import db
from app.units.models import Unit
from tests.conftest import is_postgresql


def _unit(code: str) -> Unit:
    return Unit(code=code, kind="commune", name=f"Xã {code}", path=f"/{code}/", population=10)


@pytest.fixture
def probe(empty_database_url, monkeypatch):
    """An app with a few routes that read or write units, and a record of how each of its
    transactions ended."""
    monkeypatch.setenv("APP_ENV", "testing")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SEED_DEMO": False, "WTF_CSRF_ENABLED": False}
    )
    ends: list[str] = []

    @app.get("/_probe/read")
    def read():
        return str(db.session.scalar(select(func.count(Unit.id))))

    @app.post("/_probe/flush-then-refuse")
    def flush_then_refuse():
        db.session.add(_unit("FLUSHED"))
        db.session.flush()
        return "refused", 400

    @app.post("/_probe/change-then-refuse")
    def change_then_refuse():
        unit = db.session.scalar(select(Unit).where(Unit.code == "KEPT"))
        unit.name = "Changed but refused"  # not flushed: nothing reads after it
        return "refused", 400

    @app.post("/_probe/update-then-refuse")
    def update_then_refuse():
        db.session.execute(text("UPDATE units SET name = 'Updated but refused' WHERE code = 'KEPT'"))
        return "refused", 400

    @app.get("/_probe/read-then-fail")
    def read_then_fail():
        db.session.scalar(select(func.count(Unit.id)))
        raise RuntimeError("failed after reading")

    @app.post("/_probe/write-and-commit")
    def write_and_commit():
        db.session.add(_unit("COMMITTED"))
        db.session.commit()
        return "ok"

    with app.app_context():
        db.create_all()
        db.session.add(_unit("KEPT"))
        db.session.commit()
        event.listen(db.engine, "commit", lambda _connection: ends.append("commit"))
        event.listen(db.engine, "rollback", lambda _connection: ends.append("rollback"))
    app.ends = ends
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _stored(app) -> dict[str, str]:
    with app.app_context():
        names = dict(db.session.execute(select(Unit.code, Unit.name)).all())
        db.session.remove()
    return names


def test_a_request_that_only_read_ends_with_commit(probe):
    client = probe.test_client()
    probe.ends.clear()
    assert client.get("/_probe/read").get_data(as_text=True) == "1"
    assert probe.ends == ["commit"]


@pytest.mark.parametrize(
    "path",
    ["/_probe/flush-then-refuse", "/_probe/change-then-refuse", "/_probe/update-then-refuse"],
)
def test_a_request_that_wrote_without_committing_is_rolled_back(probe, path):
    client = probe.test_client()
    probe.ends.clear()
    assert client.post(path).status_code == 400
    assert probe.ends == ["rollback"]
    assert _stored(probe) == {"KEPT": "Xã KEPT"}


def test_a_request_that_failed_after_reading_is_rolled_back(probe):
    probe.config["PROPAGATE_EXCEPTIONS"] = False
    client = probe.test_client()
    probe.ends.clear()
    assert client.get("/_probe/read-then-fail").status_code == 500
    assert probe.ends == ["rollback"]


def test_a_committed_write_is_kept_and_the_next_read_commits_again(probe):
    client = probe.test_client()
    assert client.post("/_probe/write-and-commit").status_code == 200
    probe.ends.clear()
    assert client.get("/_probe/read").get_data(as_text=True) == "2"
    assert probe.ends == ["commit"]
    assert set(_stored(probe)) == {"KEPT", "COMMITTED"}


@pytest.mark.skipif(not is_postgresql(), reason="prepared statements are PostgreSQL's (SQLite has none to lose)")
def test_postgresql_keeps_the_prepared_statements_of_read_only_requests(probe):

    @probe.get("/_probe/prepared")
    def prepared():
        db.session.scalar(select(func.count(Unit.id)).where(Unit.kind == "commune"))
        return str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements")))

    client = probe.test_client()
    # psycopg prepares a statement on its fifth execution on a connection; one connection here.
    counts = [int(client.get("/_probe/prepared").get_data(as_text=True)) for _ in range(8)]
    assert counts[-1] >= 1, counts


def test_two_jobs_that_read_then_write_together_both_finish(probe):
    """Scheduled jobs run outside any request, each inside writing_work() (run_job). Two of them
    that read and then write at the same time (the in-process scheduler starts its jobs together)
    both finish: on SQLite each takes the write lock when it begins and the other waits, where a
    plain BEGIN let the second read a snapshot the first then changed, and its write failed at
    once ("database is locked")."""
    import threading
    import time

    from app.db import writing_work

    errors: list[str] = []

    def job(code: str, pause: float) -> None:
        with probe.app_context(), writing_work():
            try:
                count = db.session.scalar(select(func.count(Unit.id)))  # read first
                time.sleep(pause)
                db.session.add(_unit(f"{code}{count}"))
                db.session.commit()
            except Exception as error:  # what the test reports
                errors.append(f"{code}: {error}")
                db.session.rollback()
            finally:
                db.session.remove()

    first = threading.Thread(target=job, args=("A", 0.4))
    second = threading.Thread(target=job, args=("B", 0.6))
    first.start()
    time.sleep(0.1)
    second.start()
    first.join(10)
    second.join(10)
    assert errors == []
    with probe.app_context():
        added = list(db.session.scalars(select(Unit.code).where(Unit.code != "KEPT")))
        assert sorted(code[0] for code in added) == ["A", "B"]
        db.session.remove()
