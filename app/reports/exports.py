"""CSV (UTF-8 with a byte-order mark, so Excel shows Vietnamese and Bengali) and XLSX exports of
report tables, named after the report and the unit they show."""

from __future__ import annotations

import csv
import io
import re

from flask import Response

from app.reports.tables import ReportTable
from app.units.models import Unit

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What a unit code may bring into a file name (anything else becomes "_").
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9_-]+")


def _cell(value, kind: str):
    if value is None:
        return ""
    if kind == "percent":
        return round(float(value) * 100, 1)
    if kind in ("decimal", "hours"):
        return round(float(value), 2)
    return value


def to_csv(table: ReportTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.title for column in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(c.key), c.kind) for c in table.columns])
    if table.totals:
        writer.writerow([_cell(table.totals.get(c.key), c.kind) for c in table.columns])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(tables: list[ReportTable]) -> bytes:
    """One sheet per table; write-only mode keeps memory flat for large tables."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used_names: set[str] = set()
    for table in tables:
        name = "".join(ch for ch in table.title if ch not in "[]:*?/\\")[:28] or "Sheet"
        while name in used_names:
            name = name[:26] + str(len(used_names))
        used_names.add(name)
        sheet = workbook.create_sheet(name)
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=str(column.title))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append([_cell(row.get(c.key), c.kind) for c in table.columns])
        if table.totals:
            sheet.append([_cell(table.totals.get(c.key), c.kind) for c in table.columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(content: bytes, filename: str, mimetype: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def csv_response(table: ReportTable, filename: str) -> Response:
    return download(to_csv(table), filename, "text/csv; charset=utf-8")


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
