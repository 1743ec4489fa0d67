"""GET /api/v1/residents/{id}/access-log, and API reads of people written to the log."""

from datetime import timedelta

from app.db import utcnow
from app.privacy.access_log import record_read
from app.visits.models import Visit


def test_the_access_log_lists_who_read_the_record_newest_first(client, api_token, make_user, make_resident, units):
    manager = make_user("commune_manager", units["c1"])
    member = make_user("tech_team", units["v1a"], full_name="Lê Văn Tâm")
    resident = make_resident()
    record_read(member, residents=[resident], kind="resident_page", where="outcomes.resident")
    headers = api_token(manager)
    assert client.get("/api/v1/residents", headers=headers).status_code == 200

    body = client.get(f"/api/v1/residents/{resident.id}/access-log", headers=headers).get_json()

    assert body["total"] == 2
    newest, oldest = body["items"]
    assert (newest["reader"]["id"], newest["kind"], newest["where"]) == (manager.id, "api", "GET /api/v1/residents")
    assert oldest["reader"] == {"id": member.id, "name": "Lê Văn Tâm", "role": "tech_team"}
    assert (oldest["kind"], oldest["where"]) == ("resident_page", "outcomes.resident")


def test_the_access_log_is_paginated(client, api_token, make_user, make_resident, units):
    manager = make_user("commune_manager", units["c1"])
    resident = make_resident()
    for n in range(3):
        record_read(make_user("tech_team", units["v1a"]), residents=[resident], kind="list", where=f"page{n}")
    body = client.get(
        f"/api/v1/residents/{resident.id}/access-log?per_page=2&page=2", headers=api_token(manager)
    ).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 2, 2, 1)
    assert body["items"][0]["where"] == "page0"


def test_another_communes_resident_is_refused_and_an_unknown_one_is_not_found(
    client, api_token, make_user, make_resident, units
):
    headers = api_token(make_user("commune_manager", units["c1"]))
    other = make_resident(units["v2a"])
    refused = client.get(f"/api/v1/residents/{other.id}/access-log", headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/residents/999999/access-log", headers=headers).status_code == 404


def test_a_resident_may_not_read_the_access_log(client, api_token, make_user, make_resident, units):
    person = make_user("resident", units["v1a"])
    resident = make_resident()
    assert client.get(f"/api/v1/residents/{resident.id}/access-log", headers=api_token(person)).status_code == 403


def test_bad_paging_is_refused(client, api_token, make_user, make_resident, units):
    headers = api_token(make_user("commune_manager", units["c1"]))
    resident = make_resident()
    response = client.get(f"/api/v1/residents/{resident.id}/access-log?per_page=0", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "per_page"


def test_api_reads_of_residents_are_written(client, api_token, make_user, make_resident, units, reads):
    manager = make_user("commune_manager", units["c1"])
    shown = make_resident()
    hidden = make_resident(units["v2a"])
    assert client.get("/api/v1/residents", headers=api_token(manager)).status_code == 200
    [read] = reads(resident_id=shown.id)
    assert (read.reader_id, read.kind, read.endpoint) == (manager.id, "api", "GET /api/v1/residents")
    assert reads(resident_id=hidden.id) == []


def test_a_refused_api_call_writes_nothing(client, api_token, make_user, make_resident, units, reads):
    manager = make_user("commune_manager", units["c1"])
    make_resident()
    response = client.get("/api/v1/residents?reached=maybe", headers=api_token(manager))
    assert response.status_code == 422
    assert reads() == []


def test_api_reads_of_visits_log_the_visited_person(client, api_token, make_user, units, reads, db):
    manager = make_user("commune_manager", units["c1"])
    member = make_user("tech_team", units["v1a"])
    person = make_user("resident", units["v1a"])
    start = utcnow() + timedelta(days=1)
    db.session.add(
        Visit(
            member_id=member.id,
            unit_id=units["v1a"].id,
            resident_id=person.id,
            skill="eid",
            place="Nhà chị Hoa",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            booked_by_id=manager.id,
        )
    )
    db.session.flush()
    assert client.get("/api/v1/visits?unit=C1", headers=api_token(manager)).status_code == 200
    [read] = reads(user_id=person.id)
    assert (read.reader_id, read.kind, read.endpoint) == (manager.id, "api", "GET /api/v1/visits")
