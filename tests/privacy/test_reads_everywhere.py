"""Every door that shows people writes who read whom: people pages and lists, help requests,
follow-ups, walk lists and their print, teams, the ledger and its exports, visits, and the API."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import LOCAL_TZ, local_today, utcnow
from app.extensions import db
from app.outcomes import campaigns
from app.outcomes.models import FollowUp, Resident
from app.outcomes.operations import active_milestones, ensure_default_milestones
from app.outcomes.residents import import_households
from app.visits import group_sessions, help_requests
from app.visits.models import Team, TeamMember, Visit

HEADER = "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"


@pytest.fixture
def w(db, units, make_user):
    ensure_default_milestones()
    milestones = {m.key: m for m in active_milestones()}
    w = SimpleNamespace()
    w.units = units
    w.manager = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    w.member = make_user("tech_team", units["v1a"], full_name="Lê Văn Tâm")
    w.person = make_user("resident", units["v1a"], full_name="Phạm Thị Hoa")
    team = Team(unit_id=units["c1"].id, name="Tổ C1")
    team.members = [TeamMember(user_id=w.member.id, skills=["eid"])]
    db.session.add(team)
    w.team = team
    rows = [f"C1A,A{i},Số {i} xóm Đông,RA{i},Nguyễn Văn A{i},{1950 + i}," for i in range(3)]
    import_households(
        w.manager, units["c1"], "c1.csv", (HEADER + "\n".join(rows) + "\n").encode(), legal_basis="state_task"
    )
    db.session.flush()
    w.residents = list(db.session.scalars(db.select(Resident).order_by(Resident.id)))
    w.campaign = campaigns.create_campaign(
        w.manager,
        name="Kích hoạt VNeID",
        milestone=milestones["eid_activated"],
        commune=units["c1"],
        village_codes=["C1A"],
        starts_on=local_today(),
        ends_on=local_today() + timedelta(days=30),
    )
    db.session.flush()
    return w


def _resident_ids(reads, **where) -> set[int]:
    return {read.resident_id for read in reads(**where)}


def test_people_pages_and_lists(w, client, login_as, reads):
    login_as(w.manager)
    assert client.get("/users/").status_code == 200
    listed = reads(endpoint="users.index")
    assert w.person.id in {r.user_id for r in listed} and w.manager.id not in {r.user_id for r in listed}
    assert {r.kind for r in listed} == {"list"}
    assert client.get(f"/users/{w.person.id}").status_code == 200
    [read] = reads(endpoint="users.show")
    assert (read.user_id, read.kind) == (w.person.id, "person_page")


def test_ones_own_person_page_is_not_logged(w, client, login_as, reads):
    login_as(w.person)
    assert client.get(f"/users/{w.person.id}").status_code == 200
    assert reads() == []


def test_help_requests_triage_and_booking(w, client, login_as, reads):
    request = help_requests.create_help_request(
        w.manager, skill="eid", unit=w.units["v1a"], place="Nhà", name="Phạm Thị Hoa", consent=True, resident=w.person
    )
    login_as(w.manager)
    assert client.get("/visits/triage").status_code == 200
    assert [r.user_id for r in reads(endpoint="visits.triage")] == [w.person.id]
    assert client.get(f"/visits/requests/{request.id}/book").status_code == 200
    assert [r.kind for r in reads(endpoint="visits.book_request", user_id=w.person.id)] == ["resident_page"]


def test_walk_lists_and_their_print(w, client, login_as, reads):
    login_as(w.member)
    assert client.get(f"/outcomes/campaigns/{w.campaign.id}/walk-list").status_code == 200
    assert _resident_ids(reads, endpoint="outcomes.campaign_walk_list") == {r.id for r in w.residents}
    assert client.get(f"/outcomes/campaigns/{w.campaign.id}/walk-list/print").status_code == 200
    printed = reads(endpoint="outcomes.campaign_walk_list_print")
    assert {r.resident_id for r in printed} == {r.id for r in w.residents}
    assert {r.kind for r in printed} == {"export"}


def test_follow_ups(w, client, login_as, reads):
    resident = w.residents[0]
    db.session.add(
        FollowUp(
            resident_id=resident.id,
            unit_id=resident.unit_id,
            assigned_to_id=w.member.id,
            due_on=local_today(),
            reason="Gọi lại",
            created_by_id=w.manager.id,
        )
    )
    db.session.flush()
    login_as(w.manager)
    assert client.get("/outcomes/follow-ups").status_code == 200
    assert _resident_ids(reads, endpoint="outcomes.follow_ups") == {resident.id}


def test_team_page_and_ledger_with_its_exports(w, client, login_as, reads):
    login_as(w.manager)
    assert client.get(f"/visits/teams/{w.team.id}").status_code == 200
    assert {r.user_id for r in reads(endpoint="visits.team_detail")} == {w.member.id}
    for url, endpoint, kind in (
        ("/outcomes/ledger", "outcomes.ledger_index", "list"),
        ("/outcomes/ledger.csv", "outcomes.ledger_csv", "export"),
        ("/outcomes/ledger.xlsx", "outcomes.ledger_xlsx", "export"),
    ):
        assert client.get(url).status_code == 200, url
        logged = reads(endpoint=endpoint)
        assert w.member.id in {r.user_id for r in logged}, url
        assert {r.kind for r in logged} == {kind}


def test_a_visit_page(w, client, login_as, reads):
    start = utcnow() + timedelta(days=1)
    visit = Visit(
        member_id=w.member.id,
        unit_id=w.units["v1a"].id,
        resident_id=w.person.id,
        skill="eid",
        place="Nhà chị Hoa",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        booked_by_id=w.manager.id,
    )
    db.session.add(visit)
    db.session.flush()
    login_as(w.member)
    assert client.get(f"/visits/visits/{visit.id}").status_code == 200
    assert [r.user_id for r in reads(endpoint="visits.visit_detail")] == [w.person.id]
    week = visit.starts_at.astimezone(LOCAL_TZ).date().isoformat()
    assert client.get(f"/visits/agenda?week={week}").status_code == 200
    assert [r.user_id for r in reads(endpoint="visits.agenda")] == [w.person.id]
    client.post("/logout")
    login_as(w.manager)
    assert client.get(f"/visits/calendar?week={week}").status_code == 200
    assert [r.user_id for r in reads(endpoint="visits.team_calendar")] == [w.person.id]
    client.post("/logout")
    login_as(w.person)  # the visited person reading their own visit: not logged
    assert client.get(f"/visits/visits/{visit.id}").status_code == 200
    assert len(reads(endpoint="visits.visit_detail")) == 1


def test_api_walk_list_and_teams(w, client, api_token, reads):
    headers = api_token(w.member)
    assert client.get(f"/api/v1/campaigns/{w.campaign.id}/walk-list", headers=headers).status_code == 200
    walked = reads(endpoint="GET /api/v1/campaigns/{campaign_id}/walk-list")
    assert {r.resident_id for r in walked} == {r.id for r in w.residents}
    assert {r.kind for r in walked} == {"api"}
    headers = api_token(w.manager)
    assert client.get("/api/v1/teams?unit=C1", headers=headers).status_code == 200
    assert {r.user_id for r in reads(endpoint="GET /api/v1/teams")} == {w.member.id}


def test_a_group_sessions_sign_ups(w, client, login_as, reads):
    session = group_sessions.create_group_session(
        w.manager,
        unit=w.units["c1"],
        title="Cài VNeID",
        place="Nhà văn hoá xã",
        starts_at=utcnow().replace(microsecond=0) + timedelta(days=10),
        duration_minutes=90,
        skills=["eid"],
        capacity=20,
        host=w.member,
    )
    group_sessions.sign_up(session, w.person, by=w.manager)
    db.session.flush()
    login_as(w.member)
    assert client.get(f"/visits/sessions/{session.id}").status_code == 200
    assert [r.user_id for r in reads(endpoint="visits.session_detail")] == [w.person.id]


def test_a_communes_learners_on_its_report_page(w, client, login_as, reads):
    login_as(w.manager)
    assert client.get("/reports/units/C1").status_code == 200
    logged = reads(endpoint="reports.commune")
    assert w.person.id in {r.user_id for r in logged}
    assert {r.kind for r in logged} == {"list"}


def test_the_team_report_and_its_export_and_the_members_hours_list(w, client, login_as, reads):
    login_as(w.manager)
    assert client.get("/reports/teams?unit=C1").status_code == 200
    assert {r.user_id for r in reads(endpoint="reports.teams")} == {w.member.id}
    assert client.get("/reports/teams.csv?unit=C1&table=members").status_code == 200
    assert [r.kind for r in reads(endpoint="reports.teams_export")] == ["export"]
    assert client.get("/reports/teams.csv?unit=C1&table=skills").status_code == 200
    assert len(reads(endpoint="reports.teams_export")) == 1  # no people in that table
    assert client.get("/visits/availability").status_code == 200
    assert w.member.id in {r.user_id for r in reads(endpoint="visits.availability")}
