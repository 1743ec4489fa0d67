"""Every form that shows stored values saves them back unchanged: open the page, submit the form
as the browser would with what it shows, and the database is exactly as before."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from tests.form_support import changes_between, database_snapshot, form_to
from tests.visits.pages_support import at, book, build_world


@pytest.fixture
def w(db, units, make_user):
    w = build_world(db, units, make_user)
    w.admin = make_user("admin", units["province"], full_name="Quản trị")
    w.member.phone = "0912 000 111"
    w.member.email = "ky@example.org"
    w.visit = book(w, start=at(2, 10))
    db.session.flush()
    return w


def user_page(person):
    return f"/users/{person.id}", f"/users/{person.id}"


#: (who saves, the page, where its form posts) — one row per edit form of the app.
EDIT_FORMS = {
    "a resident in a village, by the commune manager": lambda w: (w.manager, *user_page(w.resident)),
    "a team member in a village, by the commune manager": lambda w: (w.manager, *user_page(w.member)),
    "a team member in a village, by the admin": lambda w: (w.admin, *user_page(w.member)),
    "a team member at the commune, by the admin": lambda w: (w.admin, *user_page(w.colleague)),
    "a commune manager, by the admin": lambda w: (w.admin, *user_page(w.manager)),
    "the department manager, by the admin": lambda w: (w.admin, *user_page(w.department)),
    "account settings with a saved language": lambda w: (w.member, "/account", "/account"),
    "account settings without one": lambda w: (w.resident, "/account", "/account"),
    "a team member's skills": lambda w: (
        w.manager,
        f"/visits/teams/{w.team.id}",
        f"/visits/teams/{w.team.id}/members/{w.team.members[0].id}",
    ),
    "a team leader's skills": lambda w: (
        w.manager,
        f"/visits/teams/{w.team.id}",
        f"/visits/teams/{w.team.id}/members/{next(m for m in w.team.members if m.is_leader).id}",
    ),
    "a visit's time": lambda w: (
        w.manager,
        f"/visits/visits/{w.visit.id}",
        f"/visits/visits/{w.visit.id}/reschedule",
    ),
}


@pytest.mark.parametrize("case", EDIT_FORMS)
def test_saving_an_edit_form_unchanged_changes_nothing(client, login_as, w, case):
    signer, page, action = EDIT_FORMS[case](w)
    w.resident.locale = None
    login_as(signer)
    response = client.get(page)
    assert response.status_code == 200
    form = form_to(response.get_data(as_text=True), page, action)
    before = database_snapshot()

    response = client.post(action, data=MultiDict(form.fields))

    assert response.status_code in (200, 302, 400, 409), response.status_code
    assert changes_between(before, database_snapshot()) == {}
    if "/users/" in action:
        assert response.status_code == 302  # saved, and the person is where they were
