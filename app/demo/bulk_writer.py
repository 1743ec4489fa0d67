"""Bulk writing for the synthetic data generator: ids reserved in blocks, rows written in batches
with COPY on PostgreSQL (executemany on SQLite, slower), never through the ORM per row.

The writer knows tables and columns, not what the rows mean; the simulation modules build the rows.
"""

from __future__ import annotations

import json
import queue
import threading

from sqlalchemy import JSON, text

from app.extensions import db


class BulkWriter:
    """Bulk inserts with explicit ids: COPY on PostgreSQL, executemany on SQLite.

    On PostgreSQL the COPYs run in a background thread on the session's own connection (same
    transaction), so the database works on one batch while Python generates the next. While
    writes are queued the session must not be used: call drain() first (reserve() does).
    """

    #: Ids taken from a table's sequence at a time on PostgreSQL (the rest is given back at close).
    CHUNK = 2_000_000

    def __init__(self, counts: dict[str, int]):
        self.session = db.session
        self.postgresql = self.session.get_bind().dialect.name == "postgresql"
        self.blocks: dict[str, list[int]] = {}  # table -> [next id, last id of the block]
        self.sequences: dict[str, str] = {}
        self.counts = counts
        self.failure: BaseException | None = None
        if self.postgresql:
            self.driver = self.session.connection().connection.driver_connection
            self.queue: queue.Queue = queue.Queue(maxsize=3)
            self.thread = threading.Thread(target=self._copy_queued, name="generate-copy", daemon=True)
            self.thread.start()

    def reserve(self, table: str, n: int) -> int:
        """The first of `n` new consecutive ids for `table`."""
        block = self.blocks.get(table)
        if block is None or block[0] + n - 1 > block[1]:
            self.drain()
            if self.postgresql:
                size = max(n, self.CHUNK)
                first = (
                    self.session.scalar(
                        text("SELECT setval(CAST(:s AS regclass), nextval(CAST(:s AS regclass)) + :n - 1)"),
                        {"s": self._sequence(table), "n": size},
                    )
                    - size
                    + 1
                )
                block = [first, first + size - 1]
            else:
                # One writer: the ids after the highest are free.
                first = (self.session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1  # noqa: S608 (our table names)
                block = [first, 2**62]
            self.blocks[table] = block
        first = block[0]
        block[0] += n
        return first

    def _sequence(self, table: str) -> str:
        if table not in self.sequences:
            self.sequences[table] = self.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
        return self.sequences[table]

    def write(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        if self.failure is not None:
            raise self.failure
        if not rows:
            return
        self.counts[table] += len(rows)
        if self.postgresql:
            self.queue.put((table, columns, rows))
            return
        model_table = db.metadata.tables[table]
        for start in range(0, len(rows), 5000):
            self.session.execute(
                model_table.insert(), [dict(zip(columns, row, strict=True)) for row in rows[start : start + 5000]]
            )

    def write_with_ids(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        """Write `rows` (without ids) under new consecutive ids."""
        first = self.reserve(table, len(rows))
        self.write(table, ("id", *columns), [(first + i, *row) for i, row in enumerate(rows)])

    def _copy_queued(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.failure is None:
                    self._copy(*item)
            except BaseException as error:  # handed to the main thread by drain() and write()
                self.failure = error
            finally:
                self.queue.task_done()

    def _copy(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        model_table = db.metadata.tables[table]
        json_positions = [i for i, name in enumerate(columns) if isinstance(model_table.c[name].type, JSON)]
        with self.driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            if json_positions:
                for row in rows:
                    row = list(row)
                    for i in json_positions:
                        if row[i] is not None:
                            row[i] = json.dumps(row[i])
                    copy.write_row(row)
            else:
                for row in rows:
                    copy.write_row(row)

    def drain(self) -> None:
        """Wait until every queued write is in the database."""
        if self.postgresql:
            self.queue.join()
        if self.failure is not None:
            raise self.failure

    def close(self, *, give_back: bool = True) -> None:
        """Stop the writer thread and give back the ids reserved but not used (when nobody else
        took ids from the sequence meanwhile)."""
        if not self.postgresql:
            return
        self.queue.put(None)
        self.thread.join()
        if not give_back:
            return
        if self.failure is not None:
            raise self.failure
        for table, (next_id, last_id) in self.blocks.items():
            sequence = self._sequence(table)
            self.session.execute(
                text(
                    f"SELECT setval(CAST(:s AS regclass), :next, false) FROM {sequence} "  # noqa: S608 (from the catalogue)
                    "WHERE last_value = :last"
                ),
                {"s": sequence, "next": next_id, "last": last_id},
            )
