"""The one writer of CSV and XLSX files, used by every export of the app, and the downloads of
report tables named after the report and the unit they show.

CSV is UTF-8 with a byte-order mark, so Excel shows Vietnamese and Bengali. Text that a
spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return) is
written as text: in CSV behind a single quote (OWASP's advice for CSV injection), in XLSX as a
string cell marked "quote prefix". Numbers stay numbers, negative ones too.

openpyxl is imported by the functions that write a workbook, not with this module: a worker that
never exports does not hold it (tests/test_lean_start.py).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date

from flask import Response
from flask_babel import gettext as _

from app.db import local_today
from app.i18n import format_date
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
#: Excel's longest sheet name.
SHEET_NAME_LIMIT = 31
#: Column widths of report sheets, in characters.
COLUMN_WIDTHS = (8, 40)
#: Number formats of report sheets per column kind (percent cells hold 0.75 for 75 %).
NUMBER_FORMATS = {
    "int": "#,##0",
    "percent": "0.0%",
    "decimal": "#,##0.0",
    "hours": "#,##0.0",
    "date": "yyyy-mm-dd",
}
#: Changes in percentage points: signed.
CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
#: Rows above a report sheet's header: its title and a line with the unit, filters and date.
TITLE_ROWS = 2

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
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

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
    """`title` as a sheet name: without the characters Excel refuses, cut to Excel's 31
    characters at a word boundary, and different from the names in `used` (compared as Excel
    does, ignoring case)."""
    name = " ".join("".join(ch for ch in str(title) if ch not in _SHEET_NAME_FORBIDDEN).split()) or "Sheet"
    name = _shorten(name, SHEET_NAME_LIMIT)
    taken = {existing.casefold() for existing in used}
    number = 2
    candidate = name
    while candidate.casefold() in taken:
        suffix = f" ({number})"
        candidate = _shorten(name, SHEET_NAME_LIMIT - len(suffix)) + suffix
        number += 1
    used.add(candidate)
    return candidate


def _shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at the last space when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rstrip().rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:-–—")


def xlsx_bytes(sheets: Iterable[tuple[str, Rows]], *, header_rows: int = 1, freeze_header: bool = False) -> bytes:
    """A workbook with one sheet per (title, rows); the first `header_rows` rows in bold.
    Write-only mode keeps memory flat for large tables."""
    from openpyxl import Workbook

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


def _xlsx_value(value, kind: str):
    """A report table's value as a workbook holds it: numbers as numbers (percentages as the
    fraction to six places, formatted as a percentage), dates as dates."""
    if value is None:
        return None
    if kind == "percent":
        return round(float(value), 6)
    if kind in ("decimal", "hours"):
        return round(float(value), 2)
    return value


def _number_format(column) -> str | None:
    if column.kind == "percent" and column.key.endswith("_change"):
        return CHANGE_FORMAT
    return NUMBER_FORMATS.get(column.kind)


def _shown_length(value, kind: str) -> int:
    if value is None:
        return 0
    if kind == "percent":
        return 7
    if isinstance(value, int | float):
        return len(f"{value:,.1f}")
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def _put(sheet, row: int, column: int, value):
    """Write one cell; formula-like text stays text (a string cell with the quote prefix)."""
    cell = sheet.cell(row=row, column=column, value=value)
    if looks_like_formula(value):
        cell.value = value
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def report_workbook(tables: list[ReportTable], *, subtitle: str = "") -> bytes:
    """One sheet per table: a title row, a line with `subtitle` (the unit and filters) and the
    date of the export, the header (frozen, bold, wrapped), the rows and the totals; numbers
    with their number format, columns as wide as their content (within COLUMN_WIDTHS), sheet
    names whole words within Excel's limit."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    exported = _("Exported on %(date)s", date=format_date(local_today()))
    header_row = TITLE_ROWS + 1
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, used))
        _put(sheet, 1, 1, str(table.title)).font = Font(bold=True, size=14)
        _put(sheet, 2, 1, " · ".join(part for part in (subtitle, exported) if part))
        widths = []
        for index, column in enumerate(table.columns, start=1):
            cell = _put(sheet, header_row, index, str(column.title))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths.append(min(len(str(column.title)), 24))
        body = list(table.rows) + ([table.totals] if table.totals else [])
        for offset, values in enumerate(body, start=header_row + 1):
            is_total = table.totals is not None and offset == header_row + len(body)
            for index, column in enumerate(table.columns, start=1):
                value = _xlsx_value(values.get(column.key), column.kind)
                cell = _put(sheet, offset, index, value)
                number_format = _number_format(column)
                if number_format and isinstance(value, int | float | date):
                    cell.number_format = number_format
                if isinstance(value, date) and column.kind != "date":
                    cell.number_format = NUMBER_FORMATS["date"]
                if is_total:
                    cell.font = Font(bold=True)
                widths[index - 1] = max(widths[index - 1], _shown_length(value, column.kind))
        low, high = COLUMN_WIDTHS
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(low, min(high, width + 2))
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_xlsx(tables: list[ReportTable], *, subtitle: str = "") -> bytes:
    """One sheet per table (report_workbook)."""
    return report_workbook(tables, subtitle=subtitle)


def csv_response(table: ReportTable, filename: str) -> Response:
    return download(to_csv(table), filename, CSV_MIMETYPE)


def xlsx_response(tables: list[ReportTable], filename: str, *, subtitle: str = "") -> Response:
    return download(to_xlsx(tables, subtitle=subtitle), filename, XLSX_MIMETYPE)


def export_filename(stem: str, unit: Unit, extension: str) -> str:
    """`stem`-`unit code`.`extension`, with only safe characters from the code."""
    return f"{stem}-{_SAFE_FILENAME.sub('_', unit.code)[:40]}.{extension}"


def tables_download(tables: list[ReportTable], stem: str, unit: Unit, fmt: str, *, filters: str = "") -> Response:
    """The first table as CSV (`fmt` "csv"), or all of them as one XLSX workbook whose sheets
    name the unit and `filters` (a short description of the page's filters)."""
    if fmt == "csv":
        return csv_response(tables[0], export_filename(stem, unit, "csv"))
    subtitle = " · ".join(part for part in (unit.display_name, filters) if part)
    return xlsx_response(tables, export_filename(stem, unit, "xlsx"), subtitle=subtitle)
