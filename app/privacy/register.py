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
    what it belongs to exists (erased with it).

    `after` names the moment the period starts, for the retention job:

    * "closed": the row's `closed_at` (a help request, a follow-up) or, for a visit, the end of the
      visit once it is done, cancelled or a no-show;
    * "last_activity": the person's last sign-in, request, visit or record change;
    * "event": the row's own time (an audit event, a read of a record);
    * "sent": the message's `sent_at` (its `created_at` when it was never sent);
    * "campaign_end": the campaign's `ends_on`;
    * "month_closed": the ledger month's `closed_at`;
    * "day": the day the row is about (an availability exception's `on_date`).
    """

    key: str
    title: object
    days: int | None = None
    after: str | None = None


RETENTION = {
    r.key: r
    for r in (
        Retention("account", _l("As long as the account exists")),
        Retention("record", _l("As long as the resident's record exists")),
        Retention("team_membership", _l("As long as the person is a member of a tech team")),
        Retention(
            "closed_note",
            _l("365 days after the help request, visit or follow-up is closed"),
            days=365,
            after="closed",
        ),
        Retention(
            "inactive_phone",
            _l("730 days after the person's last activity"),
            days=730,
            after="last_activity",
        ),
        Retention("security_log", _l("365 days after the event"), days=365, after="event"),
        Retention("recovery_code", _l("1 day after the code was asked for"), days=1, after="event"),
        Retention("read_log", _l("730 days after the record was read"), days=730, after="event"),
        Retention("messages", _l("180 days after the message was sent"), days=180, after="sent"),
        Retention("campaign", _l("365 days after the campaign ends"), days=365, after="campaign_end"),
        Retention(
            "ledger",
            _l("10 years after the month is closed (accounting records for support payments)"),
            days=3650,
            after="month_closed",
        ),
        Retention("availability_note", _l("365 days after the day it is about"), days=365, after="day"),
        Retention("data_request", _l("As evidence that the request was answered, until the person's data is erased")),
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


def problems(metadata, handlers: dict[str, Callable] | None = None, handler: str = "exporter") -> list[str]:
    """What is wrong with the register against `metadata` (empty when nothing): a table or column
    declared neither personal nor not personal, a declared column the table lacks, a declared table
    that does not exist, and a table holding personal data without a `handler` in `handlers`
    (EXPORTERS by default; ERASERS for erase handlers)."""
    handlers = EXPORTERS if handlers is None else handlers
    found = []
    tables = {table.name: table for table in metadata.sorted_tables}
    for name, table in tables.items():
        entry = TABLES.get(name)
        if entry is None:
            found.append(f"{name}: table not declared")
            continue
        columns = {column.name for column in table.columns}
        declared = set(entry.personal) | entry.not_personal
        found += [f"{name}.{column}: column not declared" for column in sorted(columns - declared)]
        found += [f"{name}.{column}: declared but no such column" for column in sorted(declared - columns)]
        if entry.personal and name not in handlers:
            found.append(f"{name}: holds personal data but has no {handler}")
    found += [f"{name}: declared but no such table" for name in sorted(set(TABLES) - set(tables))]
    return found
