"""The residents-and-consents API: adding a resident on a legal basis with their consents,
recording and withdrawing a consent; scope, bad input, and nothing written on refusal."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.extensions import db
from app.outcomes.models import Resident
from app.outcomes.residents import add_resident
from app.privacy import consents
from app.privacy.models import PersonConsent
from app.privacy.purposes import NOTICE_VERSION
from app.privacy.subjects import subject_of_resident

PREFIX = "/api/v1"


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


def counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        db.session.scalar(db.select(db.func.count()).select_from(Resident)),
        db.session.scalar(db.select(db.func.count()).select_from(PersonConsent)),
    )


@pytest.fixture
def w(db, units, make_user, api_token):
    w = SimpleNamespace(units=units)
    w.member = make_user("tech_team", units["v1a"])
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.cadre = make_user("cadre", units["c1"])
    w.resident_user = make_user("resident", units["v1a"])
    w.lan = add_resident(w.member, village=units["v1a"], full_name="Nguyễn Thị Lan", legal_basis="state_task")
    db.session.commit()
    w.token = api_token
    return w


GOOD = {
    "unit_code": "C1A",
    "full_name": "  Đỗ   Văn Bảy ",
    "birth_year": 1955,
    "phone": "0912 345 678",
    "legal_basis": "state_task",
    "consents": [{"purpose": "messages", "channel": "paper"}, {"purpose": "progress_sharing", "channel": "assisted"}],
}


def test_a_member_adds_a_resident_with_the_basis_and_consents_recorded(client, w):
    response = client.post(f"{PREFIX}/residents", json=GOOD, headers=w.token(w.member))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    resident = db.session.get(Resident, body["id"])
    assert resident.full_name == "Đỗ Văn Bảy" and resident.unit.code == "C1A" and resident.birth_year == 1955
    decisions = {(c["purpose"], c["basis"], c["channel"]) for c in body["consents"]}
    assert decisions == {
        ("help_visits", "state_task", None),
        ("messages", "consent", "paper"),
        ("progress_sharing", "consent", "assisted"),
    }
    assert {c["notice_version"] for c in body["consents"]} == {NOTICE_VERSION}
    assert consents.has_consent(subject_of_resident(resident), "messages")


def test_the_page_and_the_api_refuse_the_same_missing_basis(client, w, login_as):
    before = counts()
    response = client.post(f"{PREFIX}/residents", json={**GOOD, "legal_basis": None}, headers=w.token(w.member))
    api_message = assert_error(response, 422, "legal_basis")["message"]
    login_as(w.member)
    form = {"village": "C1A", "full_name": "Đỗ Văn Bảy", "consent_channel": "assisted"}
    page = client.post("/outcomes/residents/new", data=form)
    assert page.status_code == 400 and api_message in page.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_basis": "contract"}, "legal_basis"),
        ({"legal_basis": "consent"}, "consents"),  # the record on consent needs the help-visits consent
        ({"consents": [{"purpose": "marketing", "channel": "paper"}]}, "purpose"),
        ({"consents": [{"purpose": "messages", "channel": "fax"}]}, "channel"),
        ({"consents": [{"purpose": "messages"}]}, "channel"),
        ({"consents": [{"purpose": "messages", "channel": "paper"}] * 2}, "consents"),
        ({"consents": "messages"}, "consents"),
        ({"consents": ["messages"]}, "consents"),
        ({"unit_code": "C1"}, "unit_code"),
        ({"unit_code": "NOPE"}, "unit_code"),
        ({"full_name": "   "}, "full_name"),
        ({"birth_year": 1850}, "birth_year"),
        ({"birth_year": "1950"}, "birth_year"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(client, w, changes, field):
    before = counts()
    response = client.post(f"{PREFIX}/residents", json={**GOOD, **changes}, headers=w.token(w.member))
    assert_error(response, 422, field)
    assert counts() == before


def test_only_members_and_managers_in_the_villages_area_add_residents(client, w):
    before = counts()
    for person in (w.manager_c2, w.cadre, w.resident_user):
        assert_error(client.post(f"{PREFIX}/residents", json=GOOD, headers=w.token(person)), 403)
    assert counts() == before
    assert client.post(f"{PREFIX}/residents", json=GOOD, headers=w.token(w.manager)).status_code == 201


def test_a_consent_is_recorded_once_and_withdrawn_through_the_api(client, w):
    url = f"{PREFIX}/residents/{w.lan.id}/consents"
    body = {"purpose": "messages", "basis": "consent", "channel": "online"}
    first = client.post(url, json=body, headers=w.token(w.manager))
    assert first.status_code == 201 and first.get_json()["active"] is True
    again = client.post(url, json=body, headers=w.token(w.manager))
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]

    withdrawn = client.delete(f"{url}/messages", headers=w.token(w.member))
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["active"] is False and withdrawn.get_json()["withdrawn_at"]
    assert not consents.has_consent(subject_of_resident(w.lan), "messages")
    assert_error(client.delete(f"{url}/messages", headers=w.token(w.member)), 404)
    # The record's basis is a state task, not a consent: nothing to withdraw.
    assert_error(client.delete(f"{url}/help_visits", headers=w.token(w.member)), 404)
    assert_error(client.delete(f"{url}/nonsense", headers=w.token(w.member)), 422, "purpose")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "marketing", "channel": "online"}, "purpose"),
        ({"purpose": "messages", "basis": "whim", "channel": "online"}, "basis"),
        ({"purpose": "messages", "basis": "consent", "channel": "fax"}, "channel"),
        ({"purpose": "messages", "basis": "consent"}, "channel"),
        ({"purpose": 7}, "purpose"),
    ],
)
def test_a_bad_consent_is_refused_and_nothing_is_written(client, w, body, field):
    before = counts()
    response = client.post(f"{PREFIX}/residents/{w.lan.id}/consents", json=body, headers=w.token(w.manager))
    assert_error(response, 422, field)
    assert counts() == before


def test_another_communes_resident_is_refused_and_unknown_is_404(client, w):
    client.post(
        f"{PREFIX}/residents/{w.lan.id}/consents",
        json={"purpose": "messages", "channel": "paper"},
        headers=w.token(w.member),
    )
    before = counts()
    url = f"{PREFIX}/residents/{w.lan.id}/consents"
    for person in (w.manager_c2, w.cadre):
        assert_error(
            client.post(url, json={"purpose": "progress_sharing", "channel": "paper"}, headers=w.token(person)), 403
        )
        assert_error(client.delete(f"{url}/messages", headers=w.token(person)), 403)
    assert counts() == before
    assert consents.has_consent(subject_of_resident(w.lan), "messages")
    assert_error(client.delete(f"{PREFIX}/residents/999999/consents/messages", headers=w.token(w.manager)), 404)
