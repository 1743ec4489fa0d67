"""Who read whose record: what pages write to the log, and the pages that show it."""

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
