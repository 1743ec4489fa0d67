"""The campaign pages: the list, creating a campaign, its progress, each member's walk list and
its printable version — with the refusals from another commune's side."""

from __future__ import annotations

import html as html_text
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import local_today
from app.extensions import db
from app.outcomes import campaigns, operations
from app.outcomes.models import Campaign, Resident, WalkListEntry
from app.outcomes.residents import import_households
from app.visits.models import Team, TeamMember
from tests.conftest import csrf_token_from

HEADER = "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"


def page(response) -> str:
    return html_text.unescape(response.get_data(as_text=True))


def entries_of(campaign_id, member_id=None) -> list[WalkListEntry]:
    db.session.expire_all()
    query = db.select(WalkListEntry).where(WalkListEntry.campaign_id == campaign_id)
    if member_id is not None:
        query = query.where(WalkListEntry.member_id == member_id)
    return list(db.session.scalars(query.order_by(WalkListEntry.id)))


@pytest.fixture
def sign_in(client, login_as):
    """Sign in as `user`, signing out whoever was signed in."""

    def sign_in(user):
        client.post("/logout")
        return login_as(user)

    return sign_in


@pytest.fixture
def w(db, units, make_user, milestones, team):
    """Commune C1: a manager, two team members, five households in C1A and three in C1B.
    Commune C2: a manager, a team member and one household."""
    w = SimpleNamespace(units=units, milestones=milestones, member=team[0], colleague=team[1])
    w.manager = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    w.manager_c2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    w.member_c2 = make_user("tech_team", units["v2a"], full_name="Phạm Văn Ba")
    w.department = make_user("department_manager", units["province"])
    w.admin = make_user("admin", units["province"])
    w.cadre = make_user("cadre", units["c1"])
    team_c2 = Team(unit_id=units["c2"].id, name="Tổ C2")
    team_c2.members = [TeamMember(user_id=w.member_c2.id, skills=["eid"])]
    db.session.add(team_c2)
    rows = [f"C1A,A{i},Số {i} xóm Đông,RA{i},Nguyễn Văn A{i},{1950 + i}," for i in range(5)]
    rows += [f"C1B,B{i},Số {i} xóm Tây,RB{i},Trần Thị B{i},1970," for i in range(3)]
    rows += ["C1B,B0,Số 0 xóm Tây,RB9,Trần Văn Cháu,2019,"]  # a child in household B0
    import_households(
        w.manager, units["c1"], "c1.csv", (HEADER + "\n".join(rows) + "\n").encode(), legal_basis="state_task"
    )
    import_households(
        w.manager_c2,
        units["c2"],
        "c2.csv",
        (HEADER + "C2A,Z1,Số 1 xóm Bắc,RZ1,Lê Văn Z,1960,\n").encode(),
        legal_basis="state_task",
    )
    db.session.flush()
    return w


def make_campaign(w, villages=("C1A", "C1B"), milestone="eid_activated") -> Campaign:
    today = local_today()
    campaign = campaigns.create_campaign(
        w.manager,
        name="Kích hoạt VNeID tháng này",
        milestone=w.milestones[milestone],
        commune=w.units["c1"],
        village_codes=list(villages),
        starts_on=today,
        ends_on=today + timedelta(days=30),
    )
    db.session.flush()
    return campaign


# --- creating a campaign ------------------------------------------------------------------


def test_a_commune_manager_creates_a_campaign_and_every_household_lands_on_one_list(w, client, sign_in):
    sign_in(w.manager)
    form = page(client.get("/outcomes/campaigns/new"))
    assert w.units["v1a"].display_name in form and w.units["v1b"].display_name in form
    assert w.units["v2a"].display_name not in form  # another commune's village is not offered
    # Every member of the commune's teams is ticked by default; the other commune's is not there.
    for member in (w.member, w.colleague):
        assert f'value="{member.id}" checked' in form
    assert w.member_c2.full_name not in form

    today = local_today()
    response = client.post(
        "/outcomes/campaigns/new",
        data={
            "name": "  Kích hoạt VNeID  thôn 1 ",
            "milestone": "eid_activated",
            "villages": ["C1A", "C1B"],
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=14)).isoformat(),
            "members": [str(w.member.id), str(w.colleague.id)],
        },
    )
    assert response.status_code == 302, page(response)
    campaign = db.session.scalar(db.select(Campaign))
    assert campaign.name == "Kích hoạt VNeID thôn 1"
    assert response.headers["Location"].endswith(f"/outcomes/campaigns/{campaign.id}")
    entries = entries_of(campaign.id)
    assert sorted(e.household.code for e in entries) == ["A0", "A1", "A2", "A3", "A4", "B0", "B1", "B2"]
    loads = sorted(len([e for e in entries if e.member_id == m.id]) for m in (w.member, w.colleague))
    assert loads == [4, 4]

    detail = page(client.get(response.headers["Location"]))
    assert "Kích hoạt VNeID thôn 1" in detail
    assert w.member.full_name in detail and w.colleague.full_name in detail
    assert w.units["v1a"].display_name in detail and w.units["v1b"].display_name in detail
    assert f"/outcomes/campaigns/{campaign.id}/walk-list?member_id={w.member.id}" in detail
    listing = page(client.get("/outcomes/campaigns"))
    assert "Kích hoạt VNeID thôn 1" in listing and "8 households" in listing


def test_a_campaign_can_go_to_some_members_only(w, client, sign_in):
    sign_in(w.manager)
    today = local_today()
    response = client.post(
        "/outcomes/campaigns/new",
        data={
            "name": "Thôn 1A",
            "milestone": "eid_installed",
            "villages": ["C1A"],
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "members": [str(w.colleague.id)],
        },
    )
    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert {e.member_id for e in entries_of(campaign.id)} == {w.colleague.id}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": " "}, "Give the campaign a name."),
        ({"milestone": ""}, "Choose the milestone the campaign aims at."),
        ({"milestone": "no-such-milestone"}, "Choose the milestone the campaign aims at."),
        ({"villages": []}, "Choose one or more villages of this commune."),
        ({"villages": ["C2A"]}, "Choose one or more villages of this commune."),
        ({"members": []}, "Choose at least one member."),
        ({"members": ["MEMBER_C2"]}, "Choose members of this commune's teams."),
        ({"members": ["abc"]}, "Choose members of this commune's teams."),
        ({"ends_on": "YESTERDAY"}, "The campaign ends before it starts."),
        ({"starts_on": "31/02/2025"}, "Not a valid date value."),
    ],
)
def test_a_campaign_with_missing_or_wrong_input_is_refused_clearly_and_nothing_is_written(
    w, client, sign_in, change, message
):
    sign_in(w.manager)
    today = local_today()
    data = {
        "name": "Chiến dịch",
        "milestone": "eid_activated",
        "villages": ["C1A"],
        "starts_on": today.isoformat(),
        "ends_on": today.isoformat(),
        "members": [str(w.member.id)],
    }
    data.update(change)
    if data["members"] == ["MEMBER_C2"]:
        data["members"] = [str(w.member_c2.id)]
    if data["ends_on"] == "YESTERDAY":
        data["ends_on"] = (today - timedelta(days=1)).isoformat()
    response = client.post("/outcomes/campaigns/new", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(Campaign)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(WalkListEntry)) == 0


def test_an_admin_first_chooses_the_commune(w, client, sign_in):
    sign_in(w.admin)
    chooser = page(client.get("/outcomes/campaigns/new"))
    assert 'name="commune"' in chooser and w.units["c2"].display_name in chooser
    form = page(client.get("/outcomes/campaigns/new?commune=C2"))
    assert w.units["v2a"].display_name in form and w.member_c2.full_name in form
    assert client.get("/outcomes/campaigns/new?commune=C2A").status_code == 404  # a village, not a commune
    today = local_today()
    response = client.post(
        "/outcomes/campaigns/new?commune=C2",
        data={
            "name": "Xã Hai",
            "milestone": "eid_activated",
            "villages": ["C2A"],
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
            "members": [str(w.member_c2.id)],
        },
    )
    assert response.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert campaign.unit_id == w.units["c2"].id
    assert [e.household.code for e in entries_of(campaign.id)] == ["Z1"]


def test_people_who_do_not_run_campaigns_cannot_create_one(w, client, sign_in):
    for person in (w.member, w.department, w.cadre):
        sign_in(person)
        assert client.get("/outcomes/campaigns/new").status_code == 403
        assert client.post("/outcomes/campaigns/new", data={"name": "x"}).status_code == 403
    sign_in(w.manager)
    assert client.get("/outcomes/campaigns/new?commune=C2").status_code == 200  # ignored: own commune
    assert w.units["v2a"].display_name not in page(client.get("/outcomes/campaigns/new?commune=C2"))


def test_the_campaign_form_needs_its_csrf_token(w, client, sign_in, request):
    sign_in(w.manager)
    request.getfixturevalue("csrf_enabled")
    today = local_today()
    data = {
        "name": "Chiến dịch",
        "milestone": "eid_activated",
        "villages": ["C1A"],
        "starts_on": today.isoformat(),
        "ends_on": today.isoformat(),
        "members": [str(w.member.id)],
    }
    assert client.post("/outcomes/campaigns/new", data=data).status_code == 400
    token = csrf_token_from(client.get("/outcomes/campaigns/new").get_data(as_text=True))
    assert client.post("/outcomes/campaigns/new", data={**data, "csrf_token": token}).status_code == 302


# --- another commune's side ------------------------------------------------------------------


def test_another_communes_people_cannot_see_or_change_the_campaign(w, client, sign_in):
    campaign = make_campaign(w)
    entry = entries_of(campaign.id, w.member.id)[0]
    base = f"/outcomes/campaigns/{campaign.id}"
    for person in (w.manager_c2, w.member_c2):
        sign_in(person)
        assert campaign.name not in page(client.get("/outcomes/campaigns"))
        assert client.get(base).status_code == 403
        assert client.get(f"{base}/walk-list").status_code == 403
        assert client.get(f"{base}/walk-list?member_id={w.member.id}").status_code == 403
        assert client.get(f"{base}/walk-list/print?member_id={w.member.id}").status_code == 403
        assert client.get(f"{base}/walk-list/print").status_code == 403
        response = client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "reached"})
        assert response.status_code == 403
    sign_in(w.cadre)
    assert client.get("/outcomes/campaigns").status_code == 403
    assert client.get(f"{base}/walk-list").status_code == 403
    assert entries_of(campaign.id, w.member.id)[0].status == "pending"
    assert client.get("/outcomes/campaigns/99999").status_code in (403, 404)
    sign_in(w.manager)
    assert client.get("/outcomes/campaigns/99999").status_code == 404
    assert client.post("/outcomes/walk-list/99999", data={"status": "reached"}).status_code == 404


# --- walk lists -----------------------------------------------------------------------------


def test_a_member_sees_their_own_list_and_records_what_happened(w, client, sign_in):
    campaign = make_campaign(w)
    mine = entries_of(campaign.id, w.member.id)
    sign_in(w.member)
    listing = page(client.get("/outcomes/campaigns"))
    assert campaign.name in listing
    response = client.get(f"/outcomes/campaigns/{campaign.id}")  # the detail sends a member to their list
    assert response.status_code == 302 and "/walk-list" in response.headers["Location"]
    text = page(client.get(f"/outcomes/campaigns/{campaign.id}/walk-list"))
    for entry in mine:
        household = entry.household
        assert household.address in text and f"Household {household.code}" in text
        for resident in household.residents:
            assert resident.full_name in text
            assert f"({resident.birth_year})" in text
    others = entries_of(campaign.id, w.colleague.id)
    assert all(f"Household {e.household.code}<" not in text for e in others)

    entry = mine[0]
    response = client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "not_home", "note": "  Đi làm  ruộng "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"member_id={w.member.id}#entry-{entry.id}")
    saved = db.session.get(WalkListEntry, entry.id)
    assert (saved.status, saved.note, saved.updated_by_id) == ("not_home", "Đi làm ruộng", w.member.id)
    text = page(client.get(response.headers["Location"]))
    assert "Not at home" in text and "Đi làm ruộng" in text

    # Another member's list and households are not theirs.
    assert client.get(f"/outcomes/campaigns/{campaign.id}/walk-list?member_id={w.colleague.id}").status_code == 403
    response = client.post(f"/outcomes/walk-list/{others[0].id}", data={"status": "reached"})
    assert response.status_code == 403
    assert entries_of(campaign.id, w.colleague.id)[0].status == "pending"


def test_households_fully_reached_are_left_out_and_residents_already_reached_are_marked(w, client, sign_in):
    def resident(code):
        return db.session.scalar(db.select(Resident).where(Resident.code == code))

    today = local_today()
    milestone = w.milestones["eid_installed"]
    operations.record_milestone(w.member, resident("RA1"), milestone, on_date=today, confirmation="document")
    # Household A2 gets a second adult; the first has reached the milestone, the second has not.
    a2 = resident("RA2").household
    db.session.add(Resident(unit_id=a2.unit_id, household_id=a2.id, full_name="Đỗ Thị Mới", birth_year=1980))
    operations.record_milestone(w.member, resident("RA2"), milestone, on_date=today, confirmation="document")
    db.session.flush()
    campaign = make_campaign(w, villages=("C1A",), milestone="eid_installed")
    codes = sorted(e.household.code for e in entries_of(campaign.id))
    assert codes == ["A0", "A2", "A3", "A4"]  # A1's only adult has reached it

    entry = next(e for e in entries_of(campaign.id) if e.household.code == "A2")
    sign_in(db.session.get(type(w.member), entry.member_id))
    text = page(client.get(f"/outcomes/campaigns/{campaign.id}/walk-list"))
    card = text.split(f'id="entry-{entry.id}"')[1].split("</li>\n  \n")[0]
    assert "Đỗ Thị Mới" in card and "Nguyễn Văn A2" in card
    assert card.count("Milestone reached") == 1
    assert card.index("Nguyễn Văn A2") < card.index("Milestone reached") < card.index("Đỗ Thị Mới")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose what happened at this household."),
        ({"status": "moved-away"}, "Choose what happened at this household."),
        ({"status": "reached", "note": "x" * 301}, "Keep the note under 300 characters."),
    ],
)
def test_a_wrong_walk_status_is_refused_clearly(w, client, sign_in, data, message):
    campaign = make_campaign(w)
    entry = entries_of(campaign.id, w.member.id)[0]
    sign_in(w.member)
    response = client.post(f"/outcomes/walk-list/{entry.id}", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert entries_of(campaign.id, w.member.id)[0].status == "pending"


def test_the_walk_status_form_needs_its_csrf_token(w, client, sign_in, request):
    campaign = make_campaign(w)
    entry = entries_of(campaign.id, w.member.id)[0]
    sign_in(w.member)
    request.getfixturevalue("csrf_enabled")
    assert client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "reached"}).status_code == 400
    token = csrf_token_from(client.get(f"/outcomes/campaigns/{campaign.id}/walk-list").get_data(as_text=True))
    response = client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "reached", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.get(WalkListEntry, entry.id).status == "reached"


def test_the_manager_sees_and_updates_any_members_list_and_the_department_only_reads(w, client, sign_in):
    campaign = make_campaign(w)
    entry = entries_of(campaign.id, w.colleague.id)[0]
    base = f"/outcomes/campaigns/{campaign.id}/walk-list"
    sign_in(w.manager)
    text = page(client.get(f"{base}?member_id={w.colleague.id}"))
    assert entry.household.address in text and 'name="status"' in text
    response = client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "declined"})
    assert response.status_code == 302
    assert db.session.get(WalkListEntry, entry.id).status == "declined"
    # Without member_id the manager (who walks no list) is sent to the campaign's progress.
    assert client.get(base).headers["Location"].endswith(f"/outcomes/campaigns/{campaign.id}")
    assert client.get(f"{base}?member_id=abc").status_code == 400
    assert "member_id must be the number of a member." in page(client.get(f"{base}?member_id=-3"))
    assert client.get(f"{base}?member_id=999999").status_code == 404

    sign_in(w.department)
    assert client.get(f"/outcomes/campaigns/{campaign.id}").status_code == 200
    text = page(client.get(f"{base}?member_id={w.colleague.id}"))
    assert entry.household.address in text and 'name="status"' not in text
    assert client.post(f"/outcomes/walk-list/{entry.id}", data={"status": "reached"}).status_code == 403
    assert db.session.get(WalkListEntry, entry.id).status == "declined"


def test_the_printable_list_holds_every_household_of_the_member_exactly_once(w, client, sign_in):
    campaign = make_campaign(w)
    all_codes = {e.household.code for e in entries_of(campaign.id)}
    sign_in(w.manager)
    for member in (w.member, w.colleague):
        mine = entries_of(campaign.id, member.id)
        response = client.get(f"/outcomes/campaigns/{campaign.id}/walk-list/print?member_id={member.id}")
        assert response.status_code == 200
        text = page(response)
        assert "<script" not in text and "<form" not in text.split('id="content"')[1]
        assert member.full_name in text and campaign.name in text
        printed = re.findall(r"<td>([AB][0-9])</td>", text)
        assert sorted(printed) == sorted(e.household.code for e in mine)  # each exactly once
        assert set(printed) <= all_codes
        assert text.count('class="walk-entry"') == len(mine)
        assert text.count('class="tick"') == 3 * len(mine)  # reached / not at home / declined
        for entry in mine:
            for resident in entry.household.residents:
                assert text.count(resident.full_name) == 1

    # In Vietnamese the column is the household's address, not an IP address.
    text = page(client.get(f"/outcomes/campaigns/{campaign.id}/walk-list/print?member_id={w.member.id}&lang=vi"))
    assert '<th scope="col">Địa chỉ</th>' in text and "Địa chỉ IP" not in text

    # A member prints their own list without giving member_id.
    sign_in(w.member)
    text = page(client.get(f"/outcomes/campaigns/{campaign.id}/walk-list/print"))
    assert sorted(re.findall(r"<td>([AB][0-9])</td>", text)) == sorted(
        e.household.code for e in entries_of(campaign.id, w.member.id)
    )


def test_the_campaign_form_shows_every_problem_at_once(w, client, sign_in):
    """The dates out of order are told with the missing name and villages, not after them."""
    sign_in(w.manager)
    today = local_today()
    response = client.post(
        "/outcomes/campaigns/new",
        data={
            "name": "",
            "milestone": "eid_activated",
            "starts_on": (today + timedelta(days=5)).isoformat(),
            "ends_on": today.isoformat(),
            "members": [str(w.member.id)],
        },
    )
    assert response.status_code == 400
    text = page(response)
    for message in (
        "Give the campaign a name.",
        "Choose one or more villages of this commune.",
        "The campaign ends before it starts.",
    ):
        assert message in text
    assert db.session.scalar(db.select(Campaign)) is None
