"""A report table: what dashboards render, exports write and the API returns — one shape, so
every table can be shown, exported to CSV/XLSX and printed the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Column kinds, for formatting: text, int, percent (0..1), decimal, hours.
KINDS = ("text", "int", "percent", "decimal", "hours")


@dataclass
class Column:
    key: str
    title: str
    kind: str = "int"
    #: Whether the page may sort by it.
    sortable: bool = True


@dataclass
class ReportTable:
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    totals: dict | None = None
    #: A short note shown under the table (how figures are counted).
    note: str | None = None

    def sorted_by(self, key: str | None, descending: bool = False) -> ReportTable:
        if key not in {column.key for column in self.columns if column.sortable}:
            return self

        def sort_key(row):
            value = row.get(key)
            return (value is None, value if value is not None else 0)

        rows = sorted(self.rows, key=sort_key, reverse=descending)
        if descending:  # keep empty values last either way
            rows = [r for r in rows if r.get(key) is not None] + [r for r in rows if r.get(key) is None]
        return ReportTable(self.title, self.columns, rows, self.totals, self.note)

    def only(self, keys: set[str] | frozenset[str]) -> ReportTable:
        """The same table showing only the columns named in `keys` (the rows keep every value)."""
        columns = [column for column in self.columns if column.key in keys]
        return ReportTable(self.title, columns, self.rows, self.totals, self.note)
