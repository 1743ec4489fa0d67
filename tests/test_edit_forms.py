"""Every form that shows stored values saves them back unchanged: open the page, submit the form
as the browser would with what it shows, and the database is exactly as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.db import local_today
from app.outcomes import campaigns
from app.outcomes.models import WalkListEntry
from app.outcomes.operations import active_milestones, ensure_default_milestones
from app.outcomes.residents import import_households
from tests.form_support import changes_between, database_snapshot, form_to
from tests.visits.pages_support import at, book, build_world


@pytest.fixture
def w(db, units, make_user):
    w = build_world(db, units, make_user)
    w.admin = make_user("admin", units["province"], full_name="Quản trị")
    # Stored in E.164, as every readable number is since the 0011_phones migration.
    w.member.phone = "+84912000111"
    w.resident.phone = "+84912345678"
    w.member.email = "ky@example.org"
    w.visit = book(w, start=at(2, 10))
    # A campaign whose walk list already holds a recorded visit to a household.
    ensure_default_milestones()
    households = "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"
    households += "C1A,A1,Số 1 xóm Đông,RA1,Nguyễn Văn A,1950,\nC1A,A2,Số 2 xóm Đông,RA2,Lê Thị B,1960,\n"
    import_households(w.manager, units["c1"], "c1.csv", households.encode(), legal_basis="state_task")
    w.campaign = campaigns.create_campaign(
        w.manager,
        name="Kích hoạt VNeID",
        milestone=next(m for m in active_milestones() if m.key == "eid_activated"),
        commune=units["c1"],
        village_codes=["C1A"],
        starts_on=local_today(),
        ends_on=local_today() + timedelta(days=30),
    )
    db.session.flush()
    w.entry = db.session.scalar(db.select(WalkListEntry).where(WalkListEntry.member_id == w.member.id).limit(1))
    campaigns.update_walk_status(w.member, w.entry, "reached", note="Hẹn quay lại")
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
    # Saving a household's status again notes who confirmed it last and when (its only change).
    "a household on a walk list": lambda w: (
        w.member,
        f"/outcomes/campaigns/{w.campaign.id}/walk-list",
        f"/outcomes/walk-list/{w.entry.id}",
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
    ignore = {"walk_list_entries": {"updated_at", "updated_by_id"}} if "walk-list" in action else None
    w.resident.locale = None
    login_as(signer)
    response = client.get(page)
    assert response.status_code == 200
    form = form_to(response.get_data(as_text=True), page, action)
    before = database_snapshot(ignore)

    response = client.post(action, data=MultiDict(form.fields))

    assert response.status_code == 302, response.get_data(as_text=True)  # saved
    assert changes_between(before, database_snapshot(ignore)) == {}
