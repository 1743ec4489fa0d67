"""Team and availability pages: forming teams, members' skills, weekly hours and dates away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.visits.models import AvailabilityException, Team, TeamMember, WeeklyAvailability
from app.visits.teams import local_today


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def manager(make_user, units):
    return make_user("commune_manager", units["c1"])


@pytest.fixture
def team(db, units):
    team = Team(unit=units["v1a"], name="Đội Thôn 1A")
    db.session.add(team)
    db.session.flush()
    return team


def add_member(db, team, person, skills=("eid",), leader=False):
    membership = TeamMember(team=team, user=person, skills=list(skills), is_leader=leader)
    db.session.add(membership)
    db.session.flush()
    return membership


# --- teams ---------------------------------------------------------------------------------


def test_commune_manager_creates_a_team_in_a_village_of_their_commune(client, db, login_as, manager):
    login_as(manager)
    page = client.get("/visits/teams")
    assert page.status_code == 200
    assert "C1A" in page.get_data(as_text=True)

    response = client.post("/visits/teams", data={"name": "  Đội   Thôn 1A ", "unit": "C1A"})

    team = db.session.scalar(select(Team))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/teams/{team.id}")
    assert team.name == "Đội Thôn 1A"
    assert team.unit.code == "C1A"


def test_the_team_list_shows_only_the_teams_in_the_managers_commune(client, db, login_as, manager, units):
    db.session.add_all([Team(unit=units["v1b"], name="Team of 1B"), Team(unit=units["c2"], name="Team of C2")])
    db.session.flush()
    login_as(manager)

    html = client.get("/visits/teams").get_data(as_text=True)

    assert "Team of 1B" in html
    assert "Team of C2" not in html
    assert 'value="C2A"' not in html


def test_a_team_without_a_name_or_a_place_is_refused_and_nothing_is_written(client, db, login_as, manager):
    login_as(manager)

    no_name = client.post("/visits/teams", data={"name": " ", "unit": "C1A"})
    no_unit = client.post("/visits/teams", data={"name": "Team", "unit": ""})
    unknown_unit = client.post("/visits/teams", data={"name": "Team", "unit": "NOPE"})

    assert no_name.status_code == 400
    assert "Give the team a name." in no_name.get_data(as_text=True)
    assert no_unit.status_code == 400
    assert "Choose the commune or village the team works in." in no_unit.get_data(as_text=True)
    assert unknown_unit.status_code == 400
    assert "Choose the commune or village the team works in." in unknown_unit.get_data(as_text=True)
    assert count(db, Team) == 0


def test_a_team_in_another_commune_is_refused(client, db, login_as, manager):
    login_as(manager)

    response = client.post("/visits/teams", data={"name": "Team", "unit": "C2A"})

    assert response.status_code == 403
    assert count(db, Team) == 0


@pytest.mark.parametrize("role", ["resident", "cadre", "tech_team", "department_manager"])
def test_only_managers_may_manage_teams(client, login_as, make_user, team, role):
    login_as(make_user(role))

    assert client.get("/visits/teams").status_code == 403
    assert client.get(f"/visits/teams/{team.id}").status_code == 403


def test_manager_adds_a_tech_team_member_with_skills_and_the_leader_flag(
    client, db, login_as, manager, make_user, units, team
):
    member = make_user("tech_team", units["v1b"], full_name="Trần Kỹ Thuật")
    login_as(manager)
    page = client.get(f"/visits/teams/{team.id}").get_data(as_text=True)
    assert "Trần Kỹ Thuật" in page
    assert "Online public services" in page

    response = client.post(
        f"/visits/teams/{team.id}",
        data={"add-user": str(member.id), "add-skills": ["eid", "cashless"], "add-is_leader": "y"},
    )

    assert response.status_code == 302
    membership = db.session.scalar(select(TeamMember))
    assert (membership.user_id, membership.skills, membership.is_leader) == (member.id, ["eid", "cashless"], True)
    html = client.get(f"/visits/teams/{team.id}").get_data(as_text=True)
    assert "Team leader" in html


def test_only_tech_team_accounts_of_the_commune_can_be_added(client, db, login_as, manager, make_user, units, team):
    other_commune = make_user("tech_team", units["v2a"], full_name="Người Xã Hai")
    resident = make_user("resident", units["v1a"], full_name="Cư Dân")
    login_as(manager)
    html = client.get(f"/visits/teams/{team.id}").get_data(as_text=True)
    assert "Người Xã Hai" not in html
    assert "Cư Dân" not in html

    for person in (other_commune, resident):
        response = client.post(f"/visits/teams/{team.id}", data={"add-user": str(person.id), "add-skills": ["eid"]})
        assert response.status_code == 400
        assert "Choose a tech-team member of this commune." in response.get_data(as_text=True)
    assert count(db, TeamMember) == 0


def test_unknown_skills_and_duplicate_members_are_refused(client, db, login_as, manager, make_user, units, team):
    member = make_user("tech_team", units["c1"])
    membership = add_member(db, team, member)
    newcomer = make_user("tech_team", units["c1"])
    login_as(manager)

    bad_skill = client.post(f"/visits/teams/{team.id}", data={"add-user": str(newcomer.id), "add-skills": ["flying"]})
    duplicate = client.post(f"/visits/teams/{team.id}", data={"add-user": str(member.id)})
    bad_update = client.post(
        f"/visits/teams/{team.id}/members/{membership.id}", data={f"m{membership.id}-skills": ["flying"]}
    )

    assert bad_skill.status_code == 400
    assert "Choose kinds of help from the list." in bad_skill.get_data(as_text=True)
    assert duplicate.status_code == 400
    assert "is already in this team" in duplicate.get_data(as_text=True)
    assert bad_update.status_code == 400
    assert "Choose kinds of help from the list." in bad_update.get_data(as_text=True)
    db.session.refresh(membership)
    assert membership.skills == ["eid"]
    assert count(db, TeamMember) == 1


def test_manager_changes_a_members_skills_and_removes_them(client, db, login_as, manager, make_user, team):
    membership = add_member(db, team, make_user("tech_team"), skills=("eid",), leader=True)
    login_as(manager)

    response = client.post(
        f"/visits/teams/{team.id}/members/{membership.id}",
        data={f"m{membership.id}-skills": ["safety", "phone_basics"]},
    )
    assert response.status_code == 302
    db.session.refresh(membership)
    assert (membership.skills, membership.is_leader) == (["safety", "phone_basics"], False)

    removed = client.post(f"/visits/teams/{team.id}/members/{membership.id}/remove")
    assert removed.status_code == 302
    assert count(db, TeamMember) == 0


def test_manager_of_another_commune_cannot_see_or_change_a_team(client, db, login_as, make_user, units, team):
    membership = add_member(db, team, make_user("tech_team"))
    login_as(make_user("commune_manager", units["c2"]))

    assert client.get(f"/visits/teams/{team.id}").status_code == 403
    add = client.post(f"/visits/teams/{team.id}", data={"add-user": str(membership.user_id)})
    update = client.post(f"/visits/teams/{team.id}/members/{membership.id}", data={f"m{membership.id}-skills": []})
    remove = client.post(f"/visits/teams/{team.id}/members/{membership.id}/remove")
    assert (add.status_code, update.status_code, remove.status_code) == (403, 403, 403)
    db.session.refresh(membership)
    assert membership.skills == ["eid"]
    assert client.get("/visits/teams/999999").status_code == 404


def test_removing_a_member_needs_the_csrf_token(client, db, login_as, manager, make_user, team, request):
    membership = add_member(db, team, make_user("tech_team"))
    login_as(manager)
    request.getfixturevalue("csrf_enabled")

    response = client.post(f"/visits/teams/{team.id}/members/{membership.id}/remove")

    assert response.status_code == 400
    assert count(db, TeamMember) == 1


def test_the_team_page_does_not_query_once_per_members_village(
    db, login_as, manager, team, make_user, villages, queries_by_spread
):
    people = [make_user("tech_team", villages[0]) for _ in range(6)]
    for person in people[:3]:  # the other three are offered on the add-a-member list
        add_member(db, team, person)
    login_as(manager)
    in_two, in_six = queries_by_spread(f"/visits/teams/{team.id}", people)
    assert in_six == in_two


# --- availability --------------------------------------------------------------------------


@pytest.fixture
def member(make_user, units):
    return make_user("tech_team", units["v1a"], full_name="Lê Thành Viên")


def weekly(db, person):
    return [
        (w.weekday, w.start_minute, w.end_minute)
        for w in db.session.scalars(
            select(WeeklyAvailability)
            .where(WeeklyAvailability.user_id == person.id)
            .order_by(WeeklyAvailability.weekday, WeeklyAvailability.start_minute)
        )
    ]


def add_hours(client, url, weekday, start, end):
    return client.post(
        url, data={"weekly-weekday": str(weekday), "weekly-start": start, "weekly-end": end, "weekly-submit": "y"}
    )


def test_a_member_adds_weekly_hours_including_until_midnight(client, db, login_as, member):
    login_as(member)
    page = client.get("/visits/availability")
    assert page.status_code == 200
    assert "24:00" in page.get_data(as_text=True)

    first = add_hours(client, "/visits/availability", 1, "18:00", "20:00")
    second = add_hours(client, "/visits/availability", 5, "22:00", "24:00")

    assert first.status_code == second.status_code == 302
    assert weekly(db, member) == [(1, 1080, 1200), (5, 1320, 1440)]
    html = client.get("/visits/availability").get_data(as_text=True)
    assert "Tuesday" in html
    assert "18:00–20:00" in html
    assert "22:00–24:00" in html


def test_overlapping_weekly_hours_are_merged_and_the_member_is_told(client, db, login_as, member):
    login_as(member)
    add_hours(client, "/visits/availability", 1, "18:00", "20:00")

    response = add_hours(client, "/visits/availability", 1, "17:00", "19:00")

    assert response.status_code == 302
    assert weekly(db, member) == [(1, 1020, 1200)]
    html = client.get("/visits/availability").get_data(as_text=True)
    assert "merged into Tuesday 17:00–20:00" in html


def test_weekly_hours_that_end_before_they_start_are_refused(client, db, login_as, member):
    login_as(member)

    backwards = add_hours(client, "/visits/availability", 1, "20:00", "18:00")
    no_day = add_hours(client, "/visits/availability", 9, "18:00", "20:00")
    nonsense = add_hours(client, "/visits/availability", 1, "later", "20:00")

    assert backwards.status_code == 400
    assert "The end time must be after the start time." in backwards.get_data(as_text=True)
    assert no_day.status_code == 400
    assert "Choose a day of the week." in no_day.get_data(as_text=True)
    assert nonsense.status_code == 400
    assert "Choose the start and end times." in nonsense.get_data(as_text=True)
    assert weekly(db, member) == []


def test_a_member_deletes_weekly_hours(client, db, login_as, member):
    window = WeeklyAvailability(user_id=member.id, weekday=2, start_minute=480, end_minute=600)
    db.session.add(window)
    db.session.flush()
    login_as(member)

    response = client.post(f"/visits/availability/{member.id}/weekly/{window.id}/delete")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/visits/availability")
    assert weekly(db, member) == []


def add_date(client, url, **fields):
    data = {"date-submit": "y", **{f"date-{key}": value for key, value in fields.items()}}
    return client.post(url, data=data)


def test_a_member_records_dates_away_and_extra_hours(client, db, login_as, member):
    login_as(member)
    day = local_today() + timedelta(days=3)

    away = add_date(client, "/visits/availability", on_date=day.isoformat(), kind="away_day", note="Đám cưới")
    hours = add_date(
        client, "/visits/availability", on_date=day.isoformat(), kind="away_hours", start="08:00", end="10:00"
    )
    extra = add_date(client, "/visits/availability", on_date=day.isoformat(), kind="extra", start="19:00", end="24:00")

    assert (away.status_code, hours.status_code, extra.status_code) == (302, 302, 302)
    rows = db.session.scalars(
        select(AvailabilityException).order_by(AvailabilityException.start_minute.nulls_first())
    ).all()
    assert [(r.kind, r.start_minute, r.end_minute, r.note) for r in rows] == [
        ("away", None, None, "Đám cưới"),
        ("away", 480, 600, None),
        ("extra", 1140, 1440, None),
    ]
    html = client.get("/visits/availability").get_data(as_text=True)
    assert "away all day" in html
    assert "extra hours 19:00–24:00" in html

    delete = client.post(f"/visits/availability/{member.id}/exceptions/{rows[0].id}/delete")
    assert delete.status_code == 302
    assert count(db, AvailabilityException) == 2


def test_dates_in_the_past_and_backwards_hours_are_refused(client, db, login_as, member):
    login_as(member)
    yesterday = local_today() - timedelta(days=1)
    tomorrow = local_today() + timedelta(days=1)

    past = add_date(client, "/visits/availability", on_date=yesterday.isoformat(), kind="away_day")
    backwards = add_date(
        client, "/visits/availability", on_date=tomorrow.isoformat(), kind="extra", start="12:00", end="09:00"
    )
    no_date = add_date(client, "/visits/availability", on_date="", kind="away_day")
    bad_kind = add_date(client, "/visits/availability", on_date=tomorrow.isoformat(), kind="holiday")

    assert past.status_code == 400
    assert "This date is in the past." in past.get_data(as_text=True)
    assert backwards.status_code == 400
    assert "The end time must be after the start time." in backwards.get_data(as_text=True)
    assert no_date.status_code == 400
    assert "Enter the date." in no_date.get_data(as_text=True)
    assert bad_kind.status_code == 400
    assert "Choose away all day, away some hours or extra hours." in bad_kind.get_data(as_text=True)
    # A past date with a note too long: both told at once, not the date once the note is fixed.
    both = add_date(client, "/visits/availability", on_date=yesterday.isoformat(), kind="away_day", note="x" * 201)
    assert both.status_code == 400
    assert "This date is in the past." in both.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in both.get_data(as_text=True)
    assert count(db, AvailabilityException) == 0


def test_a_commune_manager_keeps_the_hours_of_their_members(client, db, login_as, manager, member):
    login_as(manager)
    listing = client.get("/visits/availability")
    assert listing.status_code == 200
    assert "Lê Thành Viên" in listing.get_data(as_text=True)

    url = f"/visits/availability/{member.id}"
    assert client.get(url).status_code == 200
    response = add_hours(client, url, 0, "08:00", "11:30")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    assert weekly(db, member) == [(0, 480, 690)]


def test_others_cannot_see_or_change_a_members_hours(client, db, login_as, make_user, units, member):
    window = WeeklyAvailability(user_id=member.id, weekday=2, start_minute=480, end_minute=600)
    db.session.add(window)
    db.session.flush()
    url = f"/visits/availability/{member.id}"
    outsiders = [
        make_user("commune_manager", units["c2"]),
        make_user("tech_team", units["c1"]),
        make_user("resident", units["v1a"]),
    ]
    for outsider in outsiders:
        client.post("/logout")
        login_as(outsider)
        assert client.get(url).status_code == 403
        assert add_hours(client, url, 0, "08:00", "10:00").status_code == 403
        assert client.post(f"{url}/weekly/{window.id}/delete").status_code == 403
    assert client.get("/visits/availability").status_code == 403  # the resident's own page
    assert weekly(db, member) == [(2, 480, 600)]


def test_the_members_availability_list_does_not_query_once_per_village(
    client, db, login_as, manager, units, make_unit, make_user, page_queries
):
    villages = [make_unit("village", units["c1"], name=f"Thôn số {n}") for n in range(6)]
    people = [make_user("tech_team", villages[0]) for _ in range(6)]
    login_as(manager)
    client.get("/visits/availability")  # the first page of a session also counts the menu's notifications
    counts = []
    for spread_over in (2, 6):
        for n, person in enumerate(people):
            person.unit = villages[n % spread_over]
        db.session.flush()
        statements, html = page_queries("/visits/availability")
        counts.append(statements)
    assert counts[1] == counts[0]
    assert all(village.name in html for village in villages)
