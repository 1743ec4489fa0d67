import re

import pytest

from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db
from app.privacy.models import PersonConsent
from app.privacy.purposes import NOTICE_VERSION
from tests.conftest import TEST_PASSWORD


def slip_credentials(html: str) -> tuple[str, str]:
    values = re.findall(r'<dd class="code">([^<]+)</dd>', html)
    assert len(values) == 2, "the slip shows a username and a one-time password"
    return values[0], values[1]


def audit_actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_admin_creates_an_account_with_a_one_time_password(client, login_as, make_user, units):
    admin = make_user("admin", units["province"])
    login_as(admin)
    response = client.post(
        "/users/new",
        data={"username": "Thu.Ha", "full_name": "Trần Thu Hà", "role": "cadre", "unit": "C2"},
    )
    assert response.status_code == 200
    username, password = slip_credentials(response.get_data(as_text=True))
    assert username == "thu.ha"
    person = db.session.scalar(db.select(User).where(User.username == "thu.ha"))
    assert person.unit.code == "C2" and person.must_change_password
    assert person.check_password(password)
    assert password not in str(db.session.scalars(db.select(AuditEvent.details)).all())
    assert "user_created" in audit_actions()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "ab", "full_name": "X", "role": "cadre", "unit": "C1"}, "A username has 3 to 64"),
        ({"username": "ok.name", "full_name": "", "role": "cadre", "unit": "C1"}, "Enter the full name."),
        ({"username": "ok.name", "full_name": "X", "role": "king", "unit": "C1"}, "Not a valid choice"),
        ({"username": "ok.name", "full_name": "X", "role": "cadre", "unit": "NOPE"}, "Not a valid choice"),
        (
            {"username": "ok.name", "full_name": "X", "role": "cadre", "unit": "C1", "email": "not-mail"},
            "does not look right",
        ),
        (
            {"username": "ok.name", "full_name": "X", "role": "cadre", "unit": "C1", "phone": "call me"},
            "Enter the phone number as digits",
        ),
        (
            {"username": "ok.name", "full_name": "X", "role": "cadre", "unit": "C1", "password": "short"},
            "at least 8 characters",
        ),
    ],
)
def test_bad_input_on_the_new_account_form_is_explained(client, login_as, make_user, units, data, message):
    login_as(make_user("admin", units["province"]))
    response = client.post("/users/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.username == "ok.name")) is None


def test_a_taken_username_is_refused(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    make_user("cadre", username="taken")
    response = client.post("/users/new", data={"username": "taken", "full_name": "X", "role": "cadre", "unit": "C1"})
    assert response.status_code == 400
    assert "already taken" in response.get_data(as_text=True)


def test_commune_manager_cannot_create_an_admin_or_an_account_elsewhere(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    html = client.get("/users/new").get_data(as_text=True)
    assert 'value="admin"' not in html
    assert 'value="C2"' not in html
    for data in (
        {"username": "x.admin", "full_name": "X", "role": "admin", "unit": "C1"},
        {"username": "x.other", "full_name": "X", "role": "cadre", "unit": "C2"},
    ):
        assert client.post("/users/new", data=data).status_code == 400
    assert db.session.scalar(db.select(User).where(User.username.in_(["x.admin", "x.other"]))) is None


def test_role_change_is_audited_and_ends_the_persons_sessions(app, client, login_as, make_user, units):
    person = make_user("cadre", units["c1"])
    their_device = app.test_client()
    their_device.post("/login", data={"username": person.username, "password": TEST_PASSWORD})
    login_as(make_user("admin", units["province"]))
    response = client.post(
        f"/users/{person.id}",
        data={"full_name": person.full_name, "role": "commune_manager", "unit": "C1"},
    )
    assert response.status_code == 302
    assert person.role == "commune_manager"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user_updated"))
    assert event.details == {"role": ["cadre", "commune_manager"]}
    assert their_device.get("/").status_code == 302


def test_deactivation_signs_the_person_out_and_blocks_sign_in(app, client, login_as, make_user, units):
    person = make_user("cadre", units["c1"])
    their_device = app.test_client()
    their_device.post("/login", data={"username": person.username, "password": TEST_PASSWORD})
    login_as(make_user("commune_manager", units["c1"]))
    assert client.post(f"/users/{person.id}/deactivate").status_code == 302
    assert not person.active
    assert their_device.get("/").status_code == 302
    again = their_device.post("/login", data={"username": person.username, "password": TEST_PASSWORD})
    assert again.status_code == 200
    assert "user_deactivated" in audit_actions()
    assert client.post(f"/users/{person.id}/reactivate").status_code == 302
    assert person.active


def test_nobody_deactivates_themselves(client, login_as, make_user, units):
    admin = make_user("admin", units["province"])
    login_as(admin)
    assert client.post(f"/users/{admin.id}/deactivate").status_code == 403
    assert admin.active


def test_tech_team_member_creates_an_assisted_account_with_consent(client, login_as, make_user, units):
    member = make_user("tech_team", units["v1a"])
    login_as(member)
    form = client.get("/users/assisted/new").get_data(as_text=True)
    assert 'value="C1A"' in form and 'value="C2A"' not in form
    response = client.post(
        "/users/assisted/new",
        data={
            "full_name": "Nguyễn Thị Lan",
            "birth_year": "1958",
            "village": "C1B",
            "phone": "0912 345 678",
            "consent": "y",
            "consent_messages": "y",
            "consent_channel": "paper",
            "consent_evidence": "PHIEU-17",
        },
    )
    assert response.status_code == 200
    username, password = slip_credentials(response.get_data(as_text=True))
    assert re.fullmatch(r"lan\.nt\d{3}", username)
    resident = db.session.scalar(db.select(User).where(User.username == username))
    assert resident.check_password(password)
    assert resident.role == "resident" and resident.unit.code == "C1B" and resident.birth_year == 1958
    assert resident.created_by_id == member.id and resident.must_change_password
    consents = db.session.scalars(db.select(PersonConsent).where(PersonConsent.user_id == resident.id)).all()
    # Only what was ticked: the account, and messages; not help visits nor progress sharing.
    assert {c.purpose for c in consents} == {"account", "messages"}
    assert all(c.recorded_by_id == member.id and c.given_at is not None for c in consents)
    assert {(c.basis, c.channel, c.evidence, c.notice_version) for c in consents} == {
        ("consent", "paper", "PHIEU-17", NOTICE_VERSION)
    }
    assert "assisted_account_created" in audit_actions()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": "Lan", "village": "C1A"}, "Ask the resident for consent"),
        ({"full_name": "Lan", "village": "C2A", "consent": "y"}, "Not a valid choice"),
        (
            {"full_name": "Lan", "village": "C1A", "consent": "y", "birth_year": "1850"},
            "Enter a year such as 1960.",
        ),
        ({"full_name": "Lan", "village": "C1A", "consent": "y", "birth_year": "abc"}, "Not a valid integer"),
        ({"full_name": "", "village": "C1A", "consent": "y"}, "Enter the resident's full name."),
    ],
)
def test_assisted_account_form_refuses_bad_input(client, login_as, make_user, units, data, message):
    login_as(make_user("tech_team", units["v1a"]))
    response = client.post("/users/assisted/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User).where(User.role == "resident")) == 0


def test_one_time_password_must_be_changed_at_first_sign_in(client, make_user, units):
    resident = make_user("resident", units["v1a"], must_change_password=True)
    response = client.post("/login", data={"username": resident.username, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/account/password"
    # Every other page sends them back until they choose a password.
    assert client.get("/").headers["Location"] == "/account/password"
    assert client.get("/units/").headers["Location"] == "/account/password"
    weak = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "12345678", "confirm": "12345678"},
    )
    assert weak.status_code == 400
    assert "too easy to guess" in weak.get_data(as_text=True)
    mismatch = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "my own secret", "confirm": "my own secreT"},
    )
    assert "are not the same" in mismatch.get_data(as_text=True)
    done = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "my own secret", "confirm": "my own secret"},
    )
    assert done.status_code == 302
    assert not resident.must_change_password
    assert client.get("/").status_code == 200


def test_password_change_ends_other_sessions(app, client, login_as, make_user):
    user = make_user("cadre")
    other_device = app.test_client()
    other_device.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    login_as(user)
    wrong = client.post(
        "/account/password",
        data={"current_password": "wrong", "new_password": "new secret 1", "confirm": "new secret 1"},
    )
    assert "current password is not correct" in wrong.get_data(as_text=True)
    client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": "new secret 1", "confirm": "new secret 1"},
    )
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert other_device.get("/").status_code == 302
    assert "password_changed" in audit_actions()


def test_creator_can_print_a_new_one_time_password_for_their_assisted_account(client, login_as, make_user, units):
    member = make_user("tech_team", units["v1a"])
    resident = make_user("resident", units["v1a"], created_by_id=member.id)
    stranger = make_user("resident", units["v1a"])
    login_as(member)
    response = client.post(f"/users/{resident.id}/one-time-password")
    assert response.status_code == 200
    _username, password = slip_credentials(response.get_data(as_text=True))
    assert resident.check_password(password) and resident.must_change_password
    assert client.post(f"/users/{stranger.id}/one-time-password").status_code == 403


def test_audit_log_is_for_admins_and_holds_no_secrets(client, login_as, make_user, units):
    admin = make_user("admin", units["province"])
    client.post("/login", data={"username": admin.username, "password": "wrong guess 1"})
    login_as(admin)
    html = client.get("/audit/").get_data(as_text=True)
    assert "Failed sign-in" in html and "Signed in" in html
    assert "wrong guess 1" not in html and TEST_PASSWORD not in html
