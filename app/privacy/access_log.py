"""Who read whose record: every page, list, export and API answer that shows people writes one
row per person shown (`record_read`), and the officer, a resident's carers and the person
themselves read it back (`reads_query`).

A request's reads are written when it has answered (`write_recorded_reads`), in one INSERT for
the whole request and a short transaction of its own, and only when the answer was given (below
400): a refused or failed request leaves nothing behind. Writing at the end keeps the page's own
transaction read-only, and on SQLite a write transaction that starts with its write waits for the
lock instead of failing on a snapshot another writer made stale. Reading one's own record is not
logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import g, has_request_context, request
from sqlalchemy import Select, insert, or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.db import LOCAL_TZ, commit_if_read_only, utcnow
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.models import READ_KINDS, PersonalDataRead

_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def here() -> str:
    """Where the current request reads: the page's endpoint, or "METHOD /api/v1/path/{arg}" for
    the API."""
    if not has_request_context():
        return "-"
    if request.blueprint == "api" and request.url_rule is not None:
        path = _RULE_ARGUMENT.sub(r"{\1}", request.url_rule.rule)
        return f"{request.method} {path}"[:120]
    return (request.endpoint or request.path)[:120]


def _id(record) -> int | None:
    return record if isinstance(record, int) or record is None else record.id


def record_read(
    reader,
    *,
    residents: Iterable = (),
    users: Iterable = (),
    pairs: Iterable[tuple[int | None, int | None]] = (),
    kind: str,
    where: str | None = None,
) -> int:
    """Log that `reader` was shown these people: `residents` (Resident rows), `users` (User rows
    or ids) and `pairs` of (resident id, user id) for records that name a person by either or both
    (a help request, a visit), one row each, in a single INSERT; `where` defaults to the current
    page or API call. A resident linked to an account is logged with both ids. The reader's own
    record is left out. In a request the rows are written when it has answered
    (`write_recorded_reads`); elsewhere (a command, the demo) at once, flushed for the caller to
    commit. Returns how many rows there are."""
    assert kind in READ_KINDS, kind
    reader_id = reader.id
    where = (where or here())[:120]
    now = utcnow()
    rows: list[dict] = []
    seen_residents: set[int] = set()
    for resident in residents:
        if resident is None or resident.id in seen_residents or resident.user_id == reader_id:
            continue
        seen_residents.add(resident.id)
        rows.append({"resident_id": resident.id, "user_id": resident.user_id})
    seen_users: set[int] = set()
    for user in users:
        user_id = _id(user)
        if user_id is None or user_id == reader_id or user_id in seen_users:
            continue
        seen_users.add(user_id)
        rows.append({"resident_id": None, "user_id": user_id})
    for resident_id, user_id in pairs:
        if (resident_id is None and user_id is None) or user_id == reader_id:
            continue
        if (resident_id is not None and resident_id in seen_residents) or (
            resident_id is None and user_id in seen_users
        ):
            continue
        if resident_id is not None:
            seen_residents.add(resident_id)
        else:
            seen_users.add(user_id)
        rows.append({"resident_id": resident_id, "user_id": user_id})
    if not rows:
        return 0
    for row in rows:
        row.update(read_at=now, reader_id=reader_id, kind=kind, endpoint=where)
    if has_request_context():
        g.setdefault("personal_data_reads", []).extend(rows)
    else:
        db.session.execute(insert(PersonalDataRead), rows)
    return len(rows)


def write_recorded_reads(response):
    """After a request that showed people: write its reads in one INSERT and commit them, unless
    the request was refused (4xx/5xx: it showed no one). The page's own transaction ends first,
    as it would have (COMMIT when it only read; anything it left unwritten is rolled back, not
    committed with the reads)."""
    rows = g.pop("personal_data_reads", None)
    if not rows or response.status_code >= 400:
        return response
    session = db.session()
    commit_if_read_only(session, None)
    if session.in_transaction():
        session.rollback()
    session.execute(insert(PersonalDataRead), rows)
    session.commit()
    return response


# --- reading the log back ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadFilter:
    """What the officer's list narrows to; every part optional."""

    reader_id: int | None = None
    resident_id: int | None = None
    user_id: int | None = None
    since: date | None = None
    until: date | None = None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def reads_query(filters: ReadFilter) -> Select:
    """The log's rows (with reader, resident and person loaded) newest first, narrowed by `filters`."""
    query = (
        select(PersonalDataRead)
        .options(
            selectinload(PersonalDataRead.reader).selectinload(User.unit),
            selectinload(PersonalDataRead.resident).selectinload(Resident.unit),
            selectinload(PersonalDataRead.person),
        )
        .order_by(PersonalDataRead.read_at.desc(), PersonalDataRead.id.desc())
    )
    if filters.reader_id is not None:
        query = query.where(PersonalDataRead.reader_id == filters.reader_id)
    if filters.resident_id is not None:
        query = query.where(PersonalDataRead.resident_id == filters.resident_id)
    if filters.user_id is not None:
        query = query.where(PersonalDataRead.user_id == filters.user_id)
    if filters.since is not None:
        query = query.where(PersonalDataRead.read_at >= _local_midnight(filters.since))
    if filters.until is not None:
        query = query.where(PersonalDataRead.read_at < _local_midnight(filters.until + timedelta(days=1)))
    return query


def reads_of_resident(resident: Resident) -> Select:
    """Who read this resident's record, newest first (also as the account linked to it)."""
    query = reads_query(ReadFilter())
    if resident.user_id is None:
        return query.where(PersonalDataRead.resident_id == resident.id)
    return query.where(or_(PersonalDataRead.resident_id == resident.id, PersonalDataRead.user_id == resident.user_id))


def reads_of_user(user: User) -> Select:
    """Who read this person's record: their account and any resident record linked to it."""
    return reads_query(ReadFilter()).where(
        or_(
            PersonalDataRead.user_id == user.id,
            PersonalDataRead.resident_id.in_(select(Resident.id).where(Resident.user_id == user.id)),
        )
    )
