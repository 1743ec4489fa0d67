"""The member's secret iCalendar feed: RFC 5545 content, minimal personal data, token rotation."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from app.extensions import db
from app.visits import help_requests, operations
from app.visits.models import CalendarFeed
from tests.conftest import TEST_PASSWORD
from tests.visits.pages_support import at, book, build_world, plan_session


@pytest.fixture
def w(db, units, make_user):
    return build_world(db, units, make_user)


def feed_path(client, login_as, member) -> str:
    """The feed's path as its page shows it. The member stays signed in: signing out ends the
    feed (see the tests at the end)."""
    login_as(member)
    html = client.get("/visits/calendar-feed").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/visits/calendar/[A-Za-z0-9_-]+\.ics)"', html)
    assert match, "no feed address on the page"
    return match.group(1)


def fetch(app, path):
    """Phone calendars fetch the feed without signing in."""
    anonymous = app.test_client()
    return anonymous.get(path)


def events_of(response) -> list:
    return list(Calendar.from_ical(response.data).walk("VEVENT"))


def test_the_feed_page_shows_one_stable_secret_address(w, client, login_as):
    first = feed_path(client, login_as, w.member)
    second = feed_path(client, login_as, w.member)
    assert first == second
    token = first.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 40
    assert db.session.scalar(db.select(CalendarFeed.token).where(CalendarFeed.user_id == w.member.id)) == token


def test_the_feed_lists_the_members_active_visits_and_hosted_sessions(app, w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà bà Năm, xóm Đông")
    done = book(w, start=at(3, 8), skill="cashless", place="Chợ thôn 1A")
    cancelled = book(w, start=at(2, 10), place="Nhà đã huỷ")
    operations.cancel_visit(w.manager, cancelled, "Bà Năm đi vắng")
    book(w, w.colleague, at(1, 10), place="Nhà đồng nghiệp", resident=w.resident2)
    book(w, w.member_c2, at(1, 10), place="Nhà xã khác")
    session = plan_session(w, start=at(4, 8))
    path = feed_path(client, login_as, w.member)

    response = fetch(app, path)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["prodid"])
    assert str(calendar["x-wr-calname"])
    events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {
        f"visit-{visit.id}@localhost",
        f"visit-{done.id}@localhost",
        f"session-{session.id}@localhost",
    }
    event = events[f"visit-{visit.id}@localhost"]
    assert event.decoded("dtstart") == visit.starts_at
    assert event.decoded("dtend") == visit.ends_at
    assert event.decoded("dtstamp").tzinfo is not None
    # By default a visit names its village only: no home address at an outside calendar service.
    assert str(event["summary"]) == "E-ID app (VNeID) — Thôn 1A"
    assert str(event["location"]) == "Thôn 1A"
    assert "Nhà bà Năm" not in response.get_data(as_text=True)
    assert "Cashless payment" in str(events[f"visit-{done.id}@localhost"]["summary"])
    hosted = events[f"session-{session.id}@localhost"]
    assert "Sáng Chủ nhật: VNeID" in str(hosted["summary"])
    assert hosted.decoded("dtstart") == session.starts_at


def test_the_feed_keeps_uids_stable_and_follows_a_rescheduled_visit(app, w, client, login_as):
    visit = book(w, start=at(1, 10))
    path = feed_path(client, login_as, w.member)
    (before,) = events_of(fetch(app, path))
    operations.reschedule_visit(w.manager, visit, at(1, 14), 30)
    db.session.flush()

    (after,) = events_of(fetch(app, path))

    assert str(after["uid"]) == str(before["uid"])
    assert after.decoded("dtstart") == at(1, 14)
    assert after.decoded("dtend") == at(1, 14, 30)


def test_the_feed_carries_no_phone_numbers_names_or_notes(app, w, client, login_as):
    request = help_requests.create_help_request(
        w.manager,
        skill="eid",
        unit=w.units["v1a"],
        place="Nhà bà Năm",
        name="Bà Năm Mười",
        phone="0912345678",
        note="Con gái ở xa, nhờ cài VNeID",
        consent=True,
    )
    operations.book_visit(
        w.member, at(1, 10), 60, skill="eid", place="Nhà bà Năm", booked_by=w.manager, request=request
    )
    path = feed_path(client, login_as, w.member)

    body = fetch(app, path).get_data(as_text=True)

    assert "BEGIN:VEVENT" in body
    for private in ("0912345678", "Bà Năm Mười", "Con gái ở xa"):
        assert private not in body


def test_the_feed_speaks_the_members_language_not_the_fetching_clients(app, w, client, login_as):
    w.units["v1a"].name_en = "Village 1A"
    book(w, start=at(1, 10), place="Nhà bà Năm")
    path = feed_path(client, login_as, w.member)
    english_phone = app.test_client()
    english_phone.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    w.member.locale = "en"
    w.member.visit_address_in_notices = True
    db.session.flush()
    (event,) = events_of(english_phone.get(path))
    assert str(event["summary"]).startswith("E-ID app (VNeID)")
    assert str(event["location"]) == "Nhà bà Năm, Village 1A"

    w.member.locale = "vi"
    db.session.flush()
    (event,) = events_of(english_phone.get(path))
    assert str(event["location"]) == "Nhà bà Năm, Thôn 1A"


def test_making_a_new_address_kills_the_old_one(app, w, client, login_as):
    book(w, start=at(1, 10))
    old = feed_path(client, login_as, w.member)
    login_as(w.member)

    response = client.post("/visits/calendar-feed/new-address")

    assert response.status_code == 302
    client.post("/logout")
    new = feed_path(client, login_as, w.member)
    assert new != old
    assert fetch(app, old).status_code == 404
    assert fetch(app, new).status_code == 200


def test_unknown_tokens_are_not_found(app, w):
    assert fetch(app, "/visits/calendar/not-a-real-token.ics").status_code == 404
    assert fetch(app, "/visits/calendar/" + "x" * 80 + ".ics").status_code == 404


def test_a_deactivated_members_feed_stops_working(app, w, client, login_as):
    path = feed_path(client, login_as, w.member)
    w.member.active = False
    db.session.flush()
    assert fetch(app, path).status_code == 404


@pytest.mark.parametrize("who", ["resident", "manager", "department"])
def test_only_tech_team_members_have_a_feed(w, client, login_as, who):
    login_as(getattr(w, who))
    assert client.get("/visits/calendar-feed").status_code == 403
    assert client.post("/visits/calendar-feed/new-address").status_code == 403


# --- the address and how long it lives --------------------------------------------------------

PUBLIC_URL = "https://kynangso.example.gov.vn"


@pytest.fixture
def production_addresses(app):
    """As in production: no SERVER_NAME, the site's address in PUBLIC_URL (none by default)."""
    saved = {key: app.config[key] for key in ("PUBLIC_URL", "SERVER_NAME", "ENV_NAME")}
    app.config.update(SERVER_NAME=None, ENV_NAME="production")
    yield app.config
    app.config.update(saved)


def through_another_host(client, login_as, member, host="attacker.example"):
    """Sign in, then send the same browser's cookie to a host name the client chose."""
    login_as(member)
    client.set_cookie("session", client.get_cookie("session").value, domain=host)
    return {"headers": {"Host": host}}


def feed_address(client, login_as, member, **request) -> str:
    """The address the feed page shows (signed in, and staying signed in)."""
    login_as(member)
    html = client.get("/visits/calendar-feed", **request).get_data(as_text=True)
    match = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', html)
    assert match, "no feed address on the page"
    return match.group(1)


def test_the_address_comes_from_the_public_url_not_from_the_host_the_client_names(
    app, w, client, login_as, production_addresses
):
    production_addresses["PUBLIC_URL"] = PUBLIC_URL
    visit = book(w, start=at(1, 10))
    request = through_another_host(client, login_as, w.member)
    html = client.get("/visits/calendar-feed", **request).get_data(as_text=True)
    address = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', html).group(1)
    assert address.startswith(f"{PUBLIC_URL}/visits/calendar/")
    assert "attacker.example" not in html

    path = address.removeprefix(PUBLIC_URL)
    [event] = events_of(app.test_client().get(path, headers={"Host": "attacker.example"}))
    assert str(event["url"]) == f"{PUBLIC_URL}/visits/visits/{visit.id}"
    assert str(event["uid"]) == f"visit-{visit.id}@kynangso.example.gov.vn"


def test_without_a_public_url_the_page_says_so_rather_than_trust_the_host(w, client, login_as, production_addresses):
    request = through_another_host(client, login_as, w.member)
    response = client.get("/visits/calendar-feed", **request)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "attacker.example" not in html
    assert "PUBLIC_URL" in html


def test_signing_out_everywhere_stops_the_feed_and_the_page_then_gives_a_new_address(app, w, client, login_as):
    old = feed_address(client, login_as, w.member).removeprefix("http://localhost")
    assert fetch(app, old).status_code == 200

    client.post("/logout")

    assert fetch(app, old).status_code == 404
    new = feed_address(client, login_as, w.member).removeprefix("http://localhost")
    assert new != old
    assert fetch(app, new).status_code == 200


def test_a_password_change_stops_the_feed(app, w, client, login_as):
    old = feed_address(client, login_as, w.member).removeprefix("http://localhost")
    response = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "mua thu la vang roi",
            "confirm": "mua thu la vang roi",
        },
    )
    assert response.status_code == 302
    assert fetch(app, old).status_code == 404


def test_a_one_time_password_from_a_manager_stops_the_feed(app, w, client, login_as):
    old = feed_address(client, login_as, w.member).removeprefix("http://localhost")
    client.post("/logout")
    login_as(w.manager)
    assert client.post(f"/users/{w.member.id}/one-time-password").status_code == 200
    assert fetch(app, old).status_code == 404
