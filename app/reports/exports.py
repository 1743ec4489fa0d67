"""The one writer of CSV and XLSX files, used by every export of the app, and the downloads of
report tables named after the report and the unit they show.

CSV is UTF-8 with a byte-order mark, so Excel shows Vietnamese and Bengali. Text that a
spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return) is
written as text: in CSV behind a single quote (OWASP's advice for CSV injection), in XLSX as a
string cell marked "quote prefix". Numbers stay numbers, negative ones too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.reports.tables import ReportTable
from app.units.models import Unit

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A spreadsheet treats a text cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What a unit code may bring into a file name (anything else becomes "_").
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9_-]+")
#: Characters a sheet name may not hold.
_SHEET_NAME_FORBIDDEN = "[]:*?/\\"

Rows = Iterable[Sequence]


def looks_like_formula(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def _csv_value(value):
    if value is None:
        return ""
    return "'" + value if looks_like_formula(value) else value


def csv_bytes(rows: Rows) -> bytes:
    """`rows` as CSV (UTF-8 with a BOM, CRLF line ends); formula-like text behind a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value, bold: bool):
    cell = WriteOnlyCell(sheet, value=value)
    if looks_like_formula(value):
        # openpyxl would store it as a formula; a string cell with the quote prefix is text
        # that stays text even when someone edits it in the spreadsheet.
        cell.data_type = "s"
        cell.quotePrefix = True
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in str(title) if ch not in _SHEET_NAME_FORBIDDEN)[:28] or "Sheet"
    while name in used:
        name = name[:26] + str(len(used))
    used.add(name)
    return name


def xlsx_bytes(sheets: Iterable[tuple[str, Rows]], *, header_rows: int = 1, freeze_header: bool = False) -> bytes:
    """A workbook with one sheet per (title, rows); the first `header_rows` rows in bold.
    Write-only mode keeps memory flat for large tables."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, rows in sheets:
        sheet = workbook.create_sheet(_sheet_name(title, used))
        if freeze_header:
            sheet.freeze_panes = "A2"
        for number, row in enumerate(rows):
            sheet.append([_xlsx_cell(sheet, value, number < header_rows) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str, mimetype: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def csv_download(rows: Rows, filename: str) -> Response:
    return download(csv_bytes(rows), filename, CSV_MIMETYPE)


def xlsx_download(sheets: Iterable[tuple[str, Rows]], filename: str, **options) -> Response:
    return download(xlsx_bytes(sheets, **options), filename, XLSX_MIMETYPE)


# --- report tables ----------------------------------------------------------------------------


def _cell(value, kind: str):
    """A report table's value as a file holds it: percentages as 0–100, decimals rounded."""
    if value is None:
        return ""
    if kind == "percent":
        return round(float(value) * 100, 1)
    if kind in ("decimal", "hours"):
        return round(float(value), 2)
    return value


def table_rows(table: ReportTable) -> list[list]:
    """The header, the rows and the totals of a report table."""
    rows = [[str(column.title) for column in table.columns]]
    rows += [[_cell(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
    if table.totals:
        rows.append([_cell(table.totals.get(c.key), c.kind) for c in table.columns])
    return rows


def to_csv(table: ReportTable) -> bytes:
    return csv_bytes(table_rows(table))


def to_xlsx(tables: list[ReportTable]) -> bytes:
    """One sheet per table."""
    return xlsx_bytes((table.title, table_rows(table)) for table in tables)


def csv_response(table: ReportTable, filename: str) -> Response:
    return download(to_csv(table), filename, CSV_MIMETYPE)


def xlsx_response(tables: list[ReportTable], filename: str) -> Response:
    return download(to_xlsx(tables), filename, XLSX_MIMETYPE)


def export_filename(stem: str, unit: Unit, extension: str) -> str:
    """`stem`-`unit code`.`extension`, with only safe characters from the code."""
    return f"{stem}-{_SAFE_FILENAME.sub('_', unit.code)[:40]}.{extension}"


def tables_download(tables: list[ReportTable], stem: str, unit: Unit, fmt: str) -> Response:
    """The first table as CSV (`fmt` "csv"), or all of them as one XLSX workbook."""
    if fmt == "csv":
        return csv_response(tables[0], export_filename(stem, unit, "csv"))
    return xlsx_response(tables, export_filename(stem, unit, "xlsx"))
