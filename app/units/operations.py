"""Reading the unit tree and importing it from CSV."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import authz
from app.db import CONTROL_CHARACTERS
from app.exceptions import Invalid, NotAllowed, NotFound
from app.extensions import db
from app.reports import recount, summaries
from app.units.models import KIND_LEVELS, Unit, path_within

#: Kind names accepted in files: the platform's own and the Vietnamese abbreviations used in
#: official lists.
KIND_ALIASES = {
    **{kind: kind for kind in KIND_LEVELS},
    "tinh": "province",
    "thanh_pho": "province",
    "xa": "commune",
    "dac_khu": "commune",
    "phuong": "ward",
    "thon": "village",
    "ban": "village",
    "ap": "village",
    "to_dan_pho": "residential_group",
    "to": "residential_group",
}
#: What a unit code may hold. Codes become segments of unit paths ("/P/C1/C1A/"), which every
#: area check compares, so a code must never bring a "/" (nor anything else odd) into them.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
REQUIRED_COLUMNS = ("code", "name", "kind", "parent_code")
OPTIONAL_COLUMNS = ("population", "name_en", "name_bn")


@dataclass
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s", line=self.line, message=self.message)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


class UnitImportError(Invalid):
    def __init__(self, problems: list[ImportProblem]):
        super().__init__(_("The file has %(n)d problem(s); nothing was imported.", n=len(problems)))
        self.problems = problems


def get_unit_by_code(code: str | None) -> Unit | None:
    """The unit with this code (surrounding spaces ignored), or None: also for an empty code, one
    with a NUL byte or one longer than any code can be, which are never looked up."""
    code = (code or "").strip()
    if not code or "\x00" in code or len(code) > Unit.code.type.length:
        return None
    return db.session.scalar(select(Unit).where(Unit.code == code))


def top_unit() -> Unit:
    """The province: the first unit at the top of the tree. NotFound when there are no units."""
    tops = children_of(None)
    if not tops:
        raise NotFound(_("There are no units yet."))
    return tops[0]


def area_unit(user, code: str | None, *, permission: str) -> Unit:
    """The unit a page or report about an area shows: the one named by `code`, else the top of
    the person's area (their commune, or the province).

    Raises NotFound for an unknown code and NotAllowed for a unit outside the person's area or
    beyond their `permission`."""
    if not (code or "").strip():
        return authz.scope_root(user) or top_unit()
    unit = get_unit_by_code(code)
    if unit is None:
        raise NotFound(_("No unit has the code %(code)s.", code=(code or "").replace("\x00", "").strip()[:40]))
    if not authz.may(user, permission, unit):
        raise NotAllowed(_("This is outside your area."))
    return unit


def children_of(parent: Unit | None) -> list[Unit]:
    query = select(Unit).order_by(Unit.name)
    if parent is None:
        query = query.where(Unit.parent_id.is_(None))
    else:
        query = query.where(Unit.parent_id == parent.id)
    return list(db.session.scalars(query))


def units_under(root: Unit, *, kinds: tuple[str, ...] | None = None) -> list[Unit]:
    """Every unit in `root`'s subtree (root included), ordered by path."""
    query = select(Unit).where(path_within(Unit.path, root.path)).order_by(Unit.path)
    if kinds:
        query = query.where(Unit.kind.in_(kinds))
    return list(db.session.scalars(query))


def _parse_rows(text: str) -> tuple[list[dict], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict] = []
    try:
        header = [name.strip() for name in (reader.fieldnames or [])]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            return [], [ImportProblem(1, _("missing column(s): %(columns)s", columns=", ".join(missing)))]
        for record in reader:
            row = _parse_row(reader.line_num, record, problems)
            if row is not None:
                rows.append(row)
    except csv.Error:  # a cell beyond csv.field_size_limit(), or broken quoting: reading stops here
        # (DictReader.line_num is the last row read well; its reader's is the row that failed.)
        message = _(
            "this row cannot be read: a cell is longer than %(n)d characters, or a quote is not closed",
            n=csv.field_size_limit(),
        )
        problems.append(ImportProblem(reader.reader.line_num, message))
    return rows, problems


#: The longest text each column of a unit file may hold (the columns of the units table).
_COLUMN_LENGTHS = {"name": 200, "name_en": 200, "name_bn": 200}


def _parse_row(line: int, record: dict, problems: list[ImportProblem]) -> dict | None:
    """One row of a unit file as the unit's fields, its problems added to `problems`; None for a
    row that cannot name a unit."""
    record = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k}
    for column, value in record.items():
        if CONTROL_CHARACTERS.search(value):
            problems.append(ImportProblem(line, _("%(column)s contains a control character", column=column)))
            return None
    for column, limit in _COLUMN_LENGTHS.items():
        if len(record.get(column, "")) > limit:
            problems.append(ImportProblem(line, _("%(column)s is too long", column=column)))
    row = {"line": line}
    code = record.get("code", "")
    if not code:
        problems.append(ImportProblem(line, _("the code is empty")))
        return None
    if len(code) > 32:
        problems.append(ImportProblem(line, _("the code %(code)s is longer than 32 characters", code=code[:40])))
        return None
    if not CODE_PATTERN.fullmatch(code):
        problems.append(
            ImportProblem(line, _("the code %(code)s may only hold the letters A–Z, digits, - and _", code=code))
        )
        return None
    row["code"] = code
    row["name"] = record.get("name", "")
    if not row["name"]:
        problems.append(ImportProblem(line, _("the name of %(code)s is empty", code=code)))
    kind = KIND_ALIASES.get(record.get("kind", "").lower())
    if kind is None:
        problems.append(
            ImportProblem(
                line,
                _(
                    "unknown kind %(kind)r; use one of: %(kinds)s",
                    kind=record.get("kind", "")[:40],
                    kinds=", ".join(KIND_LEVELS),
                ),
            )
        )
    row["kind"] = kind
    row["parent_code"] = record.get("parent_code") or None
    population = record.get("population", "")
    row["population"] = None
    if population:
        cleaned = population.replace(".", "").replace(",", "").replace(" ", "")
        # ASCII digits only ("²" is a digit to str.isdigit), and no more than the column holds.
        if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 9:
            problems.append(
                ImportProblem(
                    line,
                    _("the population %(value)r is not a whole number", value=population[:40]),
                )
            )
        else:
            row["population"] = int(cleaned)
    row["name_en"] = record.get("name_en") or None
    row["name_bn"] = record.get("name_bn") or None
    return row


def import_units(text: str, *, is_demo: bool = False) -> ImportResult:
    """Create or update units from CSV text (columns code, name, kind, parent_code, population,
    and optionally name_en, name_bn).

    Units are matched by code, so importing the same file again changes nothing. Every problem
    is reported with its line number; if there is any, nothing is written (UnitImportError).
    """
    rows, problems = _parse_rows(text)
    by_code: dict[str, dict] = {}
    for row in rows:
        if row["code"] in by_code:
            problems.append(
                ImportProblem(
                    row["line"],
                    _(
                        "the code %(code)s already appears on line %(first)d",
                        code=row["code"],
                        first=by_code[row["code"]]["line"],
                    ),
                )
            )
            continue
        by_code[row["code"]] = row

    existing = {unit.code: unit for unit in db.session.scalars(select(Unit))}

    def level_of(code: str) -> int | None:
        if code in by_code:
            kind = by_code[code]["kind"]
            return KIND_LEVELS[kind] if kind else None
        return existing[code].level if code in existing else None

    for row in by_code.values():
        if row["kind"] is None:
            continue
        parent_code = row["parent_code"]
        level = KIND_LEVELS[row["kind"]]
        if parent_code is None:
            if level != 1:
                problems.append(ImportProblem(row["line"], _("%(code)s needs a parent_code", code=row["code"])))
            continue
        if parent_code == row["code"]:
            problems.append(ImportProblem(row["line"], _("%(code)s cannot be its own parent", code=row["code"])))
            continue
        if parent_code not in by_code and parent_code not in existing:
            problems.append(
                ImportProblem(
                    row["line"],
                    _("unknown parent %(parent)s (not in the file nor in the database)", parent=parent_code),
                )
            )
            continue
        parent_level = level_of(parent_code)
        if parent_level is not None and parent_level != level - 1:
            problems.append(
                ImportProblem(
                    row["line"],
                    _(
                        "a %(kind)s cannot be placed under %(parent)s",
                        kind=row["kind"],
                        parent=parent_code,
                    ),
                )
            )

    if problems:
        problems.sort(key=lambda problem: problem.line)
        raise UnitImportError(problems)

    result = ImportResult()
    units = dict(existing)
    for code, row in by_code.items():
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, path="")
            db.session.add(unit)
            units[code] = unit
            result.created += 1
        else:
            result.updated += 1
        unit.kind = row["kind"]
        unit.name = row["name"]
        unit.population = row["population"]
        unit.name_en = row["name_en"]
        unit.name_bn = row["name_bn"]
        if is_demo:
            unit.is_demo = True

    moved = False
    for code, row in by_code.items():
        parent = units[row["parent_code"]] if row["parent_code"] else None
        if code in existing and units[code].parent is not parent:
            moved = True
        units[code].parent = parent
    _recompute_paths(units.values())
    db.session.flush()
    summaries.forget_unit_chains()
    if moved:
        # Figures are kept per unit and its ancestors; a unit with a new parent changes them.
        recount.rebuild()
    return result


def _path_segment(code: str) -> str:
    # Codes are checked on import; escaping "%" and "/" as well keeps a code stored before that
    # check (or written some other way) inside its own segment, so no two units share a path.
    return code.replace("%", "%25").replace("/", "%2F")


def unit_path(parent: Unit | None, code: str) -> str:
    """The path of a unit with `code` under `parent`: "/P/C1/" + "C1A/"."""
    return f"{parent.path if parent is not None else '/'}{_path_segment(code)}/"


def _recompute_paths(units) -> None:
    """Set every unit's path from its ancestors' codes (after parents may have changed)."""

    def path_of(unit: Unit, seen: set[int]) -> str:
        if id(unit) in seen:
            raise Invalid(_("The units form a loop around %(code)s.", code=unit.code))
        seen.add(id(unit))
        prefix = path_of(unit.parent, seen) if unit.parent is not None else "/"
        return f"{prefix}{_path_segment(unit.code)}/"

    for unit in units:
        unit.path = path_of(unit, set())


# --- checking stored units ------------------------------------------------------------------


def _path_from_codes(unit: Unit) -> str | None:
    """The path built from the codes of the unit and its ancestors; None when they form a loop."""
    segments, seen = [], set()
    while unit is not None:
        if unit.id in seen:
            return None
        seen.add(unit.id)
        segments.insert(0, _path_segment(unit.code))
        unit = unit.parent
    return "/" + "/".join(segments) + "/"


def unit_problems() -> list[str]:
    """What is wrong with the stored unit tree, one line per problem, for `flask units check`:
    codes with other characters than CODE_PATTERN allows, paths that differ from the ones built
    from the codes, and paths that several units share. Operator text, not translated."""
    problems = []
    units = list(db.session.scalars(select(Unit).order_by(Unit.path, Unit.code)))
    for unit in units:
        if not CODE_PATTERN.fullmatch(unit.code):
            problems.append(f"unit {unit.code!r}: the code may only hold the letters A-Z, digits, - and _")
        expected = _path_from_codes(unit)
        if expected is not None and unit.path != expected:
            problems.append(f"unit {unit.code!r}: its path {unit.path} should be {expected}")
    shared = db.session.execute(
        select(Unit.path, func.count()).group_by(Unit.path).having(func.count() > 1).order_by(Unit.path)
    ).all()
    for path, _count in shared:
        codes = ", ".join(db.session.scalars(select(Unit.code).where(Unit.path == path).order_by(Unit.code)))
        problems.append(f"path {path} is shared by the units {codes}")
    return problems
