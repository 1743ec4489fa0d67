"""The read log in the personal-data register: declared column by column, exported for the person
read, and unlinked from them when they are erased."""

from __future__ import annotations

from app.privacy import register
from app.privacy.access_log import record_read
from app.privacy.models import PersonalDataRead
from app.privacy.subjects import subject_of_resident, subject_of_user


def test_every_column_of_the_read_log_and_the_new_user_setting_is_declared():
    tables = register.load()
    entry = tables["personal_data_reads"]
    columns = {column.name for column in PersonalDataRead.__table__.columns}
    assert set(entry.personal) | entry.not_personal == columns
    assert "personal_data_reads" in register.EXPORTERS and "personal_data_reads" in register.ERASERS
    assert "visit_address_in_notices" in tables["users"].not_personal


def test_the_export_holds_who_read_the_persons_record_not_whom_they_read(db, make_user, make_resident, units):
    register.load()
    person = make_user("tech_team", units["v1a"], full_name="Người được xem")
    own = make_resident(user_id=person.id)
    reader = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    record_read(reader, residents=[own], kind="resident_page", where="outcomes.resident")
    record_read(reader, users=[person], kind="person_page", where="users.show")
    record_read(person, residents=[make_resident()], kind="list", where="outcomes.residents")

    rows = register.EXPORTERS["personal_data_reads"](subject_of_user(person))

    assert len(rows) == 2
    assert {row["reader"] for row in rows} == {"Chủ tịch Một"}
    assert {row["where"] for row in rows} == {"outcomes.resident", "users.show"}
    assert all(row["reader_role"] == "commune_manager" and row["read_at"] for row in rows)


def test_erasing_the_person_read_keeps_the_rows_without_the_link(db, make_user, make_resident, units, reads):
    register.load()
    reader = make_user("tech_team", units["v1a"])
    erased, kept = make_resident(), make_resident()
    record_read(reader, residents=[erased, kept], kind="list", where="outcomes.residents")

    register.ERASERS["personal_data_reads"](subject_of_resident(erased), None)

    rows = reads(reader_id=reader.id)
    assert len(rows) == 2  # what the reader read is still counted
    assert {row.resident_id for row in rows} == {None, kept.id}
    assert reads(resident_id=erased.id) == []
    assert register.EXPORTERS["personal_data_reads"](subject_of_resident(erased)) == []


def test_the_reads_a_person_made_stay_when_they_are_erased(db, make_user, make_resident, units, reads):
    register.load()
    reader = make_user("tech_team", units["v1a"])
    read = make_resident()
    record_read(reader, residents=[read], kind="list", where="outcomes.residents")
    register.ERASERS["personal_data_reads"](subject_of_user(reader), None)
    [row] = reads()
    assert (row.reader_id, row.resident_id) == (reader.id, read.id)
