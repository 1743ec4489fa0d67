"""Restricting processing at a person's objection: who may, for the whole person (account and
records), left out of campaigns' walk lists; lifting restores it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import local_today
from app.extensions import db
from app.outcomes import campaigns
from app.outcomes.models import Household, Resident, WalkListEntry
from app.outcomes.operations import active_milestones, ensure_default_milestones
from app.privacy import requests
from app.visits.models import Team, TeamMember


def test_staff_restrict_a_resident_of_their_commune_and_lift_it(people, login_as):
    client = login_as(people.tech)

    assert client.post(f"/privacy/residents/{people.r_record.id}/restrict").status_code == 302
    db.session.expire_all()
    # One person: the record and its account.
    assert people.r_record.restricted_at is not None and people.r_record.restricted_by_id == people.tech.id
    assert people.r.restricted_at is not None
    assert "Processing is restricted" in client.get(f"/outcomes/residents/{people.r_record.id}").get_data(as_text=True)
    assert client.post(f"/privacy/residents/{people.r_record.id}/restrict").status_code == 409

    assert client.post(f"/privacy/residents/{people.r_record.id}/lift-restriction").status_code == 302
    db.session.expire_all()
    assert people.r_record.restricted_at is None and people.r.restricted_at is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["processing_restricted", "processing_restriction_lifted"]


def test_no_one_restricts_outside_their_area_and_a_resident_asks_by_objection(people, login_as):
    client = login_as(people.tech2)
    assert client.post(f"/privacy/residents/{people.rec.id}/restrict").status_code == 403
    client.post("/logout")
    assert login_as(people.r).post(f"/privacy/residents/{people.r_record.id}/restrict").status_code == 403
    db.session.expire_all()
    assert people.rec.restricted_at is None and people.r_record.restricted_at is None


def test_the_officer_restricts_an_account_from_an_objection(people, login_as):
    objection = requests.file_request("objection", filed_by=people.r, user=people.r)
    db.session.flush()
    client = login_as(people.officer)
    assert "Restrict processing" in client.get(f"/privacy/requests/{objection.id}").get_data(as_text=True)

    assert client.post(f"/privacy/requests/{objection.id}/restrict").status_code == 302
    db.session.expire_all()
    assert people.r.restricted_at is not None and people.r_record.restricted_at is not None
    client.post("/logout")
    page = login_as(people.r).get("/privacy/me/requests").get_data(as_text=True)
    assert "Processing of your data is restricted" in page


def test_a_commune_manager_may_not_restrict_another_communes_person_through_a_request(people, login_as):
    objection = requests.file_request("objection", filed_by=people.cm2, resident=people.rec2)
    db.session.flush()
    assert login_as(people.cm).post(f"/privacy/requests/{objection.id}/restrict").status_code == 403
    db.session.expire_all()
    assert people.rec2.restricted_at is None


def _household(units, code: str, *names_restricted: tuple[str, bool]) -> Household:
    household = Household(unit_id=units["v1a"].id, code=code, address=f"Số {code}")
    db.session.add(household)
    db.session.flush()
    for name, restricted in names_restricted:
        person = Resident(unit_id=units["v1a"].id, household_id=household.id, full_name=name, birth_year=1960)
        db.session.add(person)
        db.session.flush()
        if restricted:
            person.restricted_at = person.created_at
    db.session.flush()
    return household


def test_a_campaign_walks_a_household_only_for_someone_there_who_is_not_restricted(people, login_as):
    team = Team(unit_id=people.units["c1"].id, name="Tổ C1")
    team.members = [TeamMember(user_id=people.tech.id, skills=["eid"])]
    db.session.add(team)
    alone = _household(people.units, "H1", ("Bà Chỉ Một", True))
    shared = _household(people.units, "H2", ("Ông Hạn Chế", True), ("Cô Bình Thường", False))
    open_ = _household(people.units, "H3", ("Anh Mở", False))
    ensure_default_milestones()
    milestone = active_milestones()[0]
    today = local_today()

    campaign = campaigns.create_campaign(
        people.cm,
        name="Chiến dịch",
        milestone=milestone,
        commune=people.units["c1"],
        village_codes=["C1A"],
        starts_on=today,
        ends_on=today + timedelta(days=7),
    )

    walked = set(db.session.scalars(select(WalkListEntry.household_id).where(WalkListEntry.campaign_id == campaign.id)))
    assert walked == {shared.id, open_.id}
    assert alone.id not in walked
    page = login_as(people.cm).get(f"/outcomes/campaigns/{campaign.id}/walk-list?member_id={people.tech.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Cô Bình Thường" in text and "Anh Mở" in text
    assert "Ông Hạn Chế" not in text
    printed = login_as(people.cm).get(f"/outcomes/campaigns/{campaign.id}/walk-list/print?member_id={people.tech.id}")
    assert "Ông Hạn Chế" not in printed.get_data(as_text=True)
