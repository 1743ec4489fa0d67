"""New passwords: at least 8 characters, no composition rules, refused when common or easy to
guess, with the reason and an example of a good passphrase, wherever a password is chosen."""

import pytest

from app.auth.models import User
from app.auth.passwords import looks_like_a_date, weakness
from app.exceptions import Invalid
from app.extensions import db
from app.users.operations import create_user
from tests.conftest import TEST_PASSWORD

NAME, USERNAME = "Nguyễn Thị Lan", "lan.nt"
EXAMPLE = "the old buffalo grazes beside the dike"


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaa",
        "11111111",
        "88888888",
        "66666666",
        "qwertyui",
        "12345678",
        "123456789",
        "iloveyou",
        "matkhau",
        "matkhau123",
        "Mật khẩu 123",
        "matkhau2024",
        "anhyeuem",
        "anh yêu em",
        "anhyeuem99",
        "password1",
        "hoa12345",
    ],
)
def test_common_and_guessable_passwords_are_refused(app, password):
    with app.test_request_context("/?lang=en"):
        reason = weakness(password, user_inputs=[USERNAME, NAME])
    assert reason is not None, password
    assert EXAMPLE in reason


@pytest.mark.parametrize(
    "password", ["nguyenthilan", "Nguyen Thi Lan", "nguyễn thị lan", "NguyenThiLan1990", "lan.nt2024"]
)
def test_the_persons_name_or_username_is_refused(app, password):
    with app.test_request_context("/?lang=en"):
        assert "your name or username" in weakness(password, user_inputs=[USERNAME, NAME])


@pytest.mark.parametrize(
    "password", ["01011990", "19900101", "12311985", "01.01.90", "1990-01-01", "1/1/1990", "31.12.2001"]
)
def test_dates_such_as_a_birthday_are_refused(app, password):
    assert looks_like_a_date(password)
    with app.test_request_context("/?lang=en"):
        assert "birthday" in weakness(password, user_inputs=[USERNAME, NAME])


@pytest.mark.parametrize(
    "password",
    [
        TEST_PASSWORD,
        EXAMPLE,
        "trâu già gặm cỏ non ven đê",
        "con mèo đen",
        "বুড়ো মহিষ বাঁধের পাশে ঘাস খায়",
        "my own secret",
        "k7#pQ2vZ9m",  # no rule forbids a random one either
    ],
)
def test_passphrases_pass_without_composition_rules(app, password):
    with app.test_request_context():
        assert weakness(password, user_inputs=[USERNAME, NAME]) is None
    assert not looks_like_a_date(password)


def test_the_reason_is_shown_in_the_persons_language_with_an_example(client, make_user, login_as):
    user = make_user("cadre", username=USERNAME, full_name=NAME)
    login_as(user)
    form = {"current_password": TEST_PASSWORD, "new_password": "matkhau123", "confirm": "matkhau123"}
    english = client.post("/account/password", data=form).get_data(as_text=True)
    assert "This password is too easy to guess." in english and EXAMPLE in english
    vietnamese = client.post("/account/password?lang=vi", data=form)
    assert vietnamese.status_code == 400
    assert "Mật khẩu này quá dễ đoán." in vietnamese.get_data(as_text=True)
    assert db.session.get(User, user.id).check_password(TEST_PASSWORD)


@pytest.mark.parametrize("weak", ["aaaaaaaa", "11111111", "qwertyui", "nguyenthilan", "01011990"])
def test_a_weak_password_is_refused_at_the_first_sign_in_change(client, make_user, weak):
    user = make_user("resident", username=USERNAME, full_name=NAME, must_change_password=True)
    client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    form = {"current_password": TEST_PASSWORD, "new_password": weak, "confirm": weak}
    assert client.post("/account/password", data=form).status_code == 400
    assert db.session.get(User, user.id).must_change_password


def test_an_account_created_with_a_password_gets_the_same_check(app, make_user, units):
    admin = make_user("admin", units["province"])
    person = {"username": "thu.ha", "full_name": "Trần Thu Hà", "role": "cadre", "unit": units["c1"]}
    with app.test_request_context("/?lang=en"):
        with pytest.raises(Invalid, match="too easy to guess") as refusal:
            create_user(admin, **person, password="matkhau123")
        assert refusal.value.field == "new_password"
        with pytest.raises(Invalid, match="your name or username"):
            create_user(admin, **person, password="tranthuha")
    account = create_user(admin, **person, password=EXAMPLE)
    assert account.user.check_password(EXAMPLE) and account.one_time_password is None


def test_the_first_admin_from_the_command_line_gets_the_same_check(app, units):
    runner = app.test_cli_runner()
    arguments = ["users", "create", "--username", "first.admin", "--name", "Lê Văn Một", "--unit", "P"]
    refused = runner.invoke(args=[*arguments, "--password", "11111111"])
    assert refused.exit_code == 1 and "Mật khẩu này quá dễ đoán." in refused.output  # the default language
    assert db.session.scalar(db.select(User).where(User.username == "first.admin")) is None


def test_the_demo_password_still_signs_in(client, make_user):
    # Demo accounts are created directly, not through the check; their password keeps working.
    user = make_user("cadre", password="demo12345")
    assert client.post("/login", data={"username": user.username, "password": "demo12345"}).status_code == 302


def test_the_new_account_page_checks_an_initial_password(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    person = {"username": "thu.ha", "full_name": "Trần Thu Hà", "role": "cadre", "unit": "C1"}
    weak = client.post("/users/new", data={**person, "password": "anhyeuem"})
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    assert client.post("/users/new", data={**person, "password": EXAMPLE}).status_code == 302
    assert db.session.scalar(db.select(User).where(User.username == "thu.ha")).check_password(EXAMPLE)
