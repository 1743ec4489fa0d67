"""Importing a commune's households and residents through the API: the same operation as the
import page, refused without a legal basis, all or nothing, and only in the caller's commune."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.outcomes.models import Household, Resident
from app.privacy.models import PersonConsent

URL = "/api/v1/households/import"
ROWS = [
    {
        "village_code": "C1A",
        "household_code": "H-01",
        "address": "Số 3 xóm Đông",
        "resident_code": "R-01",
        "full_name": "Trần Thị Mơ",
        "birth_year": 1948,
        "phone": "0912 345 601",
    },
    {
        "village_code": "C1A",
        "household_code": "H-01",
        "address": "Số 3 xóm Đông",
        "resident_code": "R-02",
        "full_name": "Trần Văn Hải",
        "birth_year": "1975",
        "phone": None,
    },
]


def counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(db.select(db.func.count()).select_from(model))
        for model in (Household, Resident, PersonConsent)
    )


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if field:
        assert error.get("field") == field, error
    return error


@pytest.fixture
def manager(db, units, make_user):
    person = make_user("commune_manager", units["c1"])
    db.session.commit()
    return person


def test_a_list_stated_on_a_legal_basis_is_imported_and_the_basis_recorded(client, manager, api_token):
    body = {"commune_code": "C1", "legal_basis": "state_task", "rows": ROWS}
    response = client.post(URL, json=body, headers=api_token(manager))

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "households_created": 1,
        "households_updated": 0,
        "residents_created": 2,
        "residents_updated": 0,
    }
    people = db.session.scalars(db.select(Resident).order_by(Resident.code)).all()
    assert [(p.full_name, p.birth_year, p.phone) for p in people] == [
        ("Trần Thị Mơ", 1948, "+84912345601"),
        ("Trần Văn Hải", 1975, None),
    ]
    bases = db.session.scalars(db.select(PersonConsent).where(PersonConsent.resident_id == people[0].id)).all()
    assert bases and {row.basis for row in bases} == {"state_task"}

    # The same list again updates instead of adding.
    again = client.post(URL, json=body, headers=api_token(manager)).get_json()
    assert again["residents_updated"] == 2 and again["residents_created"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legal_basis": None}, "legal_basis"),
        ({"legal_basis": "because"}, "legal_basis"),
        ({"legal_basis": "consent", "consents": [{"purpose": "help_visits", "channel": "paper"}]}, "evidence"),
        ({"commune_code": "C1A"}, "commune_code"),
        ({"consents": "all"}, "consents"),
        ({"rows": "R-01,Trần Thị Mơ"}, "rows"),
        ({"rows": []}, "rows"),
    ],
)
def test_a_list_without_what_the_law_asks_or_in_a_bad_shape_is_refused_whole(client, manager, api_token, change, field):
    before = counts()
    body = {"commune_code": "C1", "legal_basis": "state_task", "rows": ROWS, **change}
    body = {key: value for key, value in body.items() if value is not None}

    refused(client.post(URL, json=body, headers=api_token(manager)), 422, field)
    assert counts() == before


def test_each_bad_row_is_named_and_nothing_is_written(client, manager, api_token):
    before = counts()
    rows = [ROWS[0], {**ROWS[1], "full_name": ""}, {**ROWS[1], "resident_code": "R-03", "village_code": "NOWHERE"}]
    error = refused(
        client.post(
            URL, json={"commune_code": "C1", "legal_basis": "state_task", "rows": rows}, headers=api_token(manager)
        ),
        422,
        "rows",
    )

    assert [problem["row"] for problem in error["problems"]] == [2, 3]
    assert all(problem["message"] for problem in error["problems"])
    assert counts() == before


def test_only_whoever_imports_for_the_commune_may(client, db, units, make_user, api_token):
    member = make_user("tech_team", units["c1"])
    other_manager = make_user("commune_manager", units["c2"])
    db.session.commit()
    before = counts()
    body = {"commune_code": "C1", "legal_basis": "state_task", "rows": ROWS}

    refused(client.post(URL, json=body, headers=api_token(member)), 403)
    refused(client.post(URL, json=body, headers=api_token(other_manager)), 403)
    assert client.post(URL, json=body).status_code == 401
    assert counts() == before
