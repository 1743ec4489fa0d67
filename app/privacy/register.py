"""The personal-data register: for every table, which columns hold personal data (basic or
sensitive), why, on what legal basis and for how long, and the handlers that export and erase one
person's rows.

Each feature package declares its own tables in its `privacy.py` (the way each Moodle plugin has a
privacy provider), listed in `DECLARING_MODULES`; `load()` imports them all. Export and erase
handlers are registered by table name with `@exporter` and `@eraser`. A test walks every table and
column of the metadata and fails on anything undeclared or a personal table without handlers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.privacy.purposes import DATA_KINDS, LEGAL_BASES, PURPOSES

#: The modules that declare tables (each package's privacy.py).
DECLARING_MODULES = [
    "app.audit.privacy",
    "app.auth.privacy",
    "app.jobs.privacy",
    "app.learning.privacy",
    "app.outcomes.privacy",
    "app.privacy.privacy",
    "app.reports.privacy",
    "app.units.privacy",
    "app.visits.privacy",
]


@dataclass(frozen=True)
class Retention:
    """How long a kind of personal data is kept. `days` counts from `after`; None means as long as
    what it belongs to exists (erased with it)."""

    key: str
    title: object
    days: int | None = None


RETENTION = {
    r.key: r
    for r in (
        Retention("account", _l("As long as the account exists")),
        Retention("record", _l("As long as the resident's record exists")),
        # Applied by app/privacy/retention.py; the days are the defaults of the RETENTION_* settings.
        Retention("closed_notes", _l("Until a year after the request or visit is closed"), 365),
        Retention("inactive_phone", _l("Until two years without any help, visit or milestone"), 730),
        Retention("messages", _l("Half a year after the message was sent"), 180),
        Retention("erasure_ledger", _l("As long as backups taken before the erasure are kept")),
    )
}


@dataclass(frozen=True)
class Personal:
    """One column holding personal data."""

    kind: str  # a DATA_KINDS key
    purpose: str  # a PURPOSES key
    basis: str  # a LEGAL_BASES key
    retention: str  # a RETENTION key

    def __post_init__(self):
        # A typo in a declaration fails at import, not on the officer's page.
        assert self.kind in DATA_KINDS, self.kind
        assert self.purpose in PURPOSES, self.purpose
        assert self.basis in LEGAL_BASES, self.basis
        assert self.retention in RETENTION, self.retention


@dataclass
class TableEntry:
    table: str
    #: What the table holds, for the officer's page.
    title: object
    personal: dict[str, Personal] = field(default_factory=dict)
    not_personal: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Subject:
    """One person as the tables know them: an account, resident records, or both."""

    user_id: int | None
    resident_ids: tuple[int, ...] = ()


#: table name -> declaration
TABLES: dict[str, TableEntry] = {}
#: table name -> fn(subject) -> list of dicts (the person's rows, readable)
EXPORTERS: dict[str, Callable] = {}
#: table name -> fn(subject, erasure) (removes or anonymises the person's rows)
ERASERS: dict[str, Callable] = {}


def declare(table: str, title, *, personal: dict[str, Personal] | None = None, not_personal=()) -> TableEntry:
    entry = TableEntry(table, title, dict(personal or {}), frozenset(not_personal))
    overlap = set(entry.personal) & entry.not_personal
    assert not overlap, f"{table}: declared both personal and not personal: {overlap}"
    TABLES[table] = entry
    return entry


def exporter(table: str):
    def register(fn):
        EXPORTERS[table] = fn
        return fn

    return register


def eraser(table: str):
    def register(fn):
        ERASERS[table] = fn
        return fn

    return register


def load() -> dict[str, TableEntry]:
    """Import every declaring module (idempotent) and return the register."""
    for name in DECLARING_MODULES:
        importlib.import_module(name)
    return TABLES
