"""The learner's and the tech team's everyday pages in a real browser on a 360-px phone: no
sideways scrolling, no accessibility violations, and a quiz taken without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import assert_no_axe_violations, path_is, sign_in

pytestmark = pytest.mark.browser

PAGES_BY_ROLE = {
    "resident": [
        "/learning/",
        "/learning/search?q=dinh+danh",
        "/learning/smartphone-basics/",
        "/learning/smartphone-basics/lessons/turn-on-and-unlock",
        "/learning/smartphone-basics/modules/first-steps/quiz",
        "/visits/requests/new",
        "/verify",
    ],
    "techteam": ["/visits/agenda", "/visits/triage", "/visits/sessions", "/outcomes/residents"],
    "commune_manager": ["/visits/calendar", "/reports/", "/outcomes/follow-ups"],
}


def assert_fits_a_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide on a 360-px screen"


@pytest.mark.parametrize("role", sorted(PAGES_BY_ROLE))
def test_everyday_pages_fit_a_phone_and_pass_axe(page, role):
    page.goto("/login")
    sign_in(page, role)
    for path in PAGES_BY_ROLE[role]:
        response = page.goto(path)
        assert response.status == 200, path
        assert_fits_a_phone(page)
        assert_no_axe_violations(page)


def test_a_certificate_is_checked_without_javascript_and_signed_out(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/login")
    page.locator("footer a[href='/verify']").click()
    assert path_is("/verify").match(page.url)
    assert_fits_a_phone(page)
    page.fill("#code", " zzzz 2222 zzzz ")
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("[role=alert]")).to_contain_text("ZZZZ-2222-ZZZZ")
    assert_fits_a_phone(page)


def test_a_quiz_is_taken_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/login")
    sign_in(page, "resident")
    page.goto("/learning/smartphone-basics/modules/first-steps/quiz")
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator("input").first.check()
    page.locator("form.quiz button[type=submit]").click()
    expect(page).to_have_url(path_is_attempt())
    expect(page.locator("section.question").first).to_be_visible()
    expect(page.locator("p.explanation").first).to_be_visible()


def path_is_attempt():
    import re

    return re.compile(r"^https?://[^/]+/learning/attempts/\d+$")


def test_path_helper_is_exact():
    assert path_is("/login").match("http://127.0.0.1:5000/login?next=/")
