"""Accounts keep what they hold: the edit page shows the stored unit (so saving a new phone number
moves nobody), an account made with an initial password works, and each role lives only at the
unit levels that fit it — whatever door creates or changes the account."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.extensions import db
from tests.form_support import form_to


def selected_unit(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="unit".*?</select>', html, re.S).group(0)
    return re.findall(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select)


def test_the_edit_page_shows_the_persons_village_and_a_new_phone_moves_nobody(client, login_as, make_user, units):
    manager = make_user("commune_manager", units["c1"])
    person = make_user("tech_team", units["v1b"], full_name="Trần Văn Kỹ", phone="0912 000 111")
    epoch = person.session_epoch
    login_as(manager)
    html = client.get(f"/users/{person.id}").get_data(as_text=True)
    assert [value for pair in selected_unit(html) for value in pair if value] == ["C1B"]

    form = form_to(html, f"/users/{person.id}", f"/users/{person.id}")
    data = MultiDict(form.fields)
    data["phone"] = "0987 654 321"
    response = client.post(f"/users/{person.id}", data=data)

    assert response.status_code == 302
    assert person.phone == "+84987654321"
    assert person.unit.code == "C1B"
    assert person.session_epoch == epoch  # not signed out anywhere


def test_an_account_made_with_an_initial_password_signs_in_with_it(app, client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    response = client.post(
        "/users/new",
        data={
            "username": "lan.nt",
            "full_name": "Nguyễn Thị Lan",
            "role": "cadre",
            "unit": "C1",
            "password": "mua thu la vang roi",
        },
    )
    assert response.status_code == 302
    person = db.session.scalar(db.select(User).where(User.username == "lan.nt"))
    assert response.headers["Location"].endswith(f"/users/{person.id}")
    assert not person.must_change_password
    browser = app.test_client()
    assert browser.post("/login", data={"username": "lan.nt", "password": "mua thu la vang roi"}).status_code == 302


def test_an_initial_password_that_is_too_easy_is_explained(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    response = client.post(
        "/users/new",
        data={"username": "lan.nt", "full_name": "Nguyễn Thị Lan", "role": "cadre", "unit": "C1", "password": "lan.nt"},
    )
    assert response.status_code == 400
    assert db.session.scalar(db.select(User).where(User.username == "lan.nt")) is None


@pytest.fixture
def cli_runner(app):
    return app.test_cli_runner()


def test_the_command_line_creates_the_first_admin_with_a_password(cli_runner, units):
    result = cli_runner.invoke(
        args=["users", "create", "--username", "admin1", "--name", "Quản trị", "--unit", "P"],
        input="mua thu la vang roi\nmua thu la vang roi\n",
    )
    assert result.exit_code == 0, result.output
    assert "Đã tạo admin1 (Quản trị viên)" in result.output  # the default language
    person = db.session.scalar(db.select(User).where(User.username == "admin1"))
    assert person.role == "admin" and person.check_password("mua thu la vang roi")


# --- roles and unit levels --------------------------------------------------------------------

#: (role, unit) pairs that do not fit: the province's roles below it, a commune manager above or
#: below a commune, a tech-team member at the province.
MISPLACED = [
    ("admin", "C1"),
    ("department_manager", "C1A"),
    ("commune_manager", "P"),
    ("commune_manager", "C1A"),
    ("tech_team", "P"),
]
#: Cadres and residents, who see only their own records, may also belong to the province.
FITTING = [
    ("admin", "P"),
    ("department_manager", "P"),
    ("commune_manager", "C1"),
    ("tech_team", "C1"),
    ("tech_team", "C1A"),
    ("cadre", "P"),
    ("cadre", "C1"),
    ("resident", "P"),
    ("resident", "C1A"),
]


def new_account(client, role, unit, username="moi.nguoi"):
    return client.post("/users/new", data={"username": username, "full_name": "Người Mới", "role": role, "unit": unit})


def test_a_commune_manager_at_the_province_is_refused_and_so_reads_no_commune(app, client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    response = new_account(client, "commune_manager", "P")
    assert response.status_code == 400
    assert "belongs to a commune or ward" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.username == "moi.nguoi")) is None


@pytest.mark.parametrize(("role", "unit"), MISPLACED)
def test_a_role_is_refused_at_a_level_that_does_not_fit_it(client, login_as, make_user, units, role, unit):
    login_as(make_user("admin", units["province"]))
    response = new_account(client, role, unit)
    assert response.status_code == 400
    assert "The role “" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.username == "moi.nguoi")) is None


@pytest.mark.parametrize(("role", "unit"), FITTING)
def test_a_role_is_accepted_at_a_level_that_fits_it(client, login_as, make_user, units, role, unit):
    login_as(make_user("admin", units["province"]))
    assert new_account(client, role, unit).status_code == 200  # the slip with the one-time password
    assert db.session.scalar(db.select(User.role).where(User.username == "moi.nguoi")) == role


@pytest.mark.parametrize(("role", "unit"), MISPLACED)
def test_a_change_to_a_level_that_does_not_fit_is_refused(client, login_as, make_user, units, role, unit):
    person = make_user("cadre", units["c1"], full_name="Người Cũ")
    login_as(make_user("admin", units["province"]))
    response = client.post(f"/users/{person.id}", data={"full_name": "Người Cũ", "role": role, "unit": unit})
    assert response.status_code == 400
    assert "The role “" in response.get_data(as_text=True)
    assert (person.role, person.unit.code) == ("cadre", "C1")


@pytest.mark.parametrize(("role", "unit"), MISPLACED)
def test_the_command_line_refuses_a_level_that_does_not_fit(cli_runner, units, role, unit):
    result = cli_runner.invoke(
        args=["users", "create", "--username", "moi.nguoi", "--name", "Người Mới", "--role", role, "--unit", unit],
        input="mua thu la vang roi\nmua thu la vang roi\n",
    )
    assert result.exit_code == 1
    assert "Vai trò “" in result.output  # the command line speaks the default language
    assert db.session.scalar(db.select(User).where(User.username == "moi.nguoi")) is None
