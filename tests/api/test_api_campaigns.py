"""GET /api/v1/campaigns/<id>/walk-list: a member's own list, any list for the commune's manager,
and the refusals (another commune, another member's list, unknown campaign, bad member_id)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import local_today
from app.extensions import db
from app.outcomes import campaigns, operations
from app.outcomes.models import WalkListEntry
from app.outcomes.residents import import_households
from app.visits.models import Team, TeamMember

HEADER = "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


@pytest.fixture
def w(db, units, make_user, api_token):
    """Commune C1 with a team of two and a campaign over six households (two residents in
    household A0); commune C2 with its own manager and member."""
    w = SimpleNamespace(units=units)
    w.member = make_user("tech_team", units["v1a"], full_name="Nguyễn Thị Hằng")
    w.colleague = make_user("tech_team", units["v1b"], full_name="Trần Văn Đức")
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.member_c2 = make_user("tech_team", units["v2a"])
    w.department = make_user("department_manager", units["province"])
    w.cadre = make_user("cadre", units["c1"])
    db.session.add_all(
        [
            Team(
                unit_id=units["c1"].id,
                name="Tổ C1",
                members=[TeamMember(user_id=w.member.id, skills=["eid"]), TeamMember(user_id=w.colleague.id)],
            ),
            Team(unit_id=units["c2"].id, name="Tổ C2", members=[TeamMember(user_id=w.member_c2.id)]),
        ]
    )
    rows = [f"C1A,A{i},Số {i} xóm Đông,RA{i},Nguyễn Văn A{i},1960," for i in range(4)]
    rows += ["C1A,A0,Số 0 xóm Đông,RA9,Lê Thị Vợ,1962,"]
    rows += [f"C1B,B{i},Số {i} xóm Tây,RB{i},Trần Thị B{i},1970," for i in range(2)]
    import_households(
        w.manager, units["c1"], "c1.csv", (HEADER + "\n".join(rows) + "\n").encode(), legal_basis="state_task"
    )
    operations.ensure_default_milestones()
    today = local_today()
    w.campaign = campaigns.create_campaign(
        w.manager,
        name="Kích hoạt VNeID",
        milestone=operations.get_milestone("eid_activated"),
        commune=units["c1"],
        village_codes=["C1A", "C1B"],
        starts_on=today,
        ends_on=today + timedelta(days=30),
    )
    db.session.flush()
    w.url = f"/api/v1/campaigns/{w.campaign.id}/walk-list"
    w.token = api_token
    return w


def entries_of(campaign, member_id=None) -> list[WalkListEntry]:
    query = db.select(WalkListEntry).where(WalkListEntry.campaign_id == campaign.id)
    if member_id is not None:
        query = query.where(WalkListEntry.member_id == member_id)
    return list(db.session.scalars(query))


def test_a_member_gets_their_own_walk_list(w, client):
    headers = w.token(w.member)
    response = client.get(w.url, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["campaign"]["id"] == w.campaign.id
    assert body["campaign"]["name"] == "Kích hoạt VNeID"
    assert body["campaign"]["milestone"] == "eid_activated"
    assert body["campaign"]["villages"] == ["C1A", "C1B"]
    mine = entries_of(w.campaign, w.member.id)
    assert sorted(e["household_id"] for e in body["entries"]) == sorted(e.household_id for e in mine)
    assert {e["member_id"] for e in body["entries"]} == {w.member.id}
    for entry in body["entries"]:
        assert set(entry) >= {
            "household_id",
            "household_code",
            "address",
            "village",
            "member_id",
            "status",
            "residents",
        }
        assert entry["status"] == "pending"
        assert entry["village"] in ("C1A", "C1B")
        assert all(set(r) >= {"id", "name"} for r in entry["residents"])
    assert client.get(f"{w.url}?member_id={w.member.id}", headers=headers).get_json() == body


def test_every_household_is_on_exactly_one_list(w, client):
    body = client.get(w.url, headers=w.token(w.manager)).get_json()
    codes = [e["household_code"] for e in body["entries"]]
    assert sorted(codes) == ["A0", "A1", "A2", "A3", "B0", "B1"]
    [a0] = [e for e in body["entries"] if e["household_code"] == "A0"]
    assert [r["name"] for r in a0["residents"]] == ["Nguyễn Văn A0", "Lê Thị Vợ"]
    assert {e["member_id"] for e in body["entries"]} == {w.member.id, w.colleague.id}
    colleague = client.get(f"{w.url}?member_id={w.colleague.id}", headers=w.token(w.manager)).get_json()
    assert {e["member_id"] for e in colleague["entries"]} == {w.colleague.id}
    assert len(colleague["entries"]) == 3
    department = client.get(w.url, headers=w.token(w.department)).get_json()
    assert len(department["entries"]) == 6


def test_a_member_may_not_fetch_another_members_list(w, client):
    assert_error(client.get(f"{w.url}?member_id={w.colleague.id}", headers=w.token(w.member)), 403)
    assert_error(client.get(f"{w.url}?member_id=999999", headers=w.token(w.member)), 403)


def test_another_communes_people_are_refused(w, client):
    for person in (w.manager_c2, w.member_c2):
        headers = w.token(person)
        assert_error(client.get(w.url, headers=headers), 403)
        assert_error(client.get(f"{w.url}?member_id={w.member.id}", headers=headers), 403)
    assert_error(client.get(w.url, headers=w.token(w.cadre)), 403)


def test_an_unknown_campaign_is_404_and_a_missing_token_401(w, client):
    headers = w.token(w.manager)
    assert_error(client.get("/api/v1/campaigns/999999/walk-list", headers=headers), 404)
    assert_error(client.get("/api/v1/campaigns/99999999999/walk-list", headers=headers), 404)
    assert client.get(w.url).status_code == 401


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "99999999999", "%00"])
def test_a_bad_member_id_is_422(w, client, value):
    assert_error(client.get(f"{w.url}?member_id={value}", headers=w.token(w.manager)), 422, "member_id")


def test_a_member_id_that_is_nobody_is_422_for_a_manager(w, client):
    assert_error(client.get(f"{w.url}?member_id=999999", headers=w.token(w.manager)), 422, "member_id")
