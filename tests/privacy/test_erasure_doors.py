"""The erasure through its two doors, the API and the pages: who may, what they answer, and the
erased person answering 404 and appearing in no list or search afterwards."""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.outcomes.models import Resident
from app.privacy.models import Erasure

REASON = "The person asked for erasure at the commune office."


def erasure_count(db) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Erasure))


def assert_untouched(db, lan):
    db.session.expire_all()
    assert db.session.get(Resident, lan.resident.id).full_name == lan.values.full_name
    assert db.session.get(User, lan.account.id).erased_at is None
    assert erasure_count(db) == 0


# --- API ----------------------------------------------------------------------------------


def test_api_erasure_answers_what_was_erased_and_kept_then_the_resident_is_gone(db, lan, client, api_token):
    headers = api_token(lan.manager)
    url = f"/api/v1/residents/{lan.resident.id}/erasure"
    response = client.post(url, json={"reason": REASON}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"table", "what"} <= set(body["erased"][0])
    assert body["kept"] and all(set(item) == {"what", "why"} for item in body["kept"])

    # 404 on every door, in no list.
    assert client.post(url, json={"reason": REASON}, headers=headers).status_code == 404
    milestone = client.post(
        f"/api/v1/residents/{lan.resident.id}/milestones",
        json={"milestone": "eid_installed", "date": "2026-01-05", "confirmed_by": "document"},
        headers=headers,
    )
    assert milestone.status_code == 404
    assert client.get(f"/api/v1/residents/{lan.resident.id}/personal-data", headers=headers).status_code == 404
    listed = client.get("/api/v1/residents?unit=C1", headers=headers).get_json()["items"]
    assert lan.resident.id not in [item["id"] for item in listed]
    assert lan.values.full_name not in client.get("/api/v1/residents?unit=C1", headers=headers).get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("manager_c2", {"reason": REASON}, 403),
        ("member", {"reason": REASON}, 403),
        ("manager", {}, 422),
        ("manager", {"reason": "  "}, 422),
        ("manager", {"reason": ["x"]}, 422),
    ],
)
def test_api_erasure_refusals_write_nothing(db, lan, client, api_token, make_user, units, who, body, status):
    people = {
        "manager": lan.manager,
        "member": lan.member,
        "manager_c2": make_user("commune_manager", units["c2"], username="managerc2"),
    }
    response = client.post(f"/api/v1/residents/{lan.resident.id}/erasure", json=body, headers=api_token(people[who]))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] in ("forbidden", "invalid")
    assert_untouched(db, lan)


def test_api_erasure_of_an_unknown_resident_is_404(db, lan, client, api_token):
    for resident_id in (999999, 2**31):
        response = client.post(
            f"/api/v1/residents/{resident_id}/erasure", json={"reason": REASON}, headers=api_token(lan.manager)
        )
        assert response.status_code == 404


# --- pages --------------------------------------------------------------------------------


def test_the_resident_page_links_to_erasure_for_those_who_may(db, lan, client, login_as):
    link = f"/privacy/residents/{lan.resident.id}/erase"
    login_as(lan.manager)
    assert link in client.get(f"/outcomes/residents/{lan.resident.id}").get_data(as_text=True)
    client.post("/logout")
    login_as(lan.member)
    page = client.get(f"/outcomes/residents/{lan.resident.id}")
    assert page.status_code == 200 and link not in page.get_data(as_text=True)
    assert client.get(link).status_code == 403


def test_erasing_a_resident_through_the_page(db, lan, client, login_as):
    login_as(lan.manager)
    url = f"/privacy/residents/{lan.resident.id}/erase"
    page = client.get(url)
    assert page.status_code == 200 and lan.values.full_name in page.get_data(as_text=True)
    # Not confirmed, or no reason: refused, nothing written.
    assert client.post(url, data={"reason": REASON}).status_code == 400
    assert client.post(url, data={"reason": "", "confirm": "y"}).status_code == 400
    assert_untouched(db, lan)

    done = client.post(url, data={"reason": REASON, "confirm": "y"})
    assert done.status_code == 200
    assert "The data has been erased" in done.get_data(as_text=True)
    assert client.get(f"/outcomes/residents/{lan.resident.id}").status_code == 404
    assert client.get(f"/privacy/residents/{lan.resident.id}").status_code == 404
    assert client.get(f"/privacy/residents/{lan.resident.id}.json").status_code == 404
    assert client.get(url).status_code == 404
    listing = client.get("/outcomes/residents?q=Nguy").get_data(as_text=True)
    assert lan.values.full_name not in listing
    assert client.get(f"/users/{lan.account.id}").status_code == 404
    assert lan.values.full_name not in client.get("/users/?q=Nguy").get_data(as_text=True)


def test_another_communes_manager_may_not_open_the_erasure_page(db, lan, client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c2"], username="managerc2"))
    assert client.get(f"/privacy/residents/{lan.resident.id}/erase").status_code == 403
    assert (
        client.post(f"/privacy/residents/{lan.resident.id}/erase", data={"reason": REASON, "confirm": "y"}).status_code
        == 403
    )
    assert client.get(f"/privacy/accounts/{lan.account.id}/erase").status_code == 403
    assert_untouched(db, lan)


def test_erasing_an_account_through_the_page(db, lan, client, login_as):
    login_as(lan.manager)
    assert f"/privacy/accounts/{lan.account.id}/erase" in client.get(f"/users/{lan.account.id}").get_data(as_text=True)
    done = client.post(f"/privacy/accounts/{lan.account.id}/erase", data={"reason": REASON, "confirm": "y"})
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, lan.account.id).erased_at is not None
    # The account's resident record goes with it.
    assert db.session.get(Resident, lan.resident.id).erased_at is not None


def test_a_manager_may_not_erase_an_account_above_them(db, lan, client, login_as, make_user, units):
    other_manager = make_user("commune_manager", units["c1"], username="managerc1b")
    login_as(lan.manager)
    assert client.get(f"/privacy/accounts/{other_manager.id}/erase").status_code == 403
    assert client.get(f"/privacy/accounts/{lan.admin.id}/erase").status_code == 403


def test_the_last_administrator_erasing_themselves_is_refused_on_the_page(db, lan, client, login_as):
    login_as(lan.admin)
    response = client.post(f"/privacy/accounts/{lan.admin.id}/erase", data={"reason": REASON, "confirm": "y"})
    assert response.status_code == 409
    assert "last administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, lan.admin.id).erased_at is None


def test_the_officer_sees_the_ledger_and_no_one_else(db, lan, client, login_as):
    login_as(lan.manager)
    assert client.get("/privacy/erasures").status_code == 403
    client.post(f"/privacy/residents/{lan.resident.id}/erase", data={"reason": REASON, "confirm": "y"})
    client.post("/logout")
    login_as(lan.admin)
    assert "/privacy/erasures" in client.get("/privacy/register").get_data(as_text=True)
    page = client.get("/privacy/erasures")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert REASON in text and f"resident {lan.resident.id}" in text and lan.manager.full_name in text
    assert lan.values.full_name not in text


def test_an_erasure_request_is_answered_by_the_erasure_it_leads_to(db, lan, client, login_as):
    from app.privacy import requests
    from app.privacy.models import PersonRequest

    other = requests.file_request("access", filed_by=lan.member, resident=lan.resident)
    asked = requests.file_request("erasure", filed_by=lan.member, resident=lan.resident)
    db.session.flush()
    login_as(lan.manager)
    request_page = client.get(f"/privacy/requests/{asked.id}").get_data(as_text=True)
    url = f"/privacy/residents/{lan.resident.id}/erase?request={asked.id}"
    assert url.replace("&", "&amp;") in request_page or url in request_page

    # The erasure must answer an open erasure request about this person: an access request is not one.
    wrong = client.post(
        f"/privacy/residents/{lan.resident.id}/erase?request={other.id}", data={"reason": REASON, "confirm": "y"}
    )
    assert wrong.status_code == 400
    assert "not an open erasure request" in wrong.get_data(as_text=True)
    assert_untouched(db, lan)

    assert client.post(url, data={"reason": REASON, "confirm": "y"}).status_code == 200
    db.session.expire_all()
    answered = db.session.get(PersonRequest, asked.id)
    assert answered.closed_at is not None and answered.outcome == "done"
    assert db.session.get(PersonRequest, other.id).closed_at is None
    ledger = db.session.scalar(db.select(Erasure))
    assert ledger.request_id == asked.id


def test_an_erasure_request_is_not_closed_as_done_without_the_erasure(db, lan, client, login_as):
    from app.privacy import requests
    from app.privacy.models import PersonRequest

    asked = requests.file_request("erasure", filed_by=lan.member, resident=lan.resident)
    db.session.commit()
    login_as(lan.manager)
    listing = client.get("/privacy/requests").get_data(as_text=True)
    assert f"/privacy/requests/{asked.id}/close" not in listing  # no one-click "done" for an erasure

    response = client.post(f"/privacy/requests/{asked.id}/close", data={"outcome": "done"})
    assert response.status_code in (400, 409)
    assert "Erase the person" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PersonRequest, asked.id).closed_at is None
    assert_untouched(db, lan)

    # Refusing it, with the reason, stays possible.
    refused = client.post(f"/privacy/requests/{asked.id}/close", data={"outcome": "refused", "note": "Kept by law."})
    assert refused.status_code in (200, 302)
    db.session.expire_all()
    assert db.session.get(PersonRequest, asked.id).outcome == "refused"
