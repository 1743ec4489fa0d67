"""Who read whose record: what pages write to the log, and the pages that show it."""

from datetime import timedelta

from app.db import local_today
from app.privacy.access_log import record_read


def test_opening_a_residents_page_logs_who_read_it(client, login_as, make_user, make_resident, reads, units):
    member = make_user("tech_team", units["v1a"])
    resident = make_resident()
    login_as(member)
    assert client.get(f"/outcomes/residents/{resident.id}").status_code == 200
    [read] = reads(resident_id=resident.id)
    assert (read.reader_id, read.kind, read.endpoint) == (member.id, "resident_page", "outcomes.resident")


def test_a_resident_page_of_another_commune_is_refused_and_logs_nothing(
    client, login_as, make_user, make_resident, reads, units
):
    member = make_user("tech_team", units["v1a"])
    resident = make_resident(units["v2a"])
    login_as(member)
    assert client.get(f"/outcomes/residents/{resident.id}").status_code == 403
    assert reads() == []


def test_the_residents_list_logs_one_read_per_person_shown(client, login_as, make_user, make_resident, reads, units):
    manager = make_user("commune_manager", units["c1"])
    shown = [make_resident(), make_resident(units["v1b"])]
    make_resident(units["v2a"])  # another commune: not shown, not logged
    login_as(manager)
    assert client.get("/outcomes/residents").status_code == 200
    logged = reads(kind="list")
    assert sorted(r.resident_id for r in logged) == sorted(r.id for r in shown)
    assert {r.endpoint for r in logged} == {"outcomes.residents"}


def test_reading_ones_own_record_is_not_logged(db, make_user, make_resident, reads, units):
    person = make_user("resident", units["v1a"])
    own = make_resident(user_id=person.id)
    other = make_resident()
    assert record_read(person, residents=[own, other], users=[person], kind="list", where="test") == 1
    [read] = reads()
    assert read.resident_id == other.id


def test_a_resident_linked_to_an_account_is_logged_with_both(db, make_user, make_resident, reads, units):
    reader = make_user("tech_team", units["v1a"])
    person = make_user("resident", units["v1a"])
    resident = make_resident(user_id=person.id)
    record_read(reader, residents=[resident], kind="resident_page", where="test")
    [read] = reads()
    assert (read.resident_id, read.user_id) == (resident.id, person.id)


# --- the pages that show the log --------------------------------------------------------------


def test_the_officer_sees_every_read_newest_first_and_filters_by_reader_person_and_date(
    client, login_as, make_user, make_resident, units, db
):
    officer = make_user("admin", units["province"])
    reader_a = make_user("tech_team", units["v1a"], username="docgia_a", full_name="Người đọc A")
    reader_b = make_user("tech_team", units["v2a"], username="docgia_b", full_name="Người đọc B")
    person = make_user("resident", units["v1a"], username="nguoidan", full_name="Người dân X")
    first = make_resident(full_name="Cư dân Một")
    second = make_resident(units["v2a"], full_name="Cư dân Hai")
    record_read(reader_a, residents=[first], kind="resident_page", where="outcomes.resident")
    record_read(reader_b, residents=[second], users=[person], kind="list", where="outcomes.residents")
    login_as(officer)

    page = client.get("/privacy/reads").get_data(as_text=True)
    assert page.index("Cư dân Hai") < page.index("Cư dân Một")  # newest first
    assert "Người dân X" in page

    by_reader = client.get("/privacy/reads?reader=docgia_a").get_data(as_text=True)
    assert "Cư dân Một" in by_reader and "Cư dân Hai" not in by_reader
    by_person = client.get("/privacy/reads?person=nguoidan").get_data(as_text=True)
    assert "Người dân X" in by_person and "Cư dân Một" not in by_person
    by_resident = client.get(f"/privacy/reads?resident={second.id}").get_data(as_text=True)
    assert "Cư dân Hai" in by_resident and "Cư dân Một" not in by_resident
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    later = client.get(f"/privacy/reads?since={tomorrow}").get_data(as_text=True)
    assert "Cư dân Một" not in later and "Cư dân Hai" not in later
    today = local_today().isoformat()
    within = client.get(f"/privacy/reads?since={today}&until={today}").get_data(as_text=True)
    assert "Cư dân Một" in within and "Cư dân Hai" in within


def test_the_officers_page_takes_bad_filters_without_failing(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    for query in ("since=2026-13-40", "until=0001-01-01", "resident=abc", "reader=nobody", "page=-3"):
        response = client.get(f"/privacy/reads?{query}")
        assert response.status_code == 200, query


def test_only_the_officer_sees_the_whole_log(client, login_as, make_user, units):
    for role, unit in (("commune_manager", units["c1"]), ("tech_team", units["v1a"]), ("resident", units["v1a"])):
        client.post("/logout")
        login_as(make_user(role, unit))
        assert client.get("/privacy/reads").status_code == 403, role


def test_a_resident_page_links_to_who_read_it_for_those_who_act_for_residents(
    client, login_as, make_user, make_resident, units
):
    resident = make_resident()
    login_as(make_user("commune_manager", units["c1"]))
    page = client.get(f"/outcomes/residents/{resident.id}").get_data(as_text=True)
    assert f"/privacy/residents/{resident.id}/reads" in page


def test_who_read_a_resident_is_shown_in_scope_and_refused_outside(client, login_as, make_user, make_resident, units):
    manager = make_user("commune_manager", units["c1"])
    member = make_user("tech_team", units["v1a"], full_name="Lê Văn Tâm")
    here, there = make_resident(), make_resident(units["v2a"])
    record_read(member, residents=[here], kind="resident_page", where="outcomes.resident")
    login_as(manager)
    page = client.get(f"/privacy/residents/{here.id}/reads").get_data(as_text=True)
    assert "Lê Văn Tâm" in page and "outcomes.resident" in page
    assert client.get(f"/privacy/residents/{there.id}/reads").status_code == 403
    assert client.get("/privacy/residents/999999/reads").status_code == 404
    assert client.get(f"/privacy/residents/{2**40}/reads").status_code == 404


def test_a_department_manager_or_cadre_may_not_see_who_read_a_resident(
    client, login_as, make_user, make_resident, units
):
    resident = make_resident()
    for role, unit in (("department_manager", units["province"]), ("cadre", units["c1"])):
        client.post("/logout")
        login_as(make_user(role, unit))
        assert client.get(f"/privacy/residents/{resident.id}/reads").status_code == 403, role


def test_a_person_sees_who_read_their_own_record_and_nothing_else(client, login_as, make_user, make_resident, units):
    person = make_user("resident", units["v1a"])
    own = make_resident(user_id=person.id, full_name="Chính tôi")
    reader = make_user("tech_team", units["v1a"], full_name="Lê Văn Tâm")
    other_reader = make_user("tech_team", units["v1a"], full_name="Trần Thị Khác")
    record_read(reader, residents=[own], kind="resident_page", where="outcomes.resident")
    record_read(other_reader, residents=[make_resident()], kind="list", where="outcomes.residents")
    login_as(person)
    account = client.get("/account").get_data(as_text=True)
    assert "/privacy/me/reads" in account
    page = client.get("/privacy/me/reads").get_data(as_text=True)
    assert "Lê Văn Tâm" in page
    assert "Trần Thị Khác" not in page


def test_a_refused_list_logs_nothing(client, login_as, make_user, make_resident, units, reads):
    member = make_user("tech_team", units["v1a"])
    resident = make_resident()
    login_as(member)
    assert client.get("/outcomes/residents?unit=NOPE").status_code == 404
    assert reads() == []
    assert client.get(f"/outcomes/residents/{resident.id}").status_code == 200
    assert len(reads()) == 1


def test_the_link_to_who_read_a_resident_is_not_offered_to_those_who_may_not_see_it(
    client, login_as, make_user, make_resident, units
):
    resident = make_resident()
    login_as(make_user("department_manager", units["province"]))
    page = client.get(f"/outcomes/residents/{resident.id}").get_data(as_text=True)
    assert "/reads" not in page
