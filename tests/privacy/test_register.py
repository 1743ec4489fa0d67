"""The personal-data register covers every table and column of the database, and every table
holding personal data has its handlers."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from app.extensions import db
from app.privacy import register
from app.privacy.purposes import DATA_KINDS, LEGAL_BASES, PURPOSES
from app.privacy.register import RETENTION, Personal


@pytest.fixture
def tables(app):
    return register.load()


def test_every_table_and_column_is_declared_and_every_personal_table_has_an_exporter(tables):
    assert register.problems(db.metadata) == []
    assert set(tables) == {table.name for table in db.metadata.sorted_tables}


def test_every_table_holding_personal_data_has_an_eraser(tables):
    assert register.problems(db.metadata, register.ERASERS, "eraser") == []


def test_an_undeclared_table_or_column_and_a_missing_exporter_are_found(tables):
    metadata = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("pets", metadata, Column("id", Integer, primary_key=True), Column("name", String(40)))
    metadata.tables["residents"].append_column(Column("nickname", String(40)))
    assert sorted(register.problems(metadata)) == [
        "pets: table not declared",
        "residents.nickname: column not declared",
    ]

    pet_name = Personal("basic", "account", "consent", "account")
    register.declare("pets", "Pets", personal={"name": pet_name}, not_personal={"id", "owner"})
    try:
        assert sorted(register.problems(metadata)) == [
            "pets.owner: declared but no such column",
            "pets: holds personal data but has no exporter",
            "residents.nickname: column not declared",
        ]
        assert "pets: declared but no such table" in register.problems(db.metadata)
    finally:
        del register.TABLES["pets"]
    assert register.problems(db.metadata) == []


def test_a_column_cannot_be_both_personal_and_not_personal():
    with pytest.raises(AssertionError):
        register.declare(
            "pets", "Pets", personal={"id": Personal("basic", "account", "consent", "account")}, not_personal={"id"}
        )
    assert "pets" not in register.TABLES


def test_every_declaration_names_known_words_and_free_text_notes_are_sensitive(tables):
    for entry in tables.values():
        for field in entry.personal.values():
            assert field.kind in DATA_KINDS and field.purpose in PURPOSES
            assert field.basis in LEGAL_BASES and field.retention in RETENTION
    for table, column in [
        ("visits", "notes"),
        ("help_requests", "note"),
        ("follow_ups", "reason"),
        ("walk_list_entries", "note"),
    ]:
        assert tables[table].personal[column].kind == "sensitive", (table, column)
    for table in ("units", "courses", "learner_stats", "visit_stats", "wait_totals"):
        assert not tables[table].personal, table


def test_fixed_retention_periods_say_from_when_they_count():
    for retention in RETENTION.values():
        assert (retention.days is None) == (retention.after is None), retention.key
    assert RETENTION["closed_note"].days == 365
    assert RETENTION["inactive_phone"].days == 730
    assert RETENTION["messages"].days == 180
