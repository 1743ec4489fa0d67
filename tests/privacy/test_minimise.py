"""Minimise: phone numbers masked in lists, home addresses off calendars and members' e-mails
unless the member chose them, and notes that warn against health details."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Message
from app.privacy.minimise import masked_phone
from app.visits import help_requests, notices
from tests.visits.pages_support import at, book, build_world, move_to_past

HOME = "Nhà bà Năm, xóm Đông"


@pytest.fixture
def w(db, units, make_user):
    return build_world(db, units, make_user)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("0912 345 678", "•••• ••• 678"),
        ("+84912345678", "•••• ••• 678"),
        ("0912345", "•••• ••• 345"),
        ("12345", "•••• •••"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_masked_phone_shows_at_most_the_last_three_digits(number, shown):
    assert masked_phone(number) == shown


def test_the_triage_list_masks_phones_and_the_booking_page_shows_the_number(w, client, login_as):
    request = help_requests.create_help_request(
        w.manager, skill="eid", unit=w.units["v1a"], place=HOME, name="Bà Năm", phone="0912 345 678", consent=True
    )
    login_as(w.manager)
    listed = client.get("/visits/triage").get_data(as_text=True)
    assert "•••• ••• 678" in listed
    assert "0912 345 678" not in listed and "0912345678" not in listed
    booking = client.get(f"/visits/requests/{request.id}/book").get_data(as_text=True)
    assert "0912 345 678" in booking


def test_the_team_page_masks_the_members_phones(w, client, login_as):
    w.member.phone = "0987 654 321"
    db.session.flush()
    login_as(w.manager)
    page = client.get(f"/visits/teams/{w.team.id}").get_data(as_text=True)
    assert "•••• ••• 321" in page
    assert "0987 654 321" not in page


def _feed(client, app, login_as, member) -> str:
    login_as(member)
    html = client.get("/visits/calendar-feed").get_data(as_text=True)
    path = re.search(r'value="http://localhost(/visits/calendar/[A-Za-z0-9_-]+\.ics)"', html).group(1)
    return app.test_client().get(path).get_data(as_text=True)


def test_the_feed_names_the_village_until_the_member_chooses_addresses(app, w, client, login_as):
    book(w, start=at(1, 10), place=HOME)
    feed = _feed(client, app, login_as, w.member)
    assert "Nhà bà Năm" not in feed
    (event,) = Calendar.from_ical(feed).walk("VEVENT")
    assert str(event["location"]) == "Thôn 1A"

    response = client.post("/visits/calendar-feed/addresses", data={"with_address": "y"})
    assert response.status_code == 302
    db.session.refresh(w.member)
    assert w.member.visit_address_in_notices is True
    (event,) = Calendar.from_ical(_feed(client, app, login_as, w.member)).walk("VEVENT")
    assert str(event["location"]) == f"{HOME}, Thôn 1A"

    client.post("/visits/calendar-feed/addresses", data={})
    db.session.refresh(w.member)
    assert w.member.visit_address_in_notices is False


def test_only_a_team_member_has_the_address_choice(w, client, login_as):
    login_as(w.manager)
    assert client.post("/visits/calendar-feed/addresses", data={"with_address": "y"}).status_code == 403
    db.session.refresh(w.manager)
    assert w.manager.visit_address_in_notices is False


def test_the_choice_needs_the_forms_token(app, w, client, login_as, monkeypatch):
    login_as(w.member)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/visits/calendar-feed/addresses", data={"with_address": "y"}).status_code == 400
    db.session.refresh(w.member)
    assert w.member.visit_address_in_notices is False


def _bodies(user) -> str:
    return "\n".join(db.session.scalars(select(Message.body).where(Message.user_id == user.id)))


def test_a_cancelled_visit_tells_the_member_the_village_and_the_resident_the_place(w):
    visit = book(w, start=at(1, 10), place=HOME)
    notices.visit_cancelled(visit, w.manager)
    db.session.flush()
    member_mail, resident_mail = _bodies(w.member), _bodies(w.resident)
    assert "Nhà bà Năm" not in member_mail
    assert "Thôn 1A" in member_mail
    assert HOME in resident_mail


def test_a_member_who_chose_addresses_gets_them_in_e_mails(w):
    w.member.visit_address_in_notices = True
    visit = book(w, start=at(1, 10), place=HOME)
    notices.visit_cancelled(visit, w.manager)
    db.session.flush()
    assert HOME in _bodies(w.member)


def test_visit_and_help_request_notes_warn_against_health_details(w, client, login_as):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    login_as(w.member)
    warning = "Do not write health details"
    assert warning in client.get(f"/visits/visits/{visit.id}").get_data(as_text=True)
    assert warning in client.get("/visits/requests/new").get_data(as_text=True)
