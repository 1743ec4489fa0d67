"""Lesson pages are rendered once for everyone who would see the same page (app.templating.
render_shared_page): each reader still gets their own CSRF token, their own read mark, the menu
of their own role and language, and nothing of another reader; a synced course change shows at
once."""

import re

import pytest

from app.jobs.models import Message
from tests.conftest import TEST_PASSWORD, csrf_token_from, in_english

LESSON = "/learning/test-course/lessons/l1"


@pytest.fixture
def browser(app, csrf_enabled):
    """A new browser (its own cookies) signed in through the real form, CSRF checks on."""

    def open_as(user):
        client = app.test_client()
        in_english(client)
        form = {"username": user.username, "password": TEST_PASSWORD}
        form["csrf_token"] = csrf_token_from(client.get("/login").get_data(as_text=True))
        assert client.post("/login", data=form).status_code == 302
        return client

    return open_as


def _tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html))


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token" (?:type="hidden" )?value=)"[^"]+"', r'\1""', html)


def test_readers_of_the_same_lesson_get_their_own_token_and_nothing_of_each_other(
    browser, make_user, make_course, units, db
):
    make_course()
    first = make_user("resident", units["v1a"], full_name="Nguyễn Thị Một", email="mot@example.org")
    second = make_user("resident", units["v2a"], full_name="Trần Văn Hai", email="hai@example.org")
    first_browser, second_browser = browser(first), browser(second)

    first_page = first_browser.get(LESSON).get_data(as_text=True)
    second_page = second_browser.get(LESSON).get_data(as_text=True)

    assert len(_tokens(first_page)) == 1 and len(_tokens(second_page)) == 1
    assert _tokens(first_page) != _tokens(second_page)
    # The same page otherwise, and no trace of the first reader in the second one's.
    assert _without_tokens(first_page) == _without_tokens(second_page)
    for trace in ("Nguyễn Thị Một", "mot@example.org", first.username, "Thôn 1A"):
        assert trace not in second_page
    # Each token works for its own reader only.
    (first_token,) = _tokens(first_page)
    (second_token,) = _tokens(second_page)
    assert second_browser.post(f"{LESSON}/read", data={"csrf_token": first_token}).status_code == 400
    marked = second_browser.post(f"{LESSON}/read", data={"csrf_token": second_token})
    assert marked.status_code == 302
    assert "You have read this lesson." in second_browser.get(LESSON).get_data(as_text=True)
    assert "Mark as read and continue" in first_browser.get(LESSON).get_data(as_text=True)


def test_the_menu_is_the_readers_role_and_language(browser, make_user, make_course, units):
    make_course()
    resident = make_user("resident", units["v1a"])
    manager = make_user("commune_manager", units["c1"])
    resident_page = browser(resident).get(LESSON).get_data(as_text=True)
    manager_browser = browser(manager)
    manager_page = manager_browser.get(LESSON).get_data(as_text=True)
    assert ">People</a>" in manager_page and ">People</a>" not in resident_page
    assert ">Ask for help</a>" in resident_page
    vietnamese = manager_browser.get(f"{LESSON}?lang=vi").get_data(as_text=True)
    assert "Text of l1 in vi." in vietnamese and ">Người dùng</a>" in vietnamese
    assert "Text of l1 in en." not in vietnamese
    # The same address for a reader whose saved language is Vietnamese.
    saved = browser(make_user("resident", units["v1a"], locale="vi")).get(LESSON).get_data(as_text=True)
    assert "Text of l1 in vi." in saved and ">Yêu cầu hỗ trợ</a>" in saved


def test_the_unread_count_and_text_size_are_the_readers_own(browser, make_user, make_course, units, db):
    make_course()
    busy = make_user("resident", units["v1a"])
    quiet = make_user("resident", units["v1a"])
    db.session.add(Message(key="test-hello", user_id=busy.id, subject="Hello", body="Hello"))
    db.session.commit()
    busy_page = browser(busy).get(LESSON).get_data(as_text=True)
    quiet_browser = browser(quiet)
    quiet_page = quiet_browser.get(LESSON).get_data(as_text=True)
    assert "Notifications (1 new)" in busy_page
    assert "Notifications (1 new)" not in quiet_page and ">Notifications</a>" in quiet_page

    token = csrf_token_from(quiet_page)
    quiet_browser.post("/preferences/text-size", data={"csrf_token": token, "next": LESSON})
    assert 'class="large-text"' in quiet_browser.get(LESSON).get_data(as_text=True)
    assert 'class="large-text"' not in browser(busy).get(LESSON).get_data(as_text=True)


def test_a_message_waiting_to_be_shown_appears_once(browser, make_user, make_course):
    make_course()
    reader = browser(make_user("resident"))
    reader.get(LESSON)  # the shared page exists now
    with reader.session_transaction() as session:
        session["_flashes"] = [("info", "A message just for you")]
    assert "A message just for you" in reader.get(LESSON).get_data(as_text=True)
    assert "A message just for you" not in reader.get(LESSON).get_data(as_text=True)


def test_a_synced_course_change_shows_at_once(browser, make_user, make_course):
    _course, folder = make_course()
    reader = browser(make_user("resident"))
    assert "Text of l1 in en." in reader.get(LESSON).get_data(as_text=True)
    (folder / "lessons" / "l1.en.md").write_text("## l1\n\nA corrected text.\n", encoding="utf-8")
    make_course.resync()
    page = reader.get(LESSON).get_data(as_text=True)
    assert "A corrected text." in page and "Text of l1 in en." not in page


def test_names_that_are_not_course_or_lesson_ids_are_404(client, login_as, make_user, make_course):
    make_course()
    login_as(make_user("resident"))
    for path in (f"{LESSON[:-2]}L1", f"{LESSON}%00", "/learning/te%00st/lessons/l1"):
        assert client.get(path).status_code == 404


def test_addresses_with_other_query_arguments_are_not_kept(app, client, login_as, make_user, make_course):
    make_course()
    login_as(make_user("resident"))
    client.get(LESSON)
    kept = len(app.extensions["shared_pages"])
    for n in range(5):
        page = client.get(f"{LESSON}?x={n}")
        assert page.status_code == 200 and "Text of l1 in en." in page.get_data(as_text=True)
    assert len(app.extensions["shared_pages"]) == kept


def test_a_page_that_puts_the_token_in_another_way_is_refused_not_shared(app, make_user):
    """Only csrf_token() is replaced by each reader's own token; a page that renders the token
    another way (a form's field) would give the first reader's token to everyone."""
    from flask_login import login_user
    from jinja2 import ChoiceLoader, DictLoader

    from app.auth.forms import EmptyForm
    from app.templating import render_shared_page

    original = app.jinja_env.loader
    page_with_a_form_field = DictLoader({"_form_token.html": "<form>{{ form.csrf_token }}</form>"})
    app.jinja_env.loader = ChoiceLoader([page_with_a_form_field, original])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        with app.test_request_context("/learning/x/lessons/y"):
            login_user(make_user("resident"))
            with pytest.raises(RuntimeError, match="csrf_token"):
                render_shared_page("_form_token.html", ("v",), form=EmptyForm())
            assert not any(key[0] == "_form_token.html" for key in app.extensions["shared_pages"])
    finally:
        app.jinja_env.loader = original
        app.config["WTF_CSRF_ENABLED"] = False
