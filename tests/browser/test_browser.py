"""End-to-end checks in a real browser (Debian's Chromium through Playwright), on a phone-sized
window, against the app as `python run.py` serves it with the demo data.

Elements are found by role, attribute and structure, never by Vietnamese wording, so the tests
hold while translations change.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo12345"
DEMO_USERNAMES = ("admin", "manager", "commune_manager", "techteam", "cadre", "resident")
# The whole sign-in page (HTML, stylesheet and anything else it loads) on a cold cache.
MAX_SIGN_IN_PAGE_BYTES = 60 * 1024

SIGN_IN_BUTTON = "main form[action$='/login'] button[type=submit]"
SIGN_OUT_BUTTON = "nav.main-nav form[action$='/logout'] button"
TEXT_SIZE_BUTTON = "form[action$='/preferences/text-size'] button"
MENU_SUMMARY = "nav.main-nav details.menu > summary"


def path_is(path: str) -> re.Pattern:
    """A URL pattern for `path` on the live server, with or without a query string."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    if not page.url.split("?")[0].endswith("/login"):
        page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click(SIGN_IN_BUTTON)
    expect(page).to_have_url(path_is("/"))


def open_menu(page: Page) -> None:
    """Unfold the main menu where it is folded (a phone-sized window), as a person taps "Menu"."""
    summary = page.locator(MENU_SUMMARY)
    if summary.is_visible() and page.locator("nav.main-nav details.menu[open]").count() == 0:
        summary.click()


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def body_font_size(page: Page) -> float:
    value = page.evaluate("getComputedStyle(document.body).fontSize")
    assert value.endswith("px"), value
    return float(value[:-2])


def axe_report(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) found by axe-core:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation.get('help')}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        for node in violation["nodes"]:
            target = ", ".join(str(part) for part in node.get("target", []))
            lines.append(f"    * {target}: {node.get('html', '').strip()[:200]}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend("        " + line for line in summary.splitlines())
    return "\n".join(lines)


def assert_no_axe_violations(page: Page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    assert not violations, f"on {page.url}:\n" + axe_report(violations)


# --- sign in and out ------------------------------------------------------------------------


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_each_demo_role_signs_in_and_out(page, username):
    page.goto("/login")
    expect(page.locator("input[name=username]")).to_be_visible()
    sign_in(page, username)

    expect(page.locator("main h1")).to_contain_text("(demo)")
    expect(page.locator(SIGN_OUT_BUTTON)).to_be_hidden()  # folded behind "Menu" on a phone
    open_menu(page)
    expect(page.locator(SIGN_OUT_BUTTON)).to_be_visible()

    page.click(SIGN_OUT_BUTTON)
    expect(page).to_have_url(path_is("/login"))
    expect(page.locator("form[action$='/logout']")).to_have_count(0)
    expect(page.locator("input[name=username]")).to_be_visible()

    # Signed out for real: the home page sends the visitor back to sign in.
    page.goto("/")
    expect(page).to_have_url(path_is("/login"))


def test_wrong_password_stays_on_sign_in_page(page):
    page.goto("/login")
    page.fill("input[name=username]", "resident")
    page.fill("input[name=password]", "not-the-password")
    page.click(SIGN_IN_BUTTON)
    expect(page).to_have_url(path_is("/login"))
    expect(page.locator("input[name=password][aria-invalid=true]")).to_have_count(1)
    expect(page.locator("form[action$='/logout']")).to_have_count(0)


# --- language -------------------------------------------------------------------------------


def test_language_switch_changes_html_lang_and_is_kept(page):
    page.goto("/login")
    assert html_lang(page) == "vi"  # the context's locale is vi-VN
    expect(page.locator("nav.lang [aria-current]")).to_have_attribute("lang", "vi")

    page.click("nav.lang a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav.lang [aria-current]")).to_have_attribute("lang", "en")
    expect(page.locator("nav.lang a[hreflang=en]")).to_have_count(0)
    page.goto("/login")  # no ?lang= any more: the choice is remembered
    assert html_lang(page) == "en"

    page.click("nav.lang a[hreflang=bn]")
    expect(page.locator("html")).to_have_attribute("lang", "bn")
    expect(page.locator("nav.lang [aria-current]")).to_have_attribute("lang", "bn")
    page.goto("/login")
    assert html_lang(page) == "bn"

    # The choice made before signing in is kept through the sign-in.
    sign_in(page, "resident")
    assert html_lang(page) == "bn"
    expect(page.locator("main h1")).to_contain_text("(demo)")
    page.reload()
    assert html_lang(page) == "bn"


# --- larger text ----------------------------------------------------------------------------


def test_larger_text_toggle(page):
    page.goto("/login")
    button = page.locator(TEXT_SIZE_BUTTON)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\blarge-text\b"))
    expect(button).to_have_attribute("aria-pressed", "false")
    normal = body_font_size(page)

    button.click()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    expect(page).to_have_url(path_is("/login"))
    expect(page.locator(TEXT_SIZE_BUTTON)).to_have_attribute("aria-pressed", "true")
    large = body_font_size(page)
    assert large > normal, f"body font-size {large}px with large text, {normal}px without"

    # Kept on the next page too.
    page.goto("/login")
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))

    page.locator(TEXT_SIZE_BUTTON).click()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\blarge-text\b"))
    expect(page.locator(TEXT_SIZE_BUTTON)).to_have_attribute("aria-pressed", "false")
    assert body_font_size(page) == normal


# --- without JavaScript ---------------------------------------------------------------------


def test_works_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/login")
    sign_in(page, "cadre")
    expect(page.locator("main h1")).to_contain_text("(demo)")

    page.locator(TEXT_SIZE_BUTTON).click()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))

    open_menu(page)
    page.click(SIGN_OUT_BUTTON)
    expect(page).to_have_url(path_is("/login"))


# --- accessibility --------------------------------------------------------------------------


def test_sign_in_page_has_no_axe_violations(page):
    page.goto("/login")
    assert_no_axe_violations(page)


def test_home_page_has_no_axe_violations(page):
    page.goto("/login")
    sign_in(page, "admin")  # the admin sees every menu entry and tile
    expect(page.locator("main h1")).to_contain_text("(demo)")
    assert_no_axe_violations(page)


# --- page weight ----------------------------------------------------------------------------


def test_sign_in_page_weight(context):
    """Everything the sign-in page loads on a cold cache stays under 60 KB."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    transferred: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on(
        "Network.loadingFinished",
        lambda e: transferred.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    responses = []
    page.on("response", lambda response: responses.append(response))

    page.goto("/login", wait_until="load")
    page.wait_for_load_state("networkidle")

    bodies = {}
    for response in responses:
        try:
            bodies[response.url] = len(response.body())
        except Exception:  # e.g. a redirect has no body
            bodies[response.url] = 0
    body_total = sum(bodies.values())
    transfer_total = sum(transferred.values())
    assert body_total > 0, "no response body was measured"
    assert transfer_total > 0, "no transfer was measured"
    assert any(url.split("?")[0].endswith(".css") for url in bodies), f"stylesheet not loaded: {sorted(bodies)}"

    print(
        f"\nsign-in page, cold load: {len(bodies)} response(s), bodies {body_total} B; "
        f"on the wire (CDP encodedDataLength, headers included) {transfer_total} B"
    )
    for url, size in sorted(bodies.items()):
        print(f"  {size:>7} B body  {url}")
    for request_id, size in sorted(transferred.items(), key=lambda item: urls.get(item[0], "")):
        print(f"  {size:>7} B wire  {urls.get(request_id, request_id)}")

    weight = max(body_total, transfer_total)
    assert weight < MAX_SIGN_IN_PAGE_BYTES, (
        f"the sign-in page loads {weight} bytes (limit {MAX_SIGN_IN_PAGE_BYTES}): {bodies}"
    )
