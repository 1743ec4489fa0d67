"""The layout on a 360-px phone: the main menu folded behind "Menu" (without JavaScript too), and
the pages reached from each role's menu without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser import MENU_SUMMARY, assert_no_axe_violations, sign_in

pytestmark = pytest.mark.browser

MENU_LINKS = "nav.main-nav .menu-links a"
MAX_FOLDED_MENU_HEIGHT = 60


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
