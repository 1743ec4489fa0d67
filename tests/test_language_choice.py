"""?lang= chooses the language of the page (and of this visit); the language saved with the
account changes only through the account form — a link on any site cannot rewrite it."""

from __future__ import annotations

import re

from tests.conftest import TEST_PASSWORD


def page_language(response) -> str:
    assert response.status_code == 200
    return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)


def test_a_lang_link_changes_the_page_but_not_the_saved_language(client, login_as, make_user):
    user = make_user("cadre", locale="bn")
    login_as(user)
    assert page_language(client.get("/?lang=en")) == "en"
    assert user.locale == "bn"


def test_the_switch_holds_for_the_visit_until_the_account_form_saves_a_language(client, login_as, make_user):
    user = make_user("cadre", locale="bn")
    login_as(user)
    client.get("/?lang=en")
    assert page_language(client.get("/")) == "en"
    assert user.locale == "bn"

    assert client.post("/account", data={"locale": "vi"}).status_code == 302

    assert user.locale == "vi"
    assert page_language(client.get("/")) == "vi"


def test_without_a_saved_language_the_switch_holds_and_saves_nothing(client, login_as, make_user):
    user = make_user("resident")
    login_as(user)
    assert page_language(client.get("/?lang=bn")) == "bn"
    assert page_language(client.get("/", headers={"Accept-Language": "en"})) == "bn"
    assert user.locale is None


def test_the_next_sign_in_brings_back_the_saved_language(app, client, login_as, make_user):
    user = make_user("cadre", locale="bn")
    login_as(user)
    client.get("/?lang=en")
    client.post("/logout")
    login_as(user)
    assert page_language(client.get("/")) == "bn"


def test_a_browser_set_to_english_gets_vietnamese_until_its_owner_chooses(app, make_user, units):
    browser = app.test_client()
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    assert page_language(browser.get("/login", headers=english)) == "vi"
    user = make_user("resident", locale=None)
    response = browser.post("/login", data={"username": user.username, "password": TEST_PASSWORD}, headers=english)
    assert response.status_code == 302
    assert page_language(browser.get("/", headers=english)) == "vi"
    assert page_language(browser.get("/?lang=en", headers=english)) == "en"
    assert page_language(browser.get("/", headers=english)) == "en"
    assert user.locale is None  # the switch is the session's, never the account's


def test_a_saved_language_wins_over_the_browser(app, make_user):
    browser = app.test_client()
    user = make_user("cadre", locale="bn")
    browser.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert page_language(browser.get("/", headers={"Accept-Language": "en"})) == "bn"


def test_the_api_follows_the_saved_language_else_what_the_caller_asks(client, make_user, api_token):
    caller = make_user("cadre")
    headers = api_token(caller)
    asked = client.get("/api/v1/units/999999", headers={**headers, "Accept-Language": "vi"})
    assert asked.status_code == 404
    english = client.get("/api/v1/units/999999", headers={**headers, "Accept-Language": "en"})
    assert asked.get_json()["error"]["message"] != english.get_json()["error"]["message"]
