"""Everything held about one person, gathered from every table's exporter in the register.

Each exporter returns the rows about the subject (their account, their resident records), and the
subject's own work as a team member or manager (visits made, sessions hosted, the ledger) without
the other people's details. A row about someone else that only names the subject as the person who
recorded it is that other person's data and is not repeated here.
"""

from __future__ import annotations

from app.db import utcnow
from app.privacy import register
from app.privacy.register import Subject
from app.privacy.rows import plain


def personal_data(subject: Subject) -> dict:
    """{"generated_at", "subject": {"user_id", "resident_ids"}, "tables": {table: {"title", "rows"}}}
    for every table with an exporter that holds rows about `subject` (JSON-safe: ISO dates and
    times, titles in the request's language), tables in the order of their titles."""
    tables = register.load()
    found = {}
    for name in sorted(register.EXPORTERS, key=lambda table: str(tables[table].title)):
        rows = register.EXPORTERS[name](subject)
        if rows:
            found[name] = {"title": str(tables[name].title), "rows": rows}
    return {
        "generated_at": plain(utcnow()),
        "subject": {"user_id": subject.user_id, "resident_ids": list(subject.resident_ids)},
        "tables": found,
    }
