"""Phone numbers, done once: every form, import and API field reads a number the same way, stores
it in E.164 and shows it in the local format; anything that is not a phone number is refused on
its field and nothing is written."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.db import utcnow
from app.exceptions import Invalid
from app.extensions import db
from app.outcomes.models import Resident
from app.phones import local_format, normalise_phone
from app.privacy.minimise import masked_phone
from app.visits.models import HelpRequest

NOT_A_PHONE = "abc-khong-phai-so"
MESSAGE = "Enter the phone number as digits, for example 0912 345 678."


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- the normaliser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0912-345-678", "+84912345678"),
        ("  0912345678  ", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("024 3826 1234", "+842438261234"),  # a landline in Hà Nội
        ("+44 20 7946 0958", "+442079460958"),  # a foreign number with its prefix
        ("+1 202 555 0143", "+12025550143"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_number_typed_any_usual_way_is_stored_in_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [NOT_A_PHONE, "call me", "0912", "12345", "0912 345 678 9999", "+84 12", "1-800-FLOWERS", "0912 345 67x", "9" * 40],
)
def test_anything_else_is_refused_on_the_field_named(typed):
    with pytest.raises(Invalid) as refused:
        normalise_phone(typed, field="contact_phone")
    assert refused.value.field == "contact_phone"
    assert "0912 345 678" in refused.value.message  # an example, in the language in force


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+84912345678", "0912 345 678"),
        ("+842438261234", "024 3826 1234"),
        ("+442079460958", "+44 20 7946 0958"),
        ("0912 345 678", "0912 345 678"),  # old data, still readable
        ("gọi sau 5 giờ", "gọi sau 5 giờ"),  # old data that is no number: shown as it is
        (None, ""),
        ("", ""),
    ],
)
def test_a_stored_number_is_shown_in_the_local_format(stored, shown):
    assert local_format(stored) == shown


def test_a_masked_number_still_shows_the_last_digits_of_an_e164_number():
    assert masked_phone("+84912345678") == masked_phone("0912 345 678") == "•••• ••• 678"


# --- through the app -----------------------------------------------------------------------


@pytest.fixture
def w(db, units, make_user, api_token):
    w = SimpleNamespace(units=units, token=api_token)
    w.admin = make_user("admin", units["province"])
    w.manager = make_user("commune_manager", units["c1"])
    w.member = make_user("tech_team", units["v1a"])
    w.cadre = make_user("cadre", units["c1"])
    w.resident = make_user("resident", units["v1a"], full_name="Bà Năm Mười")
    db.session.commit()
    return w


def test_the_help_request_page_refuses_a_non_number_on_the_field_and_stores_a_number_in_e164(client, login_as, w):
    login_as(w.resident)
    base = {"name": "Bà Năm Mười", "skill": "eid", "place": "Số 5, ngõ 2", "consent": "y"}

    refused = client.post("/visits/requests/new", data={**base, "phone": NOT_A_PHONE})
    assert refused.status_code == 400
    assert MESSAGE in refused.get_data(as_text=True)
    assert count(HelpRequest) == 0

    filed = client.post("/visits/requests/new", data={**base, "phone": "0912.345.678"})
    assert filed.status_code == 302
    help_request = db.session.scalar(db.select(HelpRequest))
    assert help_request.phone == "+84912345678"
    assert "0912 345 678" in client.get(filed.headers["Location"]).get_data(as_text=True)


def test_the_help_request_api_refuses_a_non_number_with_422_on_the_field(client, w):
    payload = {"skill": "eid", "unit_code": "C1A", "place": "Nhà văn hoá", "name": "Bà Tư", "consent": True}
    response = client.post("/api/v1/help-requests", json={**payload, "phone": NOT_A_PHONE}, headers=w.token(w.cadre))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "phone"
    assert response.get_json()["error"]["message"] == MESSAGE
    assert count(HelpRequest) == 0

    response = client.post(
        "/api/v1/help-requests", json={**payload, "phone": "+84 912 345 678"}, headers=w.token(w.cadre)
    )
    assert response.status_code == 201
    assert db.session.get(HelpRequest, response.get_json()["id"]).phone == "+84912345678"


def test_the_account_form_refuses_a_non_number_and_stores_a_number_in_e164(client, login_as, w):
    login_as(w.admin)
    data = {"username": "thu.ha", "full_name": "Trần Thu Hà", "role": "cadre", "unit": "C1"}

    refused = client.post("/users/new", data={**data, "phone": NOT_A_PHONE})
    assert refused.status_code == 400
    assert MESSAGE in refused.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.username == "thu.ha")) is None

    assert client.post("/users/new", data={**data, "phone": "0912 345 678"}).status_code == 200
    person = db.session.scalar(db.select(User).where(User.username == "thu.ha"))
    assert person.phone == "+84912345678"
    shown = client.get(f"/users/{person.id}").get_data(as_text=True)
    assert "0912 345 678" in shown


def test_the_resident_api_stores_e164_and_the_resident_page_shows_the_local_format(client, login_as, w):
    good = {"unit_code": "C1A", "full_name": "Đỗ Văn Bảy", "legal_basis": "state_task", "phone": "84912345678"}
    refused = client.post("/api/v1/residents", json={**good, "phone": NOT_A_PHONE}, headers=w.token(w.member))
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "phone"
    assert count(Resident) == 0

    response = client.post("/api/v1/residents", json=good, headers=w.token(w.member))
    assert response.status_code == 201, response.get_json()
    resident = db.session.get(Resident, response.get_json()["id"])
    assert resident.phone == "+84912345678"

    login_as(w.member)
    page = client.get(f"/outcomes/residents/{resident.id}").get_data(as_text=True)
    assert '<a href="tel:+84912345678">0912 345 678</a>' in page


def test_the_resident_page_form_refuses_a_non_number(client, login_as, w):
    login_as(w.member)
    form = {
        "village": "C1A",
        "full_name": "Đỗ Văn Bảy",
        "legal_basis": "state_task",
        "consent_channel": "assisted",
        "phone": NOT_A_PHONE,
    }
    response = client.post("/outcomes/residents/new", data=form)
    assert response.status_code == 400
    assert MESSAGE in response.get_data(as_text=True)
    assert count(Resident) == 0


def test_a_bad_phone_in_the_household_import_is_a_problem_of_its_row(client, w):
    row = {
        "village_code": "C1A",
        "household_code": "H-01",
        "address": "Số 3 xóm Đông",
        "resident_code": "R-01",
        "full_name": "Trần Thị Mơ",
        "birth_year": 1948,
        "phone": "0912 345 601",
    }
    rows = [row, {**row, "resident_code": "R-02", "full_name": "Trần Văn Hải", "phone": NOT_A_PHONE}]
    body = {"commune_code": "C1", "legal_basis": "state_task", "rows": rows}
    response = client.post("/api/v1/households/import", json=body, headers=w.token(w.manager))
    assert response.status_code == 422
    problems = response.get_json()["error"]["problems"]
    assert [problem["row"] for problem in problems] == [2]
    assert NOT_A_PHONE in problems[0]["message"]
    assert count(Resident) == 0

    response = client.post("/api/v1/households/import", json={**body, "rows": rows[:1]}, headers=w.token(w.manager))
    assert response.status_code == 200
    assert db.session.scalar(db.select(Resident.phone)) == "+84912345601"


# --- the migration -------------------------------------------------------------------------


def test_the_migration_rewrites_readable_stored_numbers_in_e164_and_leaves_others(empty_database_url, monkeypatch):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    monkeypatch.setenv("APP_ENV", "testing")
    migrated = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url})
    # The rows are written with the columns of 0010's schema: the models describe the latest one.
    units = sa.table("units", *(sa.column(name) for name in ("id", "code", "kind", "name", "path", "is_demo")))
    users = sa.table(
        "users",
        *(sa.column(name) for name in ("id", "username", "full_name", "role", "unit_id", "password_hash", "phone")),
        *(sa.column(name) for name in ("active", "must_change_password", "session_epoch", "created_at")),
    )
    residents = sa.table(
        "residents", *(sa.column(name) for name in ("id", "unit_id", "full_name", "phone", "created_at"))
    )
    phones = ["0912 345 678", "84987654321", "gọi sau 5 giờ", None]
    with migrated.app_context():
        upgrade(revision="0010_erasure")
        db.session.execute(
            sa.insert(units).values(id=1, code="C9", kind="commune", name="Xã Chín", path="/C9/", is_demo=False)
        )
        db.session.execute(
            sa.insert(users),
            [
                {
                    "id": n + 1,
                    "username": f"u{n}",
                    "full_name": "X",
                    "role": "cadre",
                    "unit_id": 1,
                    "password_hash": "!",
                    "phone": phone,
                    "active": True,
                    "must_change_password": False,
                    "session_epoch": 0,
                    "created_at": utcnow(),
                }
                for n, phone in enumerate(phones)
            ],
        )
        db.session.execute(
            sa.insert(residents).values(id=1, unit_id=1, full_name="Y", phone="0912.345.601", created_at=utcnow())
        )
        db.session.commit()

        upgrade()
        db.session.expire_all()
        stored = db.session.execute(sa.select(users.c.phone).order_by(users.c.id)).scalars().all()
        assert stored == ["+84912345678", "+84987654321", "gọi sau 5 giờ", None]
        assert db.session.scalar(sa.select(residents.c.phone)) == "+84912345601"

        db.session.rollback()  # end the read: the downgrade alters these tables
        downgrade(revision="0010_erasure")  # nothing to undo: the numbers stay as they are
        assert db.session.scalar(sa.select(residents.c.phone)) == "+84912345601"
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
