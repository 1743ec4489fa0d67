"""The layout on a 360-px phone: the main menu folded behind "Menu" (without JavaScript too), and
the pages reached from each role's menu without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import MENU_SUMMARY, assert_no_axe_violations, axe_report, sign_in

pytestmark = pytest.mark.browser

MENU_LINKS = "nav.main-nav .menu-links a"
MAX_FOLDED_MENU_HEIGHT = 60
MAX_OUTCOME_PAGE_HEIGHT = 3000


def folded_menu_height(page) -> float:
    return page.locator("nav.main-nav").bounding_box()["height"]


def test_the_menu_is_folded_on_a_phone_and_opens_from_the_keyboard_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "techteam")

    assert folded_menu_height(page) <= MAX_FOLDED_MENU_HEIGHT
    expect(page.locator(MENU_LINKS).first).to_be_hidden()
    page.locator(MENU_SUMMARY).focus()
    page.keyboard.press("Enter")
    expect(page.locator(MENU_LINKS).first).to_be_visible()
    expect(page.locator("nav.main-nav a[href='/visits/agenda']")).to_be_visible()
    page.locator("nav.main-nav a[href='/visits/agenda']").focus()
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_be_visible()
    assert page.url.endswith("/visits/agenda")


def test_the_open_menu_passes_axe(page):
    sign_in(page, "admin")
    page.locator(MENU_SUMMARY).click()
    expect(page.locator(MENU_LINKS).first).to_be_visible()
    assert_no_axe_violations(page)


def test_on_a_wide_screen_the_menu_is_shown_without_a_menu_button(new_context):
    page = new_context(viewport={"width": 1024, "height": 768}).new_page()
    sign_in(page, "techteam")
    expect(page.locator(MENU_SUMMARY)).to_be_hidden()
    for link in page.locator(MENU_LINKS).all():
        expect(link).to_be_visible()
    assert_no_axe_violations(page)


# --- no sideways scrolling --------------------------------------------------------------------

PHONE_WIDTH = 360

# The elements that stick out on the right, to say where a page overflows.
_WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') +
    ' ' + Math.round(e.getBoundingClientRect().width) + 'px')"""


def assert_no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width}px wide: {page.evaluate(_WIDE_ELEMENTS)}"


def test_the_triage_list_fits_a_phone(page):
    sign_in(page, "techteam")
    for path in ("/visits/triage", "/visits/triage?status=scheduled", "/visits/triage?status=done"):
        assert page.goto(path).status == 200
        assert page.locator("main .card").count() >= 1, path
        assert_no_sideways_scrolling(page)


def test_the_sign_in_slip_of_an_assisted_account_fits_a_phone(page):
    sign_in(page, "commune_manager")
    page.goto("/users/assisted/new")
    page.fill("input[name=full_name]", "Bà Nguyễn Thị Phương Thảo (demo)")
    page.fill("input[name=birth_year]", "1956")
    page.select_option("select[name=village]", index=1)
    page.fill("input[name=phone]", "0912 345 678")
    page.check("input[name=consent]")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("section.slip")).to_be_visible()
    assert_no_sideways_scrolling(page)
    assert page.locator("section.slip").bounding_box()["width"] <= PHONE_WIDTH
    assert_no_axe_violations(page)


def test_the_outcome_form_fits_a_phone(page):
    sign_in(page, "techteam")
    page.goto("/visits/agenda")
    page.locator("main a[href^='/visits/visits/']").first.click()  # the demo's visit begun two hours ago
    expect(page.locator("#complete-heading")).to_be_visible()
    assert_no_sideways_scrolling(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= MAX_OUTCOME_PAGE_HEIGHT, f"the outcome page is {height}px long"
    assert_no_axe_violations(page)
    for summary in page.locator("details.fold > summary").all():
        summary.click()  # every folded part opens, and the page still fits
    expect(page.locator("input[name=follow_up_reason]")).to_be_visible()
    assert_no_sideways_scrolling(page)


@pytest.mark.parametrize("role", ["admin", "manager", "commune_manager", "techteam", "cadre", "resident"])
def test_every_page_of_a_roles_menu_fits_a_phone_and_passes_axe(page, role):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    sign_in(page, role)
    paths = page.locator(MENU_LINKS).evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(paths) >= 5
    too_wide, failing = {}, {}
    for path in paths:
        assert page.goto(path).status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE_WIDTH:
            too_wide[path] = (width, page.evaluate(_WIDE_ELEMENTS))
        violations = axe.run(page).response["violations"]
        if violations:
            failing[path] = axe_report(violations)
    assert not too_wide, too_wide
    assert not failing, "\n".join(f"{path}:\n{report}" for path, report in failing.items())


def test_a_wide_table_becomes_one_card_per_row_and_passes_axe(page):
    sign_in(page, "admin")
    assert page.goto("/privacy/requests").status == 200
    row = page.locator("table.reflow tbody tr").first
    expect(row).to_be_visible()
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert_no_sideways_scrolling(page)
    assert_no_axe_violations(page)
