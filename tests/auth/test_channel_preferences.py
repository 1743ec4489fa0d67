"""A person's phone and the order of channels their messages go by: My account and
`PATCH /api/v1/me`, one operation behind both, refusing alike and writing nothing on a refusal."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from


@pytest.fixture
def person(make_user, units):
    return make_user("resident", units["v1a"], full_name="Resident", email="r@example.org")


def stored(db, user):
    db.session.expire_all()
    return user.phone, user.preferred_channels


def test_me_says_who_the_caller_is_with_phone_and_channels(client, person, api_token):
    answer = client.get("/api/v1/me", headers=api_token(person)).get_json()
    assert answer["id"] == person.id
    assert answer["phone"] is None
    assert answer["preferred_channels"] == []


def test_patch_me_sets_phone_and_order(client, db, person, api_token, make_user, units):
    other = make_user("resident", units["v1a"], phone="+84987654321", preferred_channels="sms")
    response = client.patch(
        "/api/v1/me",
        headers=api_token(person),
        json={"phone": "0912 345 678", "preferred_channels": ["zalo", "sms", "in_app"]},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["phone"] == "+84912345678"
    assert response.get_json()["preferred_channels"] == ["zalo", "sms", "in_app"]
    assert stored(db, person) == ("+84912345678", "zalo,sms,in_app")
    assert stored(db, other) == ("+84987654321", "sms")

    # Either key alone; [] goes back to the default.
    response = client.patch("/api/v1/me", headers=api_token(person), json={"preferred_channels": []})
    assert response.status_code == 200
    assert stored(db, person) == ("+84912345678", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preferred_channels": ["fax"]}, "preferred_channels"),
        ({"preferred_channels": ["sms", "sms"]}, "preferred_channels"),
        ({"preferred_channels": "zalo"}, "preferred_channels"),
        ({"preferred_channels": [1]}, "preferred_channels"),
        ({"preferred_channels": {"zalo": 1}}, "preferred_channels"),
        ({"phone": "not a number", "preferred_channels": ["in_app"]}, "phone"),
        ({"phone": 912345678}, "phone"),
        ({"phone": "0912 345 678", "preferred_channels": ["zalo", "fax"]}, "preferred_channels"),
        ({"preferred_channels": ["zalo"]}, "preferred_channels"),
    ],
)
def test_patch_me_refuses_bad_input_naming_the_field_and_writes_nothing(client, db, person, api_token, body, field):
    response = client.patch("/api/v1/me", headers=api_token(person), json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert stored(db, person) == (None, None)


def test_a_phone_in_use_by_the_channel_order_cannot_be_removed(client, db, person, api_token):
    headers = api_token(person)
    client.patch("/api/v1/me", headers=headers, json={"phone": "0912345678", "preferred_channels": ["sms"]})
    response = client.patch("/api/v1/me", headers=headers, json={"phone": None})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "phone"
    assert stored(db, person) == ("+84912345678", "sms")


def test_email_needs_an_address(client, db, make_user, units, api_token):
    no_email = make_user("resident", units["v1a"])
    response = client.patch("/api/v1/me", headers=api_token(no_email), json={"preferred_channels": ["email"]})
    assert response.status_code == 422
    assert stored(db, no_email) == (None, None)


def test_patch_me_needs_a_token(client):
    assert client.patch("/api/v1/me", json={"preferred_channels": []}).status_code == 401


def test_the_account_page_sets_the_order_with_its_csrf_token(app, client, db, person, login_as, monkeypatch):
    login_as(person)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="first"' in html and 'name="phone"' in html
    token = csrf_token_from(html)

    response = client.post(
        "/account/channels",
        data={"csrf_token": token, "phone": "0912.345.678", "first": "zalo", "second": "sms", "third": "in_app"},
    )
    assert response.status_code == 302
    assert stored(db, person) == ("+84912345678", "zalo,sms,in_app")
    html = client.get("/account").get_data(as_text=True)
    assert "0912 345 678" in html
    assert '<option selected value="zalo">' in html


def test_the_account_page_refuses_zalo_without_a_phone_and_a_post_without_csrf(
    app, client, db, person, login_as, monkeypatch
):
    login_as(person)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    response = client.post("/account/channels", data={"csrf_token": token, "phone": "", "first": "zalo"})
    assert response.status_code == 400
    assert "Zalo and SMS need a phone number" in response.get_data(as_text=True)
    response = client.post("/account/channels", data={"csrf_token": token, "phone": "12ab", "first": "sms"})
    assert response.status_code == 400
    assert "Enter the phone number as digits" in response.get_data(as_text=True)
    response = client.post(
        "/account/channels", data={"csrf_token": token, "phone": "0912345678", "first": "sms", "second": "sms"}
    )
    assert response.status_code == 400
    assert "Name each channel once" in response.get_data(as_text=True)
    response = client.post("/account/channels", data={"phone": "0912345678", "first": "sms"})
    assert response.status_code == 400
    assert stored(db, person) == (None, None)
