"""A person's requests: filed by the person or by staff for a resident, with the law's deadlines,
listed for the officer (late first), acknowledged and closed; scope checked at every door."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import requests
from app.privacy.deadlines import acknowledge_by, due_by
from app.privacy.models import PersonRequest


def count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(PersonRequest))


def filed_days_ago(days: int, kind: str, *, filed_by, user=None, resident=None) -> PersonRequest:
    return requests.file_request(
        kind, filed_by=filed_by, user=user, resident=resident, now=utcnow() - timedelta(days=days)
    )


# --- the person ---------------------------------------------------------------------------------


def test_a_person_files_a_request_with_its_deadlines_and_sees_it_listed(people, login_as):
    client = login_as(people.r)

    response = client.post("/privacy/me/requests", data={"kind": "objection", "details": "Đừng gọi điện cho tôi"})

    assert response.status_code == 302
    item = db.session.scalar(select(PersonRequest))
    received_on = item.received_at.astimezone(LOCAL_TZ).date()
    assert (item.kind, item.user_id, item.filed_by_id, item.unit_id) == (
        "objection",
        people.r.id,
        people.r.id,
        people.units["v1a"].id,
    )
    assert item.acknowledge_by == acknowledge_by(received_on)
    assert item.due_by == due_by("objection", received_on) == received_on + timedelta(days=15)
    assert item.status == "new"
    page = client.get("/privacy/me/requests").get_data(as_text=True)
    assert "Objection or restriction of processing" in page
    assert "Đừng gọi điện cho tôi" in page


def test_a_request_of_an_unknown_kind_or_too_long_is_refused_and_nothing_is_written(people, login_as):
    client = login_as(people.r)
    assert client.post("/privacy/me/requests", data={"kind": "everything"}).status_code == 400
    assert client.post("/privacy/me/requests", data={"kind": "access", "details": "x" * 2001}).status_code == 400
    assert count_requests() == 0


def test_a_second_open_request_of_the_same_kind_is_refused(people, login_as):
    client = login_as(people.r)
    assert client.post("/privacy/me/requests", data={"kind": "access"}).status_code == 302
    response = client.post("/privacy/me/requests", data={"kind": "access"})
    assert response.status_code == 409
    assert "already open" in response.get_data(as_text=True)
    assert count_requests() == 1


# --- staff for a resident -------------------------------------------------------------------------


def test_a_member_files_for_a_resident_of_their_commune_and_not_of_another(people, login_as):
    client = login_as(people.tech)

    assert client.get(f"/privacy/residents/{people.rec.id}/requests").status_code == 200
    response = client.post(f"/privacy/residents/{people.rec.id}/requests", data={"kind": "erasure"})
    assert response.status_code == 302
    item = db.session.scalar(select(PersonRequest))
    assert (item.resident_id, item.user_id, item.filed_by_id) == (people.rec.id, None, people.tech.id)

    assert client.get(f"/privacy/residents/{people.rec2.id}/requests").status_code == 403
    assert client.post(f"/privacy/residents/{people.rec2.id}/requests", data={"kind": "erasure"}).status_code == 403
    assert client.get("/privacy/residents/999999/requests").status_code == 404
    assert count_requests() == 1


def test_a_request_for_a_record_with_an_account_is_about_the_account_too(people, login_as):
    login_as(people.cm).post(f"/privacy/residents/{people.r_record.id}/requests", data={"kind": "access"})
    item = db.session.scalar(select(PersonRequest))
    assert (item.resident_id, item.user_id) == (people.r_record.id, people.r.id)
    assert item in requests.requests_of_user(people.r)


def test_a_resident_may_not_file_for_someone_else(people, login_as):
    response = login_as(people.r).post(f"/privacy/residents/{people.rec.id}/requests", data={"kind": "access"})
    assert response.status_code == 403
    assert count_requests() == 0


# --- the officer's list ---------------------------------------------------------------------------


def test_the_officer_sees_every_request_late_first_and_marked(people, login_as):
    on_time = filed_days_ago(0, "access", filed_by=people.r, user=people.r)
    late = filed_days_ago(5, "erasure", filed_by=people.cm2, resident=people.rec2)
    db.session.flush()

    page = login_as(people.officer).get("/privacy/requests").get_data(as_text=True)

    assert page.index("Chú Tám") < page.index("Bà Năm")
    assert page.count(">Late</span>") == 1
    assert requests.late_reasons(late) == ["acknowledge"]
    assert requests.late_reasons(on_time) == []
    assert 'href="/privacy/requests"' in page  # the menu link


def test_the_list_filters_by_status_and_kind(people, login_as):
    filed_days_ago(5, "erasure", filed_by=people.cm2, resident=people.rec2)
    done = filed_days_ago(1, "access", filed_by=people.r, user=people.r)
    requests.close(people.officer, done, "done")
    db.session.flush()
    client = login_as(people.officer)

    assert "Chú Tám" in client.get("/privacy/requests?status=late").get_data(as_text=True)
    assert "Bà Năm" not in client.get("/privacy/requests?status=late").get_data(as_text=True)
    closed = client.get("/privacy/requests?status=closed").get_data(as_text=True)
    assert "Bà Năm" in closed and "Chú Tám" not in closed
    by_kind = client.get("/privacy/requests?kind=erasure").get_data(as_text=True)
    assert "Chú Tám" in by_kind and "Bà Năm" not in by_kind
    assert client.get("/privacy/requests?status=nonsense&kind=x").status_code == 200


def test_a_commune_manager_sees_and_handles_only_their_communes_requests(people, login_as):
    ours = filed_days_ago(0, "access", filed_by=people.tech, resident=people.rec)
    theirs = filed_days_ago(0, "access", filed_by=people.cm2, resident=people.rec2)
    db.session.flush()
    client = login_as(people.cm)

    page = client.get("/privacy/requests").get_data(as_text=True)
    assert "Ông Sáu" in page and "Chú Tám" not in page
    assert 'href="/privacy/requests"' in page
    assert client.get(f"/privacy/requests/{theirs.id}").status_code == 403
    assert client.post(f"/privacy/requests/{theirs.id}/acknowledge").status_code == 403
    assert client.post(f"/privacy/requests/{theirs.id}/close", data={"outcome": "done"}).status_code == 403
    assert client.post(f"/privacy/requests/{ours.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert db.session.get(PersonRequest, theirs.id).acknowledged_at is None
    assert db.session.get(PersonRequest, ours.id).acknowledged_by_id == people.cm.id


def test_members_and_residents_have_no_request_list(people, login_as):
    filed_days_ago(0, "access", filed_by=people.tech, resident=people.rec)
    for person in (people.tech, people.r):
        client = login_as(person)
        assert client.get("/privacy/requests").status_code == 403
        assert 'href="/privacy/requests"' not in client.get("/").get_data(as_text=True)
        client.post("/logout")


# --- acknowledging and closing ----------------------------------------------------------------------


def test_acknowledging_then_closing_a_request_and_not_twice(people, login_as):
    item = filed_days_ago(0, "correction", filed_by=people.r, user=people.r)
    db.session.flush()
    client = login_as(people.officer)

    assert (
        client.post(f"/privacy/requests/{item.id}/acknowledge", data={"next": "list"})
        .headers["Location"]
        .endswith("/privacy/requests")
    )
    assert client.post(f"/privacy/requests/{item.id}/acknowledge").status_code == 409
    assert (
        client.post(f"/privacy/requests/{item.id}/close", data={"outcome": "done", "note": "Đã sửa"}).status_code == 302
    )
    db.session.expire_all()
    item = db.session.get(PersonRequest, item.id)
    assert (item.status, item.outcome, item.note, item.closed_by_id) == ("closed", "done", "Đã sửa", people.officer.id)
    assert client.post(f"/privacy/requests/{item.id}/close", data={"outcome": "done"}).status_code == 409


def test_a_refusal_says_why_and_an_unknown_outcome_is_refused(people, login_as):
    item = filed_days_ago(0, "erasure", filed_by=people.tech, resident=people.rec)
    db.session.flush()
    client = login_as(people.officer)

    response = client.post(f"/privacy/requests/{item.id}/close", data={"outcome": "refused", "note": "  "})
    assert response.status_code == 400
    assert "Say why the request is refused." in response.get_data(as_text=True)
    assert client.post(f"/privacy/requests/{item.id}/close", data={"outcome": "maybe"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(PersonRequest, item.id).closed_at is None


def test_a_request_is_late_when_unacknowledged_after_two_working_days_or_open_after_its_due_day(people):
    item = filed_days_ago(12, "access", filed_by=people.r, user=people.r)
    assert requests.late_reasons(item) == ["acknowledge", "due"]
    requests.acknowledge(people.officer, item)
    assert requests.late_reasons(item) == ["due"]
    requests.close(people.officer, item, "done")
    assert not requests.is_late(item)

    fresh = filed_days_ago(0, "erasure", filed_by=people.tech, resident=people.rec)
    assert not requests.is_late(fresh)
    assert not requests.is_late(fresh, now=utcnow() + timedelta(days=1))
    assert requests.late_reasons(fresh, now=utcnow() + timedelta(days=5)) == ["acknowledge"]
    requests.acknowledge(people.officer, fresh)
    assert requests.late_reasons(fresh, now=utcnow() + timedelta(days=21)) == ["due"]


def test_an_erasure_request_page_links_to_erasure_only_when_that_page_exists(people, login_as, app):
    item = filed_days_ago(0, "erasure", filed_by=people.tech, resident=people.rec)
    db.session.flush()
    page = login_as(people.officer).get(f"/privacy/requests/{item.id}")
    assert page.status_code == 200
    has_erasure = "privacy.erase_resident" in app.view_functions
    assert (f"/privacy/residents/{people.rec.id}/erase" in page.get_data(as_text=True)) == has_erasure


def test_the_officers_list_costs_the_same_queries_for_many_requests(
    people, login_as, page_queries, villages, make_user
):
    login_as(people.officer).get("/privacy/requests")  # the first page of a session counts more
    counts = []
    for extra in (1, 5):
        for n in range(extra):
            record = Resident(unit_id=villages[n].id, full_name=f"Người {extra}-{n}")
            db.session.add(record)
            db.session.flush()
            requests.file_request("access", filed_by=people.officer, resident=record)
        filer = make_user("resident", villages[extra])
        requests.file_request("objection", filed_by=filer, user=filer)
        db.session.flush()
        counts.append(page_queries("/privacy/requests")[0])
    assert counts[0] == counts[1]


def test_forms_are_refused_without_their_csrf_token(people, login_as, request):
    client = login_as(people.r)
    request.getfixturevalue("csrf_enabled")
    assert client.post("/privacy/me/requests", data={"kind": "access"}).status_code == 400
    assert client.post("/privacy/me/corrections", data={"full_name": "X"}).status_code == 400
    assert count_requests() == 0


def test_the_officer_closes_a_request_as_done_from_the_list(people, login_as):
    item = filed_days_ago(0, "access", filed_by=people.r, user=people.r)
    db.session.flush()
    client = login_as(people.officer)
    assert f'action="/privacy/requests/{item.id}/close"' in client.get("/privacy/requests").get_data(as_text=True)

    response = client.post(f"/privacy/requests/{item.id}/close", data={"outcome": "done", "next": "list"})

    assert response.headers["Location"].endswith("/privacy/requests")
    db.session.expire_all()
    item = db.session.get(PersonRequest, item.id)
    assert (item.outcome, item.acknowledged_by_id, item.closed_by_id) == ("done", people.officer.id, people.officer.id)


def test_the_request_pages_and_the_data_pages_link_to_each_other(people, login_as):
    client = login_as(people.r)
    assert 'href="/privacy/me"' in client.get("/privacy/me/requests").get_data(as_text=True)
    assert 'href="/privacy/me/requests"' in client.get("/privacy/me").get_data(as_text=True)
    client.post("/logout")
    client = login_as(people.tech)
    page = client.get(f"/privacy/residents/{people.rec.id}/requests").get_data(as_text=True)
    assert f'href="/privacy/residents/{people.rec.id}"' in page
    data_page = client.get(f"/privacy/residents/{people.rec.id}").get_data(as_text=True)
    assert f'href="/privacy/residents/{people.rec.id}/requests"' in data_page
