"""How a request's reads reach the database: once it has answered, in a transaction of their own;
not at all when it was refused. These need real transaction ends, so they use an app of their own
on a database of their own (as tests/test_transactions.py does)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.auth.models import User
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.access_log import record_read
from app.privacy.models import PersonalDataRead
from app.units.models import Unit


@pytest.fixture
def probe(empty_database_url, monkeypatch):
    monkeypatch.setenv("APP_ENV", "testing")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url, "SEED_DEMO": False, "WTF_CSRF_ENABLED": False}
    )
    other_writer = create_engine(empty_database_url)

    def show_then(status: int):
        """Read the residents, let another connection commit a write meanwhile, log the read."""
        reader = db.session.scalar(select(User))
        residents = list(db.session.scalars(select(Resident)))
        with other_writer.begin() as connection:
            connection.execute(text("UPDATE units SET name = name || '.'"))
        record_read(reader, residents=residents, kind="list")
        return "shown", status

    app.add_url_rule("/_probe/show", "probe_show", lambda: show_then(200))
    app.add_url_rule("/_probe/show-then-refuse", "probe_refuse", lambda: show_then(403))

    with app.app_context():
        db.create_all()
        unit = Unit(code="V", kind="village", name="Thôn V", path="/V/", population=10)
        db.session.add(unit)
        db.session.flush()
        db.session.add(User(username="reader", full_name="Người đọc", role="tech_team", unit=unit, password_hash="x"))
        db.session.add_all(Resident(unit_id=unit.id, full_name=f"Cư dân {n}") for n in range(3))
        db.session.commit()
    yield app
    other_writer.dispose()
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _reads(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(PersonalDataRead.id)))
        db.session.remove()
        return count


def test_a_page_that_read_while_another_request_wrote_still_logs_its_reads(probe):
    response = probe.test_client().get("/_probe/show")
    assert response.status_code == 200
    assert _reads(probe) == 3


def test_a_refused_request_logs_nothing(probe):
    assert probe.test_client().get("/_probe/show-then-refuse").status_code == 403
    assert _reads(probe) == 0
