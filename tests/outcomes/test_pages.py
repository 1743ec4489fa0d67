"""The outcome pages: residents, the resident page and its forms, the household import, milestones
after a group session, follow-ups — each with its refusals from another commune's side."""

from __future__ import annotations

import html as html_text
import io
import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import event

from app.db import local_today, utcnow
from app.extensions import db
from app.learning import operations as learning
from app.outcomes import operations
from app.outcomes.models import (
    ConfidenceAssessment,
    FollowUp,
    Household,
    MilestoneEvidence,
    Resident,
    ResidentMilestone,
)
from app.outcomes.residents import COLUMNS, HEADERS
from app.privacy.models import PersonConsent
from app.privacy.purposes import NOTICE_VERSION
from app.visits.models import GroupSession, SessionSignup, Team, TeamMember
from tests.conftest import csrf_token_from


def page(response) -> str:
    """The page's text with HTML entities decoded (messages may contain apostrophes)."""
    return html_text.unescape(response.get_data(as_text=True))


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


@pytest.fixture
def w(db, units, make_user, milestones, team):
    """Commune C1 with its team (two members), a manager, residents with and without households;
    commune C2 with its own member, manager and resident."""
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
    household = Household(unit_id=units["v1a"].id, code="H1", address="Số 1 xóm Đông")
    db.session.add(household)
    db.session.flush()
    w.household = household
    w.lan = Resident(
        unit_id=units["v1a"].id, household_id=household.id, code="R1", full_name="Nguyễn Thị Lan", birth_year=1958
    )
    w.hoa = Resident(unit_id=units["v1b"].id, full_name="Lê Thị Hoa", birth_year=1970)
    w.tam = Resident(unit_id=units["v2a"].id, full_name="Chú Tám", birth_year=1965)
    db.session.add_all([w.lan, w.hoa, w.tam])
    db.session.flush()
    return w


def record(w, resident, key="eid_installed", *, days_ago=0, helped_by=None, confirmation="seen_on_phone"):
    return operations.record_milestone(
        w.member,
        resident,
        w.milestones[key],
        on_date=local_today() - timedelta(days=days_ago),
        confirmation=confirmation,
        helped_by=helped_by,
    )


# --- the residents list ---------------------------------------------------------------------


def test_the_residents_list_shows_households_and_milestones_in_the_members_commune(w, client, login_as):
    record(w, w.lan, "eid_installed")
    login_as(w.member)
    html = page(client.get("/outcomes/residents"))
    assert "Nguyễn Thị Lan" in html and "Lê Thị Hoa" in html
    assert "Số 1 xóm Đông" in html
    assert "E-ID app installed" in html
    assert "Chú Tám" not in html  # another commune


def test_the_residents_list_searches_by_name_and_filters_by_village(w, client, login_as):
    login_as(w.manager)
    html = page(client.get("/outcomes/residents?q=hoa"))
    assert "Lê Thị Hoa" in html and "Nguyễn Thị Lan" not in html
    html = page(client.get("/outcomes/residents?unit=C1A"))
    assert "Nguyễn Thị Lan" in html and "Lê Thị Hoa" not in html


def test_the_residents_list_is_paginated(w, client, login_as):
    db.session.add_all([Resident(unit_id=w.units["v1b"].id, full_name=f"Người số {n:03d}") for n in range(60)])
    db.session.flush()
    login_as(w.member)
    first = page(client.get("/outcomes/residents"))
    assert "Page 1 of 2" in first
    second = page(client.get("/outcomes/residents?page=2"))
    assert "Page 2 of 2" in second


@contextmanager
def counting_queries():
    counter = {"n": 0}

    def count_query(*args):
        counter["n"] += 1

    connection = db.engines[None]  # the test's connection, shared by the requests
    event.listen(connection, "before_cursor_execute", count_query)
    try:
        yield counter
    finally:
        event.remove(connection, "before_cursor_execute", count_query)


def test_the_residents_list_needs_no_query_per_resident(w, client, login_as):
    login_as(w.member)
    with counting_queries() as few:
        client.get("/outcomes/residents")
    for n in range(20):
        household = Household(unit_id=w.units["v1b"].id, code=f"HX{n}", address=f"Số {n}")
        db.session.add(household)
        db.session.flush()
        resident = Resident(unit_id=w.units["v1b"].id, household_id=household.id, full_name=f"Người {n:02d}")
        db.session.add(resident)
        db.session.flush()
        record(w, resident, "scam_briefing")
    with counting_queries() as many:
        html = page(client.get("/outcomes/residents"))
    assert html.count("Scam-safety briefing done") == 20
    assert many["n"] <= few["n"] + 2


def test_the_residents_list_refuses_another_communes_village_and_people_without_access(w, client, login_as):
    login_as(w.member_c2)
    assert client.get("/outcomes/residents?unit=C1A").status_code == 403
    html = page(client.get("/outcomes/residents"))
    assert "Chú Tám" in html and "Nguyễn Thị Lan" not in html
    assert client.get("/outcomes/residents?unit=NOPE").status_code == 404
    client.post("/logout")
    login_as(w.cadre)
    assert client.get("/outcomes/residents").status_code == 403


def test_the_department_manager_sees_every_commune_but_cannot_add(w, client, login_as):
    login_as(w.department)
    html = page(client.get("/outcomes/residents"))
    assert "Nguyễn Thị Lan" in html and "Chú Tám" in html
    assert client.get("/outcomes/residents/new").status_code == 403
    assert client.get(f"/outcomes/residents/{w.lan.id}").status_code == 200


def test_the_menu_links_residents_and_follow_ups_by_permission(w, client, login_as):
    login_as(w.member)
    html = page(client.get("/"))
    assert "/outcomes/residents" in html and "/outcomes/follow-ups" in html
    client.post("/logout")
    login_as(w.department)
    html = page(client.get("/"))
    assert "/outcomes/residents" in html and "/outcomes/follow-ups" not in html
    client.post("/logout")
    login_as(w.cadre)
    assert "/outcomes/residents" not in page(client.get("/"))


# --- adding a resident ----------------------------------------------------------------------


GOOD_RESIDENT = {
    "village": "C1B",
    "full_name": "  Ông   Sáu ",
    "birth_year": "1950",
    "phone": "0912 345 678",
    "legal_basis": "state_task",
    "consent_messages": "y",
    "consent_channel": "assisted",
}


def test_a_member_adds_a_resident_by_hand(w, client, login_as):
    login_as(w.member)
    form = page(client.get("/outcomes/residents/new"))
    assert 'value="C1B"' in form and 'value="C2A"' not in form
    response = client.post("/outcomes/residents/new", data=GOOD_RESIDENT)
    assert response.status_code == 302
    resident = db.session.scalar(db.select(Resident).where(Resident.full_name == "Ông Sáu"))
    assert response.headers["Location"].endswith(f"/outcomes/residents/{resident.id}")
    assert (resident.unit_id, resident.birth_year, resident.consent_recorded_by_id) == (
        w.units["v1b"].id,
        1950,
        w.member.id,
    )
    assert resident.consent_at is not None
    decisions = {
        (row.purpose, row.basis, row.channel, row.notice_version, row.recorded_by_id)
        for row in db.session.scalars(db.select(PersonConsent).where(PersonConsent.resident_id == resident.id))
    }
    # The record's basis, and only the consent that was ticked (not progress sharing).
    assert decisions == {
        ("help_visits", "state_task", None, NOTICE_VERSION, w.member.id),
        ("messages", "consent", "assisted", NOTICE_VERSION, w.member.id),
    }


def test_the_consent_boxes_are_never_ticked_and_the_notice_is_linked(w, client, login_as):
    login_as(w.manager)
    for url in ("/outcomes/residents/new", "/outcomes/import", "/users/assisted/new"):
        form = page(client.get(url))
        boxes = re.findall(r"<input[^>]*consent_(?:help_visits|messages|progress_sharing)[^>]*>", form)
        assert len(boxes) == 3, url
        assert not any("checked" in box for box in boxes), url
        assert "/privacy/notice" in form and NOTICE_VERSION in form
        if url == "/outcomes/residents/new":
            basis = re.findall(r"<input[^>]*legal_basis[^>]*>", form)
            assert len(basis) == 2 and not any("checked" in radio for radio in basis)


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"legal_basis": None}, 400, "Say on what legal basis this record is kept."),
        ({"legal_basis": "contract"}, 400, "Choose the legal basis: a state task or the person's consent."),
        (
            {"legal_basis": "consent"},
            400,
            "The record rests on consent: record the person's consent to receiving help.",
        ),
        ({"consent_channel": "carrier_pigeon"}, 400, "Choose how the consent was given"),
        ({"full_name": ""}, 400, "Enter the resident's full name."),
        ({"village": ""}, 400, "Choose the resident's village or residential group."),
        ({"village": "C1"}, 400, "Choose the resident's village or residential group."),
        ({"birth_year": "1850"}, 400, "Enter a year such as 1958."),
        ({"birth_year": "2999"}, 400, "Enter a year such as 1958."),
        ({"phone": "call me"}, 400, "Enter the phone number as digits"),
        ({"village": "C2A"}, 403, ""),
    ],
)
def test_bad_resident_input_adds_nobody(w, client, login_as, changes, status, message):
    login_as(w.member)
    data = {key: value for key, value in {**GOOD_RESIDENT, **changes}.items() if value is not None}
    before = count(Resident), count(PersonConsent)
    response = client.post("/outcomes/residents/new", data=data)
    assert response.status_code == status
    assert message in page(response)
    assert (count(Resident), count(PersonConsent)) == before


def test_a_baby_born_this_local_year_is_not_in_the_future_on_a_server_in_utc(w, client, login_as, time_machine):
    # 00:30 on New Year's Day in Vietnam is still the old year in UTC, the zone servers often run in.
    time_machine.move_to(datetime(2026, 12, 31, 17, 30, tzinfo=ZoneInfo("UTC")))
    login_as(w.member)
    response = client.post("/outcomes/residents/new", data={**GOOD_RESIDENT, "birth_year": "2027"})
    assert response.status_code == 302, page(response)
    assert db.session.scalar(db.select(Resident.birth_year).where(Resident.full_name == "Ông Sáu")) == 2027


# --- the resident page ------------------------------------------------------------------------


def test_the_resident_page_shows_household_milestones_and_their_evidence(w, client, login_as):
    record(w, w.lan, "eid_installed", days_ago=3, helped_by=w.colleague)
    record(w, w.lan, "eid_installed", days_ago=1, confirmation="document")
    login_as(w.member)
    html = page(client.get(f"/outcomes/residents/{w.lan.id}"))
    assert "Số 1 xóm Đông" in html and "no. H1" in html
    assert "E-ID app installed" in html
    assert "Seen on the phone" in html and "Document" in html  # both pieces of evidence
    assert f"helped by {w.colleague.full_name}" in html
    assert "Evidence history" in html
    assert "Record a milestone" in html and "Record a self-assessment" in html
    assert "No account is linked" in html


def test_the_resident_page_is_refused_to_another_commune_and_unknown_is_404(w, client, login_as):
    for person in (w.member_c2, w.manager_c2):
        login_as(person)
        assert client.get(f"/outcomes/residents/{w.lan.id}").status_code == 403
        assert (
            client.post(
                f"/outcomes/residents/{w.lan.id}/milestones",
                data={
                    "milestone": "eid_installed",
                    "on_date": local_today().isoformat(),
                    "confirmation": "document",
                },
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/outcomes/residents/{w.lan.id}/assessments", data={"stage": "first_contact", "use_phone": "3"}
            ).status_code
            == 403
        )
        client.post("/logout")
    assert count(MilestoneEvidence) == 0 and count(ConfidenceAssessment) == 0
    login_as(w.member)
    assert client.get("/outcomes/residents/999999").status_code == 404


def test_a_member_records_a_milestone_and_a_second_time_only_adds_evidence(w, client, login_as):
    login_as(w.member)
    today = local_today()
    data = {
        "milestone": "eid_installed",
        "on_date": (today - timedelta(days=2)).isoformat(),
        "confirmation": "seen_on_phone",
        "helped_by": str(w.member.id),
    }
    response = client.post(f"/outcomes/residents/{w.lan.id}/milestones", data=data)
    assert response.status_code == 302
    assert "Milestone recorded: E-ID app installed." in page(client.get(response.headers["Location"]))
    again = client.post(
        f"/outcomes/residents/{w.lan.id}/milestones",
        data={**data, "on_date": today.isoformat(), "confirmation": "document", "helped_by": ""},
    )
    assert again.status_code == 302
    html = page(client.get(again.headers["Location"]))
    assert "E-ID app installed: already reached on" in html and "evidence added" in html
    assert count(ResidentMilestone) == 1
    assert count(MilestoneEvidence) == 2
    reached = db.session.scalar(db.select(ResidentMilestone))
    assert reached.reached_on == today - timedelta(days=2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"milestone": "flying"}, "Choose the milestone."),
        ({"confirmation": None}, "Choose how it was confirmed."),
        ({"confirmation": "gut_feeling"}, "Not a valid choice."),
        ({"on_date": "FUTURE"}, "The date cannot be in the future."),
        ({"on_date": "yesterday"}, "Not a valid date value."),
        ({"helped_by": "OUTSIDER"}, "Choose a member of the commune's teams."),
    ],
)
def test_bad_milestone_input_records_nothing(w, client, login_as, changes, message):
    if changes.get("on_date") == "FUTURE":
        changes = {"on_date": (local_today() + timedelta(days=3)).isoformat()}
    if changes.get("helped_by") == "OUTSIDER":
        changes = {"helped_by": str(w.member_c2.id)}
    data = {
        "milestone": "eid_installed",
        "on_date": local_today().isoformat(),
        "confirmation": "document",
        **changes,
    }
    login_as(w.member)
    response = client.post(
        f"/outcomes/residents/{w.lan.id}/milestones", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == 400
    assert message in page(response)
    assert count(MilestoneEvidence) == 0


def test_the_milestone_form_carries_a_csrf_token(w, client, csrf_enabled):
    login_as_with_csrf(client, w.member)
    html = page(client.get(f"/outcomes/residents/{w.lan.id}"))
    data = {
        "milestone": "scam_briefing",
        "on_date": local_today().isoformat(),
        "confirmation": "resident_word",
    }
    assert client.post(f"/outcomes/residents/{w.lan.id}/milestones", data=data).status_code == 400
    data["csrf_token"] = csrf_token_from(html)
    assert client.post(f"/outcomes/residents/{w.lan.id}/milestones", data=data).status_code == 302
    assert count(ResidentMilestone) == 1


def login_as_with_csrf(client, user):
    from tests.conftest import TEST_PASSWORD

    token = csrf_token_from(page(client.get("/login")))
    response = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_a_member_records_self_assessments_and_the_gain_is_shown(w, client, login_as):
    login_as(w.member)
    first = client.post(
        f"/outcomes/residents/{w.lan.id}/assessments", data={"stage": "first_contact", "use_phone": "2", "eid": "1"}
    )
    assert first.status_code == 302
    close = client.post(
        f"/outcomes/residents/{w.lan.id}/assessments", data={"stage": "close", "use_phone": "4", "eid": "4"}
    )
    assert close.status_code == 302
    html = page(client.get(f"/outcomes/residents/{w.lan.id}"))
    assert "First contact" in html and "Close of support" in html
    assert "+2.5 points" in html
    assert count(ConfidenceAssessment) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stage": "first_contact"}, "Answer at least one statement."),
        ({"use_phone": "3"}, "Choose when the self-assessment was taken."),
        ({"stage": "first_contact", "use_phone": "9"}, "Not a valid choice."),
    ],
)
def test_a_bad_self_assessment_is_refused(w, client, login_as, data, message):
    login_as(w.member)
    response = client.post(f"/outcomes/residents/{w.lan.id}/assessments", data=data)
    assert response.status_code == 400
    assert message in page(response)
    assert count(ConfidenceAssessment) == 0


def test_a_member_links_an_account_of_the_same_commune(w, client, login_as, make_user):
    account = make_user("resident", w.units["v1a"], full_name="Nguyễn Thị Lan", username="lan1958")
    other_commune = make_user("resident", w.units["v2a"], username="tam1965")
    login_as(w.member)
    html = page(client.get(f"/outcomes/residents/{w.lan.id}"))
    assert "lan1958" in html and "tam1965" not in html
    refused = client.post(f"/outcomes/residents/{w.lan.id}/account", data={"account": str(other_commune.id)})
    assert refused.status_code == 400
    assert "Choose one of the accounts listed." in page(refused)
    response = client.post(f"/outcomes/residents/{w.lan.id}/account", data={"account": str(account.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Resident, w.lan.id).user_id == account.id
    assert "lan1958" in page(client.get(f"/outcomes/residents/{w.lan.id}"))
    # The account is named as a username with its role's title, never the role's code.
    shown = page(client.get(f"/outcomes/residents/{w.lan.id}?lang=vi"))
    assert "tên đăng nhập lan1958 (Người dân)" in shown


def test_the_accounts_offered_for_linking_cost_no_query_per_village(
    w, login_as, make_user, villages, queries_by_spread
):
    accounts = [make_user("resident", villages[0]) for _ in range(6)]
    login_as(w.member)
    in_two, in_six = queries_by_spread(f"/outcomes/residents/{w.lan.id}", accounts)
    assert in_six == in_two


def _course_row(html: str, title: str) -> list[str]:
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if title in r)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_help_credited_learning_is_shown_apart_from_self_study_on_the_resident_page(
    w, client, login_as, make_user, real_courses
):
    account = make_user("resident", w.units["v1a"])
    w.lan.user_id = account.id
    db.session.flush()
    vneid = real_courses["vneid-basics"]
    first = vneid.active_modules[0]
    for lesson in first.active_lessons:
        learning.mark_lesson_read(account, lesson)
    attempt = learning.open_attempt(account, first.active_quiz)
    learning.submit_attempt(
        account,
        attempt,
        {aq.question_id: {o.id for o in aq.question.options if o.is_correct} for aq in attempt.questions},
    )
    login_as(w.member)
    # Help during a visit confirms the activation: the module that teaches it is credited with help.
    response = client.post(
        f"/outcomes/residents/{w.lan.id}/milestones",
        data={
            "milestone": "eid_activated",
            "on_date": local_today().isoformat(),
            "confirmation": "seen_on_phone",
            "helped_by": str(w.member.id),
        },
    )
    assert response.status_code == 302
    html = page(client.get(f"/outcomes/residents/{w.lan.id}"))
    cells = _course_row(html, vneid.titles["en"])
    # course, progress, self-study modules, modules with help, in a class, completed
    assert cells[1:5] == ["100%", "1", "1", "0"]
    assert "completed with help" in cells[5]


# --- household import -------------------------------------------------------------------------

HEADER = ",".join(COLUMNS) + "\n"


#: The legal basis every list states.
BASIS = {"legal_basis": "state_task"}


def upload(text: str | bytes, name: str = "list.csv") -> tuple:
    content = text.encode() if isinstance(text, str) else text
    return (io.BytesIO(content), name)


def test_a_commune_manager_imports_a_household_list(w, client, login_as):
    login_as(w.manager)
    form = page(client.get("/outcomes/import"))
    assert 'name="commune"' not in form  # their own commune
    text = HEADER + "C1A,H9,Số 9 xóm Tây,R9,Trần Văn Chín,1960,\nC1B,H10,Số 10,R10,Đỗ Thị Mười,,0912345678\n"
    response = client.post("/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/outcomes/residents?unit=C1")
    html = page(client.get(response.headers["Location"]))
    assert "2 households added, 0 updated; 2 residents added, 0 updated." in html
    assert "Trần Văn Chín" in html and "Số 9 xóm Tây" in html
    chin = db.session.scalar(db.select(Resident).where(Resident.full_name == "Trần Văn Chín"))
    rows = db.session.scalars(db.select(PersonConsent).where(PersonConsent.resident_id == chin.id)).all()
    assert [(row.purpose, row.basis, row.recorded_by_id) for row in rows] == [
        ("help_visits", "state_task", w.manager.id)
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "legal_basis", "Say on what legal basis this record is kept."),
        ({"legal_basis": "consent"}, "consent_help_visits", "record the person's consent to receiving help"),
        (
            {"legal_basis": "consent", "consent_help_visits": "y", "consent_channel": "paper"},
            "consent_evidence",
            "Give the reference of the signed consent forms",
        ),
    ],
)
def test_a_list_without_its_legal_basis_or_consent_evidence_is_refused_and_nothing_written(
    w, client, login_as, data, field, message
):
    login_as(w.manager)
    text = HEADER + "C1A,H60,Số 60,R60,Sáu Mươi,1960,\n"
    before = count(Resident), count(Household), count(PersonConsent)
    response = client.post("/outcomes/import", data={**data, "file": upload(text)}, content_type="multipart/form-data")
    assert response.status_code == 400
    html = page(response)
    assert message in html
    assert re.search(rf'id="{field}-error"', html), field
    assert (count(Resident), count(Household), count(PersonConsent)) == before


def test_a_list_on_consent_records_each_persons_consents_with_the_evidence(w, client, login_as):
    login_as(w.manager)
    text = HEADER + "C1A,H61,Số 61,R61,Sáu Mốt,1961,\nC1A,H61,Số 61,R62,Sáu Hai,1962,\n"
    data = {
        "legal_basis": "consent",
        "consent_help_visits": "y",
        "consent_progress_sharing": "y",
        "consent_channel": "paper",
        "consent_evidence": "Sổ phiếu đồng ý thôn 1A, 2026",
        "file": upload(text),
    }
    response = client.post("/outcomes/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    for code in ("R61", "R62"):
        resident = db.session.scalar(db.select(Resident).where(Resident.code == code))
        rows = db.session.scalars(db.select(PersonConsent).where(PersonConsent.resident_id == resident.id)).all()
        assert {(row.purpose, row.basis, row.channel, row.evidence) for row in rows} == {
            ("help_visits", "consent", "paper", "Sổ phiếu đồng ý thôn 1A, 2026"),
            ("progress_sharing", "consent", "paper", "Sổ phiếu đồng ý thôn 1A, 2026"),
        }


def test_an_xlsx_list_is_imported_through_the_page(w, client, login_as):
    workbook = Workbook()
    workbook.active.append(list(COLUMNS))
    workbook.active.append(["C1A", "H20", "Số 20", "R20", "Vũ Văn Hai Mươi", 1980, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    login_as(w.manager)
    response = client.post(
        "/outcomes/import",
        data={**BASIS, "file": upload(buffer.getvalue(), "list.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert count(Resident, Resident.full_name == "Vũ Văn Hai Mươi") == 1


def test_a_list_with_broken_rows_shows_every_problem_with_its_line_and_imports_nothing(w, client, login_as):
    login_as(w.manager)
    text = (
        HEADER
        + "C1A,H30,Số 30,R30,An,1950,\n"  # 2 fine
        + "C2A,H31,Số 31,R31,Bình,1950,\n"  # 3 another commune's village
        + "C1A,H32,Số 32,R32,,1950,\n"  # 4 no name
        + "C1A,H33,Số 33,R33,Dũng,19x0,\n"  # 5 bad year
    )
    before = count(Resident), count(Household)
    response = client.post("/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data")
    assert response.status_code == 400
    html = page(response)
    assert "The list has 3 problem(s); nothing was imported." in html
    assert "line 3: village C2A is not in this commune" in html
    assert "line 4: Full name (column full_name) is empty" in html
    assert "line 5: birth year" in html
    assert "line 2" not in html
    assert (count(Resident), count(Household)) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a .csv or .xlsx file."),
        ({"file": (io.BytesIO(b"x"), "list.txt")}, "The file must be a .csv or .xlsx file."),
        ({"file": (io.BytesIO(b"\xff\xfe broken"), "list.csv")}, "the file is not UTF-8 text"),
        ({"file": (io.BytesIO(b"not a workbook"), "list.xlsx")}, "not a readable .xlsx workbook"),
    ],
)
def test_unreadable_uploads_are_refused_with_a_message(w, client, login_as, data, message):
    login_as(w.manager)
    response = client.post("/outcomes/import", data={**BASIS, **data}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in page(response)


def test_an_admin_chooses_the_commune_of_the_list(w, client, login_as):
    login_as(w.admin)
    form = page(client.get("/outcomes/import"))
    assert 'name="commune"' in form and 'value="C2"' in form
    text = HEADER + "C2A,H40,Số 40,R40,Hồ Văn Bốn,1970,\n"
    missing = client.post("/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert "Choose the commune or ward." in page(missing)
    wrong = client.post(
        "/outcomes/import", data={**BASIS, "commune": "C1", "file": upload(text)}, content_type="multipart/form-data"
    )
    assert wrong.status_code == 400
    assert "village C2A is not in this commune" in page(wrong)
    right = client.post(
        "/outcomes/import", data={**BASIS, "commune": "C2", "file": upload(text)}, content_type="multipart/form-data"
    )
    assert right.status_code == 302
    assert count(Resident, Resident.full_name == "Hồ Văn Bốn") == 1


def test_another_communes_manager_cannot_import_into_this_commune_and_members_cannot_import(w, client, login_as):
    login_as(w.manager_c2)
    text = HEADER + "C1A,H50,Số 50,R50,Năm,1970,\n"
    response = client.post("/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "line 2: village C1A is not in this commune" in page(response)
    assert count(Resident, Resident.code == "R50") == 0
    client.post("/logout")
    login_as(w.member)
    assert client.get("/outcomes/import").status_code == 403
    assert client.get("/outcomes/import/template.csv").status_code == 403


def test_the_import_template_is_a_utf8_csv_with_the_columns_and_an_example(w, client, login_as):
    login_as(w.manager)
    response = client.get("/outcomes/import/template.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(HEADERS[column] for column in COLUMNS)
    assert len(lines) == 2 and "Nguyễn Văn Mẫu" in lines[1]
    assert lines[1].startswith(f"{w.units['v1a'].code},")


# --- milestones after a group session ---------------------------------------------------------


@pytest.fixture
def held_session(w, make_user):
    """A session in C1A hosted by the first member that took place yesterday: two residents came,
    one did not."""
    start = utcnow() - timedelta(days=1)
    session = GroupSession(
        unit_id=w.units["v1a"].id,
        title="Sáng Chủ nhật: VNeID",
        place="Nhà văn hóa thôn 1A",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        skills=["eid"],
        capacity=20,
        signed_up=3,
        host_id=w.member.id,
        created_by_id=w.member.id,
    )
    db.session.add(session)
    db.session.flush()
    w.came = [
        make_user("resident", w.units["v1a"], full_name="Bà Năm"),
        make_user("resident", w.units["v1b"], full_name="Ông Sáu"),
    ]
    w.absent = make_user("resident", w.units["v1a"], full_name="Cô Bảy")
    db.session.add_all(
        [SessionSignup(session_id=session.id, user_id=person.id, attended=True) for person in w.came]
        + [SessionSignup(session_id=session.id, user_id=w.absent.id, attended=False)]
    )
    db.session.flush()
    return session


def test_the_host_records_a_milestone_for_everyone_who_attended_and_again_changes_nothing(
    w, client, login_as, held_session
):
    login_as(w.member)
    html = page(client.get(f"/outcomes/sessions/{held_session.id}/milestones"))
    assert "Bà Năm" in html and "Ông Sáu" in html
    assert "Cô Bảy" not in html  # did not come
    data = {
        "people": [str(p.id) for p in w.came],
        "milestone": "eid_installed",
        "confirmation": "seen_on_phone",
    }
    response = client.post(f"/outcomes/sessions/{held_session.id}/milestones", data=data)
    assert response.status_code == 302
    assert "2 newly reached" in page(client.get(response.headers["Location"]))
    evidence = db.session.scalars(db.select(MilestoneEvidence)).all()
    assert len(evidence) == 2
    assert {e.session_id for e in evidence} == {held_session.id}
    assert {e.helped_by_id for e in evidence} == {w.member.id}
    assert count(ResidentMilestone) == 2
    records = db.session.scalars(db.select(Resident).where(Resident.user_id.in_([p.id for p in w.came]))).all()
    assert len(records) == 2
    # Sent twice (a double tap, a reload): nothing more is recorded.
    again = client.post(f"/outcomes/sessions/{held_session.id}/milestones", data=data)
    assert again.status_code == 302
    assert "2 already recorded from this session" in page(client.get(again.headers["Location"]))
    assert count(MilestoneEvidence) == 2 and count(ResidentMilestone) == 2
    assert count(Resident, Resident.user_id.in_([p.id for p in w.came])) == 2


def test_session_milestones_can_credit_the_matching_lessons_with_help(w, client, login_as, held_session, real_courses):
    login_as(w.member)
    response = client.post(
        f"/outcomes/sessions/{held_session.id}/milestones",
        data={
            "people": str(w.came[0].id),
            "milestone": "scam_briefing",
            "confirmation": "resident_word",
            "credit_learning": "y",
        },
    )
    assert response.status_code == 302
    progress = {p.course.slug: p for p in learning.learner_courses(w.came[0])}
    vneid = progress["vneid-basics"]
    assert vneid.modules and all(m.completed and m.completed.mode == "assisted" for m in vneid.modules)
    assert "cashless-and-scams" in progress  # the milestone's own module, credited with help


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people": None}, "Tick at least one person."),
        ({"people": "ABSENT"}, "Only people who attended the session can be chosen."),
        ({"milestone": "flying"}, "Choose the milestone."),
        ({"confirmation": "gut_feeling"}, "Not a valid choice."),
    ],
)
def test_bad_session_milestone_input_records_nothing(w, client, login_as, held_session, changes, message):
    if changes.get("people") == "ABSENT":
        changes = {"people": str(w.absent.id)}
    data = {"people": str(w.came[0].id), "milestone": "eid_installed", "confirmation": "document", **changes}
    login_as(w.member)
    response = client.post(
        f"/outcomes/sessions/{held_session.id}/milestones", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == 400
    assert message in page(response)
    assert count(MilestoneEvidence) == 0 and count(Resident, Resident.user_id.is_not(None)) == 0


def test_an_attendee_from_another_commune_is_named_and_nothing_is_recorded(
    w, client, login_as, make_user, held_session
):
    visitor = make_user("resident", w.units["v2a"], full_name="Khách xã Hai")
    db.session.add(SessionSignup(session_id=held_session.id, user_id=visitor.id, attended=True))
    db.session.flush()
    login_as(w.member)
    response = client.post(
        f"/outcomes/sessions/{held_session.id}/milestones",
        data={"people": [str(w.came[0].id), str(visitor.id)], "milestone": "eid_installed", "confirmation": "document"},
    )
    assert response.status_code == 400
    assert "These people live outside your area; untick them: Khách xã Hai." in page(response)
    assert count(MilestoneEvidence) == 0 and count(Resident, Resident.user_id.is_not(None)) == 0


def test_session_milestones_are_refused_to_another_commune_and_to_residents(w, client, login_as, held_session):
    data = {"people": str(w.came[0].id), "milestone": "eid_installed", "confirmation": "document"}
    for person in (w.member_c2, w.manager_c2, w.came[0]):
        login_as(person)
        assert client.get(f"/outcomes/sessions/{held_session.id}/milestones").status_code == 403
        assert client.post(f"/outcomes/sessions/{held_session.id}/milestones", data=data).status_code == 403
        client.post("/logout")
    assert count(MilestoneEvidence) == 0
    login_as(w.manager)  # manages visits in the commune
    assert client.get(f"/outcomes/sessions/{held_session.id}/milestones").status_code == 200
    assert client.get("/outcomes/sessions/999999/milestones").status_code == 404


def test_milestones_wait_until_the_session_has_started(w, client, login_as, held_session):
    held_session.starts_at = utcnow() + timedelta(days=1)
    held_session.ends_at = held_session.starts_at + timedelta(hours=2)
    db.session.flush()
    login_as(w.member)
    assert "once the session has started" in page(client.get(f"/outcomes/sessions/{held_session.id}/milestones"))
    response = client.post(
        f"/outcomes/sessions/{held_session.id}/milestones",
        data={"people": str(w.came[0].id), "milestone": "eid_installed", "confirmation": "document"},
    )
    assert response.status_code == 400
    assert count(MilestoneEvidence) == 0


# --- follow-ups ------------------------------------------------------------------------------


@pytest.fixture
def follow_ups(w, past_visit):
    """Two open follow-ups in C1 (one overdue) and one in C2."""
    made = []
    for days in (5, -3):
        visit = past_visit(skill="eid")
        visit.resident_record_id = w.lan.id
        follow_up = operations.create_follow_up(
            w.member, visit, reason=f"Đi công an xã kích hoạt ({days})", resident=w.lan
        )
        follow_up.due_on = local_today() + timedelta(days=days)
        # Move the visit out of the way so the member's next visit does not overlap it.
        visit.starts_at -= timedelta(hours=3 * (len(made) + 1))
        visit.ends_at -= timedelta(hours=3 * (len(made) + 1))
        db.session.flush()
        made.append(follow_up)
    other = FollowUp(
        resident_id=w.tam.id,
        unit_id=w.units["v2a"].id,
        assigned_to_id=w.member_c2.id,
        due_on=local_today(),
        reason="Việc của xã Hai",
        created_by_id=w.member_c2.id,
    )
    db.session.add(other)
    db.session.flush()
    return SimpleNamespace(later=made[0], overdue=made[1], other=other)


def test_the_follow_up_list_shows_the_communes_open_follow_ups_overdue_first(w, client, login_as, follow_ups):
    login_as(w.colleague)
    html = page(client.get("/outcomes/follow-ups"))
    assert html.index("Đi công an xã kích hoạt (-3)") < html.index("Đi công an xã kích hoạt (5)")
    assert "1 overdue" in html
    overdue_card = html[html.index('class="card overdue"') :]
    assert overdue_card.index("Overdue") < overdue_card.index("Đi công an xã kích hoạt (-3)")
    assert html.count('class="card overdue"') == 1
    assert "Việc của xã Hai" not in html
    assert "Nguyễn Thị Lan" in html


def test_a_follow_up_is_marked_done_or_cancelled(w, client, login_as, follow_ups):
    login_as(w.member)
    response = client.post(f"/outcomes/follow-ups/{follow_ups.overdue.id}/done")
    assert response.status_code == 302
    response = client.post(f"/outcomes/follow-ups/{follow_ups.later.id}/cancel", data={"back": "resident"})
    assert response.headers["Location"].endswith(f"/outcomes/residents/{w.lan.id}")
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_ups.overdue.id).status == "done"
    assert db.session.get(FollowUp, follow_ups.later.id).status == "cancelled"
    assert "No open follow-up" in page(client.get("/outcomes/follow-ups"))
    again = client.post(f"/outcomes/follow-ups/{follow_ups.overdue.id}/cancel")
    assert again.status_code == 409


def test_another_commune_can_neither_see_nor_close_the_follow_ups(w, client, login_as, follow_ups):
    login_as(w.member_c2)
    html = page(client.get("/outcomes/follow-ups"))
    assert "Việc của xã Hai" in html and "Đi công an" not in html
    assert client.post(f"/outcomes/follow-ups/{follow_ups.overdue.id}/done").status_code == 403
    assert client.post(f"/outcomes/follow-ups/{follow_ups.overdue.id}/cancel").status_code == 403
    assert client.post("/outcomes/follow-ups/999999/done").status_code == 404
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_ups.overdue.id).status == "open"
    client.post("/logout")
    login_as(w.cadre)
    assert client.get("/outcomes/follow-ups").status_code == 403


# --- the visit's completion form ---------------------------------------------------------------


def test_the_visit_completion_form_offers_milestones_follow_up_and_learning_credit(w, client, login_as, past_visit):
    visit = past_visit(resident=None)
    visit.resident_record_id = w.lan.id
    db.session.flush()
    login_as(w.member)
    html = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Milestones reached during the visit" in html and 'value="eid_activated"' in html
    assert "If a follow-up is needed" in html
    assert "Credit the matching lessons as completed with help" in html


def test_completing_a_visit_records_milestones_a_dated_follow_up_and_credits_learning(
    w, client, login_as, make_user, past_visit, real_courses
):
    account = make_user("resident", w.units["v1a"])
    visit = past_visit(resident=account)
    due = local_today() + timedelta(days=10)
    login_as(w.member)
    response = client.post(
        f"/visits/visits/{visit.id}/complete",
        data={
            "skills_done": "eid",
            "outcome": "follow_up",
            "minutes_spent": "40",
            "follow_up_reason": "Kích hoạt mức 2 cần ra công an xã",
            "follow_up_due": due.isoformat(),
            "milestones": ["eid_installed", "scam_briefing"],
            "milestone_confirmation": "seen_on_phone",
            "credit_learning": "y",
        },
    )
    assert response.status_code == 302, page(response)
    record_ = db.session.scalar(db.select(Resident).where(Resident.user_id == account.id))
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.visit_id == visit.id))
    assert (follow_up.reason, follow_up.due_on, follow_up.resident_id) == (
        "Kích hoạt mức 2 cần ra công an xã",
        due,
        record_.id,
    )
    evidence = db.session.scalars(db.select(MilestoneEvidence).order_by(MilestoneEvidence.id)).all()
    assert {e.milestone.key for e in evidence} == {"eid_installed", "scam_briefing"}
    assert {(e.visit_id, e.helped_by_id, e.confirmation) for e in evidence} == {
        (visit.id, w.member.id, "seen_on_phone")
    }
    vneid = next(p for p in learning.learner_courses(account) if p.course.slug == "vneid-basics")
    assert all(m.completed and m.completed.mode == "assisted" for m in vneid.modules)
    html = page(client.get(f"/outcomes/residents/{record_.id}"))
    assert "Kích hoạt mức 2 cần ra công an xã" in html
    assert f"/visits/visits/{visit.id}" in html  # the milestone's evidence names the visit


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"milestone_confirmation": ""}, "Choose how the milestones were confirmed."),
        ({"milestones": "flying"}, "Unknown milestone flying."),
        ({"follow_up_due": "PAST"}, "The follow-up date cannot be in the past."),
    ],
)
def test_bad_milestones_or_follow_up_on_the_visit_form_change_nothing(
    w, client, login_as, make_user, past_visit, changes, message
):
    if changes.get("follow_up_due") == "PAST":
        changes = {"follow_up_due": (local_today() - timedelta(days=1)).isoformat()}
    visit = past_visit(resident=make_user("resident", w.units["v1a"]))
    login_as(w.member)
    data = {
        "skills_done": "eid",
        "outcome": "follow_up",
        "minutes_spent": "40",
        "milestones": "eid_installed",
        "milestone_confirmation": "document",
        **changes,
    }
    response = client.post(f"/visits/visits/{visit.id}/complete", data=data)
    assert response.status_code == 400
    assert message in page(response)
    db.session.expire_all()
    assert db.session.get(type(visit), visit.id).status == "booked"
    assert count(MilestoneEvidence) == 0 and count(FollowUp) == 0


def test_a_resident_record_becomes_an_assisted_account(client, login_as, db, units, team):
    from app.outcomes.models import Resident
    from app.outcomes.residents import add_resident

    record = add_resident(
        team[0], village=units["v1a"], full_name="Trần Văn Tư", birth_year=1950, legal_basis="state_task"
    )
    db.session.commit()
    login_as(team[0])
    response = client.post(f"/outcomes/residents/{record.id}/new-account")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Trần Văn Tư" in html and "One-time password" in html
    linked = db.session.get(Resident, record.id)
    assert linked.user is not None
    assert linked.user.role == "resident" and linked.user.must_change_password
    again = client.post(f"/outcomes/residents/{record.id}/new-account", follow_redirects=True)
    assert "already has an account" in again.get_data(as_text=True)


def test_another_communes_member_cannot_make_an_account_from_a_record(client, login_as, db, units, team, make_user):
    from app.outcomes.residents import add_resident

    record = add_resident(team[0], village=units["v1a"], full_name="Trần Văn Tư", legal_basis="state_task")
    db.session.commit()
    login_as(make_user("tech_team", units["v2a"]))
    assert client.post(f"/outcomes/residents/{record.id}/new-account").status_code == 403
