"""The declarative base shared by every model."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context, request
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# One naming convention from the first migration on, so constraint names are the same on SQLite
# and PostgreSQL and migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored in UTC.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked UTC on the
    way out; naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: The province's time zone: times are stored in UTC and shown and entered in this zone (no DST).
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


#: Dates and times outside these years are refused wherever a person or a client gives one: no one
#: means them, and date arithmetic near year 1 or 9999 overflows.
YEARS = (2000, 2100)

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class DayOutOfRange(ValueError):
    """A well-formed day outside YEARS."""


def day_from(value: str) -> date | None:
    """The day `value` names as YYYY-MM-DD (the one format the pages link with), or None when
    it is empty. Raises ValueError for anything else, DayOutOfRange (a ValueError) for a year
    outside YEARS (no figure is that old, and week arithmetic near year 1 or 9999 overflows).
    Callers read the argument by its literal name (request.args.get("from")), so the route
    fuzzer sends it."""
    value = value.strip()
    if not value:
        return None
    if not _DAY.fullmatch(value):
        raise ValueError(value)
    day = date.fromisoformat(value)
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise DayOutOfRange(value)
    return day


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def string_enum(values, name: str, length: int = 20) -> Enum:
    """An enum stored as a string with a CHECK constraint, easy to extend in a migration."""
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate: write UTCDateTime columns as plain timezone-aware DateTime, so
    migrations do not import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure_sqlite(engine) -> None:
    """Make SQLite behave like a real transactional database.

    The sqlite3 driver opens transactions lazily and never for SAVEPOINT; letting SQLAlchemy emit
    BEGIN itself gives correct transactions and savepoints. Foreign keys are off in SQLite unless
    asked for; WAL lets readers work while one writer writes.

    A request that may write (POST, PUT, PATCH, DELETE), and a scheduled job (writing_work),
    starts its transaction with BEGIN IMMEDIATE, taking the write lock at once and waiting for it
    (busy_timeout). A plain BEGIN reads first and asks for the lock at its first write; when
    another writer committed in between, SQLite answers "database is locked" at once, without
    waiting, since the reader's snapshot is stale: twelve parallel failed sign-ins (each reads
    the account, then writes an audit entry) gave eleven server errors.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _request_may_write() else "BEGIN")


#: Set while a scheduled job runs (writing_work): its transactions are a writer's.
_WRITING_WORK: ContextVar[bool] = ContextVar("writing_work", default=False)


@contextmanager
def writing_work() -> Iterator[None]:
    """Work outside a request that writes — a scheduled job (app.jobs.scheduler.run_job). On
    SQLite its transactions take the write lock when they begin, as a writing request's do: two
    jobs of the in-process scheduler starting together (as they do on the first start) met
    "database is locked" with a plain BEGIN."""
    token = _WRITING_WORK.set(True)
    try:
        yield
    finally:
        _WRITING_WORK.reset(token)


def _request_may_write() -> bool:
    if _WRITING_WORK.get():
        return True
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


# --- ending read-only transactions ---------------------------------------------------------------

_READ_STATEMENT = re.compile(r"\s*select\b", re.IGNORECASE)


def track_writes(engine) -> None:
    """Note on each connection whether its current transaction sent anything but SELECT."""

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.info["wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def on_execute(connection, _cursor, statement, _parameters, _context, _executemany):
        if not _READ_STATEMENT.match(statement):
            connection.info["wrote"] = True


def commit_if_read_only(session, error: BaseException | None) -> None:
    """End a request's transaction with COMMIT when it only read: no error, nothing waiting to
    be flushed, no statement but SELECT sent (see track_writes). For such a transaction COMMIT
    and ROLLBACK are the same, but psycopg forgets every prepared statement on ROLLBACK, and
    PostgreSQL would then parse and plan the same queries again on every page. Anything else is
    left to the session's usual end, a ROLLBACK."""
    if error is not None or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted or session.connection().info.get("wrote", True):
        return
    try:
        session.commit()
    except Exception:  # the page was served and nothing was written: note it and roll back
        logging.getLogger(__name__).warning("ending a read-only transaction failed", exc_info=True)
        session.rollback()


#: Characters no text column takes: control characters other than tab, line feed and carriage
#: return (PostgreSQL refuses NUL in text) and lone surrogates (not encodable as UTF-8).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

#: Ids are 32-bit integers in the database; a larger number cannot name anything (and PostgreSQL
#: would refuse to compare it), so it is "not found" or "not valid" before any query.
MAX_ID = 2**31 - 1
