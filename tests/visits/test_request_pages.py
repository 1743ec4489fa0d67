"""Help-request pages: asking for help, my requests, the triage list, booking from a request,
and the slot finder."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.db import LOCAL_TZ, utcnow
from app.visits import help_requests, operations
from app.visits.models import HelpRequest, Team, TeamMember, Visit, WeeklyAvailability
from app.visits.teams import local_today


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def at(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(local_today() + timedelta(days=days_ahead), time(hour, minute), tzinfo=LOCAL_TZ)


@pytest.fixture
def w(db, units, make_user):
    """Commune C1 with a team whose member offers e-ID help 08:00–12:00 every day; commune C2
    with its own manager."""
    w = SimpleNamespace(units=units)
    w.member = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ")
    w.tech = make_user("tech_team", units["c1"], full_name="Lê Thị Hai")
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.resident = make_user("resident", units["v1a"], full_name="Bà Năm Mười", phone="0912345678")
    w.cadre = make_user("cadre", units["v1b"])
    team = Team(unit=units["c1"], name="Tổ công nghệ số xã Một")
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMember(team_id=team.id, user_id=w.member.id, skills=["eid"]))
    db.session.add_all(
        [WeeklyAvailability(user_id=w.member.id, weekday=d, start_minute=480, end_minute=720) for d in range(7)]
    )
    db.session.flush()
    return w


def file_request(db, w, *, unit=None, skill="eid", name="Ông Bảy", days_ago=0, by=None):
    help_request = help_requests.create_help_request(
        by or w.manager,
        skill=skill,
        unit=unit or w.units["v1a"],
        place="Nhà văn hoá thôn",
        name=name,
        consent=True,
    )
    help_request.created_at = utcnow() - timedelta(days=days_ago, minutes=5)
    db.session.flush()
    return help_request


def sign_in(client, login_as, user):
    client.post("/logout")
    return login_as(user)


# --- asking for help -----------------------------------------------------------------------


def test_a_resident_asks_for_help_for_themselves(client, db, login_as, w):
    login_as(w.resident)
    page = client.get("/visits/requests/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="Bà Năm Mười"' in html
    assert "Thôn 1A" in html
    assert 'name="unit"' not in html  # the village is the resident's own
    assert "I agree that my name" in html

    response = client.post(
        "/visits/requests/new",
        data={
            "name": "Bà Năm Mười",
            "phone": "0912345678",
            "skill": "eid",
            "place": "Số 5, ngõ 2",
            "preferred_times": "sáng thứ Bảy",
            "consent": "y",
        },
    )

    help_request = db.session.scalar(select(HelpRequest))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/requests/{help_request.id}/filed")
    assert (help_request.resident_id, help_request.unit.code, help_request.status) == (w.resident.id, "C1A", "new")
    assert help_request.consent_at is not None
    confirmation = client.get(response.headers["Location"])
    assert confirmation.status_code == 200
    assert "the request has been sent" in confirmation.get_data(as_text=True)
    mine = client.get("/visits/requests/mine").get_data(as_text=True)
    assert "E-ID app (VNeID) — New" in mine


def test_a_request_without_consent_or_with_bad_input_is_refused_and_nothing_is_written(client, db, login_as, w):
    login_as(w.resident)
    base = {"name": "Bà Năm", "skill": "eid", "place": "Số 5", "consent": "y"}

    no_consent = client.post("/visits/requests/new", data={**base, "consent": ""})
    no_place = client.post("/visits/requests/new", data={**base, "place": "  "})
    bad_skill = client.post("/visits/requests/new", data={**base, "skill": "flying"})
    bad_phone = client.post("/visits/requests/new", data={**base, "phone": "call me"})

    assert no_consent.status_code == 400
    assert "The person must agree that their details are recorded" in no_consent.get_data(as_text=True)
    assert no_place.status_code == 400
    assert "Enter the address or meeting point." in no_place.get_data(as_text=True)
    assert bad_skill.status_code == 400
    assert "Choose a kind of help from the list." in bad_skill.get_data(as_text=True)
    assert bad_phone.status_code == 400
    assert "Enter the phone number as digits" in bad_phone.get_data(as_text=True)
    assert count(db, HelpRequest) == 0


def test_a_cadre_files_a_request_on_someones_behalf_in_a_village_of_their_commune(client, db, login_as, w):
    login_as(w.cadre)
    html = client.get("/visits/requests/new").get_data(as_text=True)
    assert 'value="C1B"' in html
    assert 'value="C2A"' not in html

    response = client.post(
        "/visits/requests/new",
        data={"name": "Cụ Chín", "unit": "C1B", "skill": "safety", "place": "Đầu làng", "consent": "y"},
    )
    elsewhere = client.post(
        "/visits/requests/new",
        data={"name": "Cụ Mười", "unit": "C2A", "skill": "safety", "place": "Chợ", "consent": "y"},
    )
    no_unit = client.post(
        "/visits/requests/new",
        data={"name": "Cụ Mười", "unit": "", "skill": "safety", "place": "Chợ", "consent": "y"},
    )

    assert response.status_code == 302
    help_request = db.session.scalar(select(HelpRequest))
    assert (help_request.name, help_request.resident_id, help_request.created_by_id) == ("Cụ Chín", None, w.cadre.id)
    assert elsewhere.status_code == 403
    assert no_unit.status_code == 400
    assert "Choose the village or commune where help is needed." in no_unit.get_data(as_text=True)
    assert count(db, HelpRequest) == 1


def test_department_managers_do_not_file_requests(client, login_as, make_user, units):
    login_as(make_user("department_manager", units["province"]))

    assert client.get("/visits/requests/new").status_code == 403


def test_my_requests_shows_only_my_own_and_another_resident_cannot_open_the_confirmation(
    client, db, login_as, make_user, w
):
    mine = help_requests.create_help_request(
        w.resident, skill="cashless", unit=w.units["v1a"], place="Nhà", name="Bà Năm Mười", consent=True
    )
    other = file_request(db, w, name="Người Khác")
    login_as(w.resident)

    html = client.get("/visits/requests/mine").get_data(as_text=True)
    assert "Cashless payment" in html
    assert "Người Khác" not in html
    assert client.get(f"/visits/requests/{mine.id}/filed").status_code == 200
    # Another resident's request does not exist for them.
    assert client.get(f"/visits/requests/{other.id}/filed").status_code == 404


# --- triage --------------------------------------------------------------------------------


def test_residents_and_cadres_cannot_see_the_triage_list(client, login_as, w):
    for person in (w.resident, w.cadre):
        sign_in(client, login_as, person)
        assert client.get("/visits/triage").status_code == 403


def test_the_triage_list_shows_new_requests_in_scope_oldest_first_with_waiting_time(client, db, login_as, w):
    file_request(db, w, name="Ông Mới", days_ago=0)
    file_request(db, w, name="Bà Cũ", days_ago=3)
    file_request(db, w, name="Khác Xã", unit=w.units["v2a"], days_ago=5, by=w.manager_c2)
    closed = file_request(db, w, name="Đã Huỷ", days_ago=4)
    closed.status = "cancelled"
    db.session.flush()
    login_as(w.tech)

    html = client.get("/visits/triage").get_data(as_text=True)

    assert html.index("Bà Cũ") < html.index("Ông Mới")
    assert "waiting 3 days" in html
    assert "Khác Xã" not in html
    assert "Đã Huỷ" not in html
    cancelled = client.get("/visits/triage?status=cancelled").get_data(as_text=True)
    assert "Đã Huỷ" in cancelled
    assert "Ông Mới" not in cancelled


def test_a_long_triage_list_comes_a_page_at_a_time_oldest_first(client, db, login_as, w):
    """A commune's backlog is paged (TRIAGE_PAGE_SIZE, 25): the count is of all of them, the
    filters stay in the page links, and a page past the last one shows the last."""
    for n in range(30):
        file_request(db, w, name=f"Người {n:02d}", skill="cashless", days_ago=40 - n)
    file_request(db, w, name="Cần VNeID", skill="eid", days_ago=50)
    db.session.commit()
    login_as(w.tech)

    first = client.get("/visits/triage?skill=cashless").get_data(as_text=True)
    assert "30 requests" in first
    assert "Người 00" in first and "Người 24" in first and "Người 25" not in first
    assert "Page 1 of 2" in first and "page=2" in first and "skill=cashless" in first
    assert first.count('class="card" id="request-') == 25
    second = client.get("/visits/triage?skill=cashless&page=2").get_data(as_text=True)
    assert "Người 25" in second and "Người 29" in second and "Người 24" not in second
    assert "Cần VNeID" not in second
    past = client.get("/visits/triage?skill=cashless&page=999")
    assert past.status_code == 302
    assert "page=2" in past.headers["Location"] and "skill=cashless" in past.headers["Location"]
    assert "Người 00" in client.get("/visits/triage?skill=cashless&page=x").get_data(as_text=True)  # page 1


def test_the_triage_list_filters_by_skill_and_refuses_unknown_filters(client, db, login_as, w):
    file_request(db, w, name="Cần VNeID", skill="eid")
    file_request(db, w, name="Cần Ví", skill="cashless")
    login_as(w.manager)

    html = client.get("/visits/triage?skill=cashless").get_data(as_text=True)
    bad_status = client.get("/visits/triage?status=lost")
    bad_skill = client.get("/visits/triage?skill=flying")

    assert "Cần Ví" in html
    assert "Cần VNeID" not in html
    assert bad_status.status_code == 400
    assert "Choose a status from the list." in bad_status.get_data(as_text=True)
    assert bad_skill.status_code == 400
    assert "Choose a kind of help from the list." in bad_skill.get_data(as_text=True)


def test_a_request_is_marked_could_not_reach_or_cancelled_from_the_triage_list(client, db, login_as, w):
    first, second = file_request(db, w, name="Một"), file_request(db, w, name="Hai")
    login_as(w.tech)

    unreachable = client.post(f"/visits/requests/{first.id}/status", data={"status": "unreachable"})
    cancelled = client.post(f"/visits/requests/{second.id}/status", data={"status": "cancelled"})

    assert unreachable.status_code == cancelled.status_code == 302
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.status, second.status) == ("unreachable", "cancelled")
    assert first.closed_at is not None
    page = client.get("/visits/triage").get_data(as_text=True)
    assert "The request of Hai is now: Cancelled." in page


def test_a_request_cannot_be_marked_done_by_hand_or_from_another_commune(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.manager)
    done = client.post(f"/visits/requests/{help_request.id}/status", data={"status": "done"}, follow_redirects=True)
    assert "This status is set by booking or completing a visit." in done.get_data(as_text=True)

    sign_in(client, login_as, w.manager_c2)
    elsewhere = client.post(f"/visits/requests/{help_request.id}/status", data={"status": "cancelled"})

    assert elsewhere.status_code == 403
    assert client.post("/visits/requests/999999/status", data={"status": "cancelled"}).status_code == 404
    db.session.refresh(help_request)
    assert help_request.status == "new"


def test_marking_a_request_needs_the_csrf_token(client, db, login_as, w, request):
    help_request = file_request(db, w)
    login_as(w.manager)
    request.getfixturevalue("csrf_enabled")

    response = client.post(f"/visits/requests/{help_request.id}/status", data={"status": "cancelled"})

    assert response.status_code == 400
    db.session.refresh(help_request)
    assert help_request.status == "new"


# --- booking -------------------------------------------------------------------------------


def slot_forms(html: str) -> list[dict]:
    """The booking buttons on the page: their action and hidden fields."""
    forms = []
    for match in re.finditer(r'<form method="post" class="inline" action="([^"]+)">(.*?)</form>', html, re.S):
        fields = dict(re.findall(r'name="(member_id|start|duration)" value="([^"]+)"', match.group(2)))
        if fields:
            forms.append({"action": unescape(match.group(1)), **fields})
    return forms


def test_booking_from_a_request_creates_the_visit_at_the_chosen_slot(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.tech)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()

    page = client.get(f"/visits/requests/{help_request.id}/book?from={tomorrow}&days=1&duration=60")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Book Trần Văn Kỹ 08:00" in html
    assert "Book Trần Văn Kỹ 11:00" in html
    assert "Book Trần Văn Kỹ 11:30" not in html  # a 60-minute visit must end by 12:00
    chosen = next(form for form in slot_forms(html) if "T10:00" in form["start"])

    response = client.post(chosen["action"], data=chosen)

    visit = db.session.scalar(select(Visit))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/visits/{visit.id}")
    assert visit.starts_at == at(1, 10)
    assert visit.ends_at == at(1, 11)
    assert (visit.member_id, visit.request_id, visit.skill, visit.booked_by_id) == (
        w.member.id,
        help_request.id,
        "eid",
        w.tech.id,
    )
    db.session.refresh(help_request)
    assert help_request.status == "scheduled"


def test_a_slot_taken_meanwhile_gives_a_friendly_conflict_message(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.manager)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    html = client.get(f"/visits/requests/{help_request.id}/book?from={tomorrow}&days=1").get_data(as_text=True)
    chosen = next(form for form in slot_forms(html) if "T09:00" in form["start"])
    operations.book_visit(w.member, at(1, 9), 60, skill="eid", place="Chợ", booked_by=w.manager, resident=w.resident)
    db.session.flush()

    response = client.post(chosen["action"], data=chosen)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This member already has a visit at that time. Choose another time or member." in page
    assert "Book Trần Văn Kỹ 11:00" in page  # the remaining slots are shown again
    assert "Book Trần Văn Kỹ 09:00" not in page
    assert count(db, Visit) == 1
    db.session.refresh(help_request)
    assert help_request.status == "new"


def test_bad_booking_input_is_refused_and_nothing_is_written(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.manager)
    url = f"/visits/requests/{help_request.id}/book"
    good = {"member_id": str(w.member.id), "start": at(1, 9).isoformat(), "duration": "60"}

    bad_search = client.get(f"{url}?days=99&duration=20")
    bad_date = client.get(f"{url}?from=yesterday")
    bad_start = client.post(url, data={**good, "start": "tomorrow morning"})
    naive_start = client.post(url, data={**good, "start": "2030-01-01T09:00"})
    bad_member = client.post(url, data={**good, "member_id": "999999"})
    bad_duration = client.post(url, data={**good, "duration": "600"})
    not_a_member = client.post(url, data={**good, "member_id": str(w.tech.id)})

    assert bad_search.status_code == 400
    assert "Choose from 1 to 31 days." in bad_search.get_data(as_text=True)
    assert "Choose a length from the list." in bad_search.get_data(as_text=True)
    assert bad_date.status_code == 400
    for response in (bad_start, naive_start, bad_member, bad_duration):
        assert response.status_code == 400
        assert "Choose a time from the list." in response.get_data(as_text=True)
    # A real person who is not in the commune's teams: the booking rule's own reason.
    assert not_a_member.status_code == 400
    assert "This person is not a member of a team in this commune." in not_a_member.get_data(as_text=True)
    assert count(db, Visit) == 0


def test_a_closed_request_cannot_be_booked(client, db, login_as, w):
    help_request = file_request(db, w)
    help_request.status = "cancelled"
    db.session.flush()
    login_as(w.manager)

    page = client.get(f"/visits/requests/{help_request.id}/book")
    response = client.post(
        f"/visits/requests/{help_request.id}/book",
        data={"member_id": str(w.member.id), "start": at(1, 9).isoformat(), "duration": "60"},
    )

    assert "This request is closed" in page.get_data(as_text=True)
    assert response.status_code == 409
    assert "This request is closed." in response.get_data(as_text=True)
    assert count(db, Visit) == 0


def test_a_commune_manager_of_another_commune_cannot_see_or_book_a_request(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.manager_c2)

    page = client.get(f"/visits/requests/{help_request.id}/book")
    booking = client.post(
        f"/visits/requests/{help_request.id}/book",
        data={"member_id": str(w.member.id), "start": at(1, 9).isoformat(), "duration": "60"},
    )

    assert page.status_code == 403
    assert booking.status_code == 403
    assert client.get(f"/visits/requests/{help_request.id}/filed").status_code == 403
    assert client.get("/visits/requests/999999/book").status_code == 404
    assert count(db, Visit) == 0


def test_residents_cannot_book(client, db, login_as, w):
    help_request = file_request(db, w)
    login_as(w.resident)

    assert client.get(f"/visits/requests/{help_request.id}/book").status_code == 403


# --- slot finder ---------------------------------------------------------------------------


def test_the_slot_finder_lists_free_times_by_day(client, login_as, w):
    login_as(w.manager)
    assert client.get("/visits/slots").status_code == 200
    tomorrow = (local_today() + timedelta(days=1)).isoformat()

    page = client.get(f"/visits/slots?unit=C1A&skill=eid&from={tomorrow}&days=2&duration=90")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "08:00–09:30 Trần Văn Kỹ" in html
    assert "10:30–12:00 Trần Văn Kỹ" in html
    assert html.count('<h3 id="day-') == 2
    nobody = client.get(f"/visits/slots?unit=C1A&skill=selling_online&from={tomorrow}")
    assert "No free times" in nobody.get_data(as_text=True)


def test_the_slot_finder_refuses_bad_input_and_other_communes(client, login_as, w):
    login_as(w.manager)

    assert client.get("/visits/slots?unit=C2A&skill=eid").status_code == 403
    unknown_unit = client.get("/visits/slots?unit=NOPE&skill=eid")
    unknown_skill = client.get("/visits/slots?unit=C1A&skill=flying")
    bad_days = client.get("/visits/slots?unit=C1A&skill=eid&days=0")
    assert unknown_unit.status_code == unknown_skill.status_code == bad_days.status_code == 400
    assert "Choose the commune or village." in unknown_unit.get_data(as_text=True)
    assert "Choose a kind of help from the list." in unknown_skill.get_data(as_text=True)
    assert "Choose from 1 to 31 days." in bad_days.get_data(as_text=True)

    sign_in(client, login_as, w.resident)
    assert client.get("/visits/slots").status_code == 403


def test_navigation_shows_help_pages_by_role(client, login_as, w):
    login_as(w.resident)
    resident_home = client.get("/").get_data(as_text=True)
    assert "/visits/requests/new" in resident_home
    assert "/visits/triage" not in resident_home

    sign_in(client, login_as, w.manager)
    manager_home = client.get("/").get_data(as_text=True)
    for path in ("/visits/triage", "/visits/teams", "/visits/slots", "/visits/availability"):
        assert path in manager_home
