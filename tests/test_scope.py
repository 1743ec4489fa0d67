"""The central rule from another commune's point of view, in pages and in the API."""

import pytest

from app import authz


@pytest.fixture
def people(make_user, units):
    return {
        "manager1": make_user("commune_manager", units["c1"], full_name="Quản lý Một"),
        "manager2": make_user("commune_manager", units["c2"], full_name="Quản lý Hai"),
        "resident1": make_user("resident", units["v1a"], full_name="Dân Một"),
        "resident2": make_user("resident", units["v2a"], full_name="Dân Hai"),
        "cadre2": make_user("cadre", units["c2"], full_name="Cán bộ Hai"),
        "tech1": make_user("tech_team", units["v1b"], full_name="Tổ Một"),
        "department": make_user("department_manager", units["province"], full_name="Sở"),
    }


def test_scope_root_is_the_commune_for_commune_roles(people, units):
    assert authz.scope_root(people["manager1"]) is units["c1"]
    assert authz.scope_root(people["tech1"]) is units["c1"]
    assert authz.scope_root(people["department"]) is None


def test_commune_manager_lists_only_their_commune(client, login_as, people):
    login_as(people["manager1"])
    html = client.get("/users/").get_data(as_text=True)
    assert "Dân Một" in html
    assert "Dân Hai" not in html
    assert "Cán bộ Hai" not in html


def test_commune_manager_gets_403_for_a_person_in_another_commune(client, login_as, people):
    login_as(people["manager1"])
    assert client.get(f"/users/{people['resident1'].id}").status_code == 200
    assert client.get(f"/users/{people['resident2'].id}").status_code == 403
    response = client.post(f"/users/{people['resident2'].id}/deactivate", data={})
    assert response.status_code == 403
    assert people["resident2"].active


def test_commune_manager_cannot_see_another_communes_units(client, login_as, people, units):
    login_as(people["manager1"])
    assert client.get("/units/C1").status_code == 200
    assert client.get("/units/C1A").status_code == 200
    assert client.get("/units/C2").status_code == 403
    assert client.get("/units/C2A").status_code == 403
    assert client.get("/units/P").status_code == 403


def test_department_manager_sees_the_whole_province(client, login_as, people):
    login_as(people["department"])
    html = client.get("/users/").get_data(as_text=True)
    assert "Dân Một" in html and "Dân Hai" in html
    assert client.get(f"/users/{people['resident2'].id}").status_code == 200
    # but does not manage accounts
    assert client.get("/users/new").status_code == 403


def test_tech_team_member_sees_residents_of_their_commune_only(client, login_as, people):
    login_as(people["tech1"])
    html = client.get("/users/").get_data(as_text=True)
    assert "Dân Một" in html
    assert "Dân Hai" not in html
    assert "Quản lý Một" not in html  # not a resident
    assert client.get(f"/users/{people['resident2'].id}").status_code == 403
    assert client.get(f"/users/{people['manager1'].id}").status_code == 403


@pytest.mark.parametrize("role", ["cadre", "resident"])
def test_cadres_and_residents_see_no_one_else(client, login_as, people, make_user, units, role):
    person = make_user(role, units["v1a"] if role == "resident" else units["c1"])
    login_as(person)
    assert client.get("/users/").status_code == 403
    assert client.get(f"/users/{people['resident1'].id}").status_code == 403
    assert client.get(f"/users/{person.id}").status_code == 200
    assert client.get("/audit/").status_code == 403


def test_api_units_are_scoped_for_a_commune_manager(client, api_token, people):
    headers = api_token(people["manager1"])
    own = client.get("/api/v1/units?parent=C1", headers=headers)
    assert own.status_code == 200
    assert {unit["code"] for unit in own.get_json()} == {"C1A", "C1B"}
    other = client.get("/api/v1/units?parent=C2", headers=headers)
    assert other.status_code == 403
    assert other.get_json()["error"]["code"] == "forbidden"
    province = client.get("/api/v1/units?parent=P", headers=headers)
    assert province.status_code == 403
    top = client.get("/api/v1/units", headers=headers)
    assert [unit["code"] for unit in top.get_json()] == ["C1"]


def test_api_units_for_a_department_manager_cover_the_province(client, api_token, people):
    headers = api_token(people["department"])
    response = client.get("/api/v1/units?parent=P", headers=headers)
    assert {unit["code"] for unit in response.get_json()} == {"C1", "C2"}
    top = client.get("/api/v1/units", headers=headers).get_json()
    assert top == [{"code": "P", "name": "Tỉnh Thử", "kind": "province", "parent_code": None, "population": None}]
