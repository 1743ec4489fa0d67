"""Households and residents: the village lists a commune imports, and records added by hand."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import CONTROL_CHARACTERS, MAX_ID, local_today, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.outcomes.models import Household, Resident
from app.phones import normalise_phone
from app.privacy.consents import check_consents, give_consent
from app.privacy.register import Subject
from app.units.models import Unit, path_within
from app.users.operations import create_assisted_account

#: Columns of a household list. household_code groups people into households; resident_code is
#: the commune's number for the person (re-importing matches on it).
COLUMNS = ("village_code", "household_code", "address", "resident_code", "full_name", "birth_year", "phone")
REQUIRED = ("village_code", "household_code", "address", "resident_code", "full_name")
#: What each column holds, for the messages about a row (the column's own name follows it, so
#: the person finds it in their file).
COLUMN_TITLES = {
    "village_code": _l("Village code"),
    "household_code": _l("Household code"),
    "address": _l("Address"),
    "resident_code": _l("Resident code"),
    "full_name": _l("Full name"),
    "birth_year": _l("Year of birth"),
    "phone": _l("Phone number"),
}
#: The headers of the template: a list's columns named in Vietnamese. A list may name its columns
#: either way (the names in COLUMNS are accepted too), in any case, with or without accents.
HEADERS = {
    "village_code": "Mã thôn",
    "household_code": "Mã hộ",
    "address": "Địa chỉ",
    "resident_code": "Mã người dân",
    "full_name": "Họ và tên",
    "birth_year": "Năm sinh",
    "phone": "Số điện thoại",
}
MAX_ROWS = 20000
#: Where residents live (level 3), and the level above them.
VILLAGE_KINDS = ("village", "residential_group")
COMMUNE_KINDS = ("commune", "ward")
#: At most this many accounts are offered for linking to a resident record.
ACCOUNT_CHOICES_LIMIT = 500


@dataclass
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("line %(line)d: %(message)s", line=self.line, message=self.message)


@dataclass
class ImportSummary:
    households_created: int = 0
    households_updated: int = 0
    residents_created: int = 0
    residents_updated: int = 0


class ResidentImportError(Invalid):
    def __init__(self, problems: list[RowProblem]):
        super().__init__(_("The list has %(n)d problem(s); nothing was imported.", n=len(problems)))
        self.problems = problems


@dataclass
class _Row:
    line: int
    values: dict = field(default_factory=dict)


def read_rows(filename: str, content: bytes) -> list[_Row]:
    """Rows of a CSV (UTF-8) or XLSX file, with their line numbers, keys lower-cased.

    Reading stops as soon as the list has more than MAX_ROWS rows (ResidentImportError), so a
    huge file is refused without being read to its end."""
    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    if not filename.lower().endswith(".csv"):
        raise ResidentImportError([RowProblem(0, _("use a .csv or .xlsx file"))])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ResidentImportError([RowProblem(0, _("the file is not UTF-8 text; save it as CSV UTF-8"))]) from None
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    try:
        for row in reader:
            rows.append(_Row(reader.line_num, {column_key(k): (v or "").strip() for k, v in row.items() if k}))
            if len(rows) > MAX_ROWS:
                raise ResidentImportError([_too_many_rows()])
    except csv.Error:  # a cell beyond csv.field_size_limit(), or broken quoting
        raise ResidentImportError([RowProblem(reader.reader.line_num, _unreadable_row())]) from None
    return rows


def rows_of_records(records) -> list[_Row]:
    """The rows of a list sent as JSON objects (column -> text or number), numbered from 1."""
    if not isinstance(records, list):
        raise ResidentImportError([RowProblem(0, _("send the rows as a list of objects"))])
    if len(records) > MAX_ROWS:
        raise ResidentImportError([_too_many_rows()])
    rows = []
    for number, item in enumerate(records, start=1):
        if not isinstance(item, dict) or not all(_cell(value) for value in item.values()):
            raise ResidentImportError([RowProblem(number, _("a row is an object of column names and texts"))])
        values = {column_key(str(key)): "" if value is None else str(value).strip() for key, value in item.items()}
        rows.append(_Row(number, values))
    return rows


def _fold(text: str) -> str:
    """A header as compared: lower case, without accents, underscores and runs of spaces as one space."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.replace("_", " ").split())


_HEADER_COLUMNS = {_fold(header): name for name, header in HEADERS.items()} | {_fold(name): name for name in COLUMNS}


def column_key(header: str) -> str:
    """The column a list's header names: one of COLUMNS for a template header or a column name,
    else the header itself, lower-cased."""
    return _HEADER_COLUMNS.get(_fold(header), header.strip().lower())


def column_heading(name: str) -> str:
    """How a column is named in a message about the list's columns: its header and its name."""
    return f"{HEADERS[name]} ({name})"


def sample_village_code(actor: User) -> str | None:
    """The code of the first village or residential group in the person's area, for the
    template's example row; None when there is none."""
    return db.session.scalar(
        select(Unit.code)
        .where(Unit.kind.in_(VILLAGE_KINDS), authz.unit_scope_filter(actor, Unit.path))
        .order_by(Unit.path)
        .limit(1)
    )


def _cell(value) -> bool:
    return value is None or (isinstance(value, str | int) and not isinstance(value, bool))


def column_title(name: str) -> str:
    """A column named for the person: what it holds, then its name in the file."""
    return _("%(title)s (column %(column)s)", title=COLUMN_TITLES[name], column=name)


def _too_many_rows() -> RowProblem:
    return RowProblem(0, _("the list has more than %(n)d rows", n=MAX_ROWS))


def _unreadable_row() -> str:
    return _(
        "this row cannot be read: a cell is longer than %(n)d characters, or a quote is not closed",
        n=csv.field_size_limit(),
    )


#: Columns read from each row of a workbook: a list has a few; a sheet can have 16,384.
XLSX_MAX_COLUMNS = 50


#: A workbook's parts, unpacked, may hold this much: a list of MAX_ROWS rows is a few MB.
XLSX_MAX_UNPACKED = 100 * 1024 * 1024
#: A row's tag in a sheet's XML, with or without a namespace prefix.
_XLSX_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _read_xlsx(content: bytes) -> list[_Row]:
    """The first sheet's rows, read one at a time (openpyxl's read-only mode), up to the cap."""
    from openpyxl import load_workbook

    _check_workbook_parts(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a broken file
        raise ResidentImportError([RowProblem(0, _("the file is not a readable .xlsx workbook"))]) from None
    try:
        return _xlsx_rows(workbook.worksheets[0])
    finally:
        workbook.close()


def _check_workbook_parts(content: bytes) -> None:
    """Refuse a workbook whose parts hold more rows than a list may have, or unpack to more than
    XLSX_MAX_UNPACKED, after reading only as far as needed.

    openpyxl reads every sheet to its end when it opens a workbook whose sheets do not state
    their size, before a single row can be counted: 400,000 rows zipped into 90 KB took half a
    minute. Counting row tags in the unpacked bytes takes a fraction of a second."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = rows = 0
        for info in archive.infolist():
            with archive.open(info) as part:
                while chunk := part.read(1024 * 1024):
                    unpacked += len(chunk)
                    rows += len(_XLSX_ROW_TAG.findall(chunk))
                    if rows > 2 * MAX_ROWS + 1:
                        raise ResidentImportError([_too_many_rows()])
                    if unpacked > XLSX_MAX_UNPACKED:
                        raise ResidentImportError(
                            [
                                RowProblem(
                                    0,
                                    _("the workbook is larger than %(n)d MB once unpacked", n=XLSX_MAX_UNPACKED >> 20),
                                )
                            ]
                        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, zlib.error):
        raise ResidentImportError([RowProblem(0, _("the file is not a readable .xlsx workbook"))]) from None


def _xlsx_rows(sheet) -> list[_Row]:
    rows = sheet.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS)
    header = [column_key(str(cell or "")) for cell in next(rows, [])]
    result = []
    for number, cells in enumerate(rows, start=2):
        # Empty rows count too (up to twice the cap), or a sheet of a million empty rows would be
        # read to its end.
        if number > 2 * MAX_ROWS + 1:
            raise ResidentImportError([_too_many_rows()])
        values = {}
        for name, cell in zip(header, cells, strict=False):
            if not name:
                continue
            if isinstance(cell, float) and cell.is_integer():
                cell = int(cell)
            values[name] = "" if cell is None else str(cell).strip()
        if any(values.values()):
            result.append(_Row(number, values))
            if len(result) > MAX_ROWS:
                raise ResidentImportError([_too_many_rows()])
    return result


def import_households(
    actor: User,
    commune: Unit,
    filename: str | None,
    content: bytes | None,
    *,
    legal_basis: str | None,
    consents: list[tuple[str, str]] = (),
    evidence: str | None = None,
    records: list | None = None,
) -> ImportSummary:
    """Create or update households and residents of villages in `commune` from a list: a CSV or
    XLSX file (`filename`, `content`), or `records`, the rows as objects (the API), where a
    problem's line is the row's place in the list (from 1).

    The list states the legal basis its people are recorded on (`legal_basis`: a state task, or
    their consent) and the consents they gave (purpose, channel), with the evidence (the signed
    forms' reference) when there is any consent; each resident gets those decisions recorded.
    Without them the list is refused before it is read. Every rejected row is reported with its
    line number and reason; if there is any, nothing is written. Importing the same list again
    updates the records instead of duplicating them.
    """
    if not authz.may(actor, "outcomes.import", commune):
        raise NotAllowed(_("You may not import lists for this commune."))
    decisions = check_consents(legal_basis, list(consents), evidence)
    if any(basis == "consent" for _p, basis, _c, _e in decisions) and not (evidence or "").strip():
        raise Invalid(
            _("Give the reference of the signed consent forms (or where the commune keeps them)."),
            field="evidence",
        )
    rows = rows_of_records(records) if records is not None else read_rows(filename or "", content or b"")
    problems: list[RowProblem] = []
    if not rows:
        raise ResidentImportError([RowProblem(0, _("the list has no rows"))])
    missing = [name for name in REQUIRED if name not in rows[0].values]
    if missing:
        columns = ", ".join(column_heading(name) for name in missing)
        raise ResidentImportError([RowProblem(1, _("missing column(s): %(columns)s", columns=columns))])

    villages = {
        unit.code: unit
        for unit in db.session.scalars(
            select(Unit).where(
                path_within(Unit.path, commune.path),
                Unit.kind.in_(VILLAGE_KINDS),
            )
        )
    }
    this_year = utcnow().year
    seen_residents: dict[tuple[str, str], int] = {}
    household_addresses: dict[tuple[str, str], tuple[str, int]] = {}
    clean_rows = []
    for row in rows:
        v = row.values
        line_problems = []
        for name in REQUIRED:
            if not v.get(name):
                line_problems.append(_("%(column)s is empty", column=column_title(name)))
        for name in COLUMNS:
            if CONTROL_CHARACTERS.search(v.get(name, "")):
                line_problems.append(_("%(column)s contains a control character", column=column_title(name)))
                v[name] = CONTROL_CHARACTERS.sub("", v[name])  # the row's other messages quote it
        village = villages.get(v.get("village_code", ""))
        if v.get("village_code") and village is None:
            line_problems.append(_("village %(code)s is not in this commune", code=v["village_code"]))
        birth_year = None
        if v.get("birth_year"):
            year = v["birth_year"]  # ASCII digits only: "²" is a digit to str.isdigit(), not to int()
            if not (year.isascii() and year.isdigit() and len(year) == 4) or not 1900 <= int(year) <= this_year:
                line_problems.append(_("birth year %(value)r is not a year", value=v["birth_year"]))
            else:
                birth_year = int(v["birth_year"])
        phone = None
        if v.get("phone"):
            try:
                phone = normalise_phone(v["phone"])
            except Invalid:
                line_problems.append(_("phone %(value)r is not a phone number", value=v["phone"]))
        for name, limit in (
            ("household_code", 40),
            ("resident_code", 40),
            ("address", 300),
            ("full_name", 200),
        ):
            if len(v.get(name, "")) > limit:
                line_problems.append(_("%(column)s is too long", column=column_title(name)))
        key = (v.get("village_code", ""), v.get("resident_code", ""))
        if v.get("resident_code") and key in seen_residents:
            line_problems.append(
                _("resident %(code)s already appears on line %(line)d", code=key[1], line=seen_residents[key])
            )
        household_key = (v.get("village_code", ""), v.get("household_code", ""))
        if household_key in household_addresses and household_addresses[household_key][0] != v.get("address"):
            line_problems.append(
                _(
                    "household %(code)s has another address on line %(line)d",
                    code=household_key[1],
                    line=household_addresses[household_key][1],
                )
            )
        if line_problems:
            problems.extend(RowProblem(row.line, message) for message in line_problems)
            continue
        seen_residents[key] = row.line
        household_addresses.setdefault(household_key, (v["address"], row.line))
        clean_rows.append((village, v, birth_year, phone))
    if problems:
        raise ResidentImportError(problems)

    summary = ImportSummary()
    households: dict[tuple[int, str], Household] = {}
    for village, v, birth_year, phone in clean_rows:
        household_key = (village.id, v["household_code"])
        household = households.get(household_key)
        if household is None:
            household = db.session.scalar(
                select(Household).where(Household.unit_id == village.id, Household.code == v["household_code"])
            )
            if household is None:
                household = Household(unit_id=village.id, code=v["household_code"], address=v["address"])
                db.session.add(household)
                summary.households_created += 1
            else:
                household.address = v["address"]
                summary.households_updated += 1
            households[household_key] = household
            db.session.flush()
        resident = db.session.scalar(
            select(Resident).where(Resident.unit_id == village.id, Resident.code == v["resident_code"])
        )
        if resident is None:
            resident = Resident(unit_id=village.id, code=v["resident_code"])
            db.session.add(resident)
            summary.residents_created += 1
        else:
            summary.residents_updated += 1
        resident.household_id = household.id
        resident.full_name = " ".join(v["full_name"].split())
        resident.birth_year = birth_year
        resident.phone = phone
        db.session.flush()
        subject = Subject(resident.user_id, (resident.id,))
        for purpose, basis, channel, row_evidence in decisions:
            give_consent(subject, purpose, recorded_by=actor, basis=basis, channel=channel, evidence=row_evidence)
    db.session.flush()
    record(
        "residents_imported",
        actor=actor,
        details={"unit": commune.code, "file": filename[:100], **summary.__dict__},
    )
    return summary


def add_resident(
    actor: User,
    *,
    village: Unit | None,
    full_name: str,
    birth_year: int | None = None,
    phone: str | None = None,
    household: Household | None = None,
    legal_basis: str | None,
    consents: list[tuple[str, str]] = (),
    evidence: str | None = None,
) -> Resident:
    """A resident record made by a member (no account needed), on a legal basis (a state task,
    or the resident's consent to receiving help) with the consents the resident gave, each for
    one purpose (app.privacy.consents.check_consents: the page and the API ask the same)."""
    if not authz.has_permission(actor, "outcomes.record"):
        raise NotAllowed(_("You may not add residents in this village."))
    decisions = check_consents(legal_basis, list(consents), evidence)
    if village is None or village.level != 3:
        raise Invalid(_("Choose the resident's village or residential group."), field="village")
    if not authz.may(actor, "outcomes.record", village):
        raise NotAllowed(_("You may not add residents in this village."))
    name = " ".join((full_name or "").split())
    if not name:
        raise Invalid(_("Enter the resident's full name."), field="full_name")
    phone = normalise_phone(phone)
    this_year = local_today().year
    if birth_year is not None and not 1900 <= birth_year <= this_year:
        raise Invalid(_("Enter a birth year between 1900 and %(year)d.", year=this_year), field="birth_year")
    resident = Resident(
        unit_id=village.id,
        household_id=household.id if household else None,
        full_name=name[:200],
        birth_year=birth_year,
        phone=phone,
        consent_at=utcnow(),
        consent_recorded_by_id=actor.id,
    )
    db.session.add(resident)
    db.session.flush()
    subject = Subject(None, (resident.id,))
    for purpose, basis, channel, row_evidence in decisions:
        give_consent(subject, purpose, recorded_by=actor, basis=basis, channel=channel, evidence=row_evidence)
    record("resident_added", actor=actor, details={"resident": resident.id, "unit": village.code})
    return resident


def link_account(actor: User, resident: Resident, user: User) -> None:
    """Attach an (assisted) account to a resident record."""
    if not authz.may(actor, "outcomes.record", resident.unit):
        raise NotAllowed(_("You may not change this resident."))
    if resident.user_id is not None and resident.user_id != user.id:
        raise Conflict(_("This resident already has an account."))
    if user.role != "resident":
        raise Invalid(_("Only a resident's account can be linked."), field="user")
    other = db.session.scalar(select(Resident).where(Resident.user_id == user.id))
    if other is not None and other.id != resident.id:
        raise Invalid(_("This account already belongs to another resident record."), field="user")
    resident.user_id = user.id
    record("resident_account_linked", actor=actor, target=user, details={"resident": resident.id})


def create_account_for_resident(actor: User, resident: Resident):
    """Turn a resident record into an assisted account (consent is already on the record) and
    link them. Returns the NewAccount with its one-time password for the slip."""
    if resident.user_id is not None:
        raise Invalid(_("This resident already has an account."))
    if resident.consent_at is None:
        raise Invalid(_("Record the resident's consent before creating an account."), field="consent")
    account = create_assisted_account(
        actor,
        full_name=resident.full_name,
        birth_year=resident.birth_year,
        village=resident.unit,
        phone=resident.phone,
        consent_given=True,
    )
    link_account(actor, resident, account.user)
    return account


def residents_query(actor: User, *, unit: Unit | None = None, search: str | None = None):
    query = (
        select(Resident)
        .join(Unit, Unit.id == Resident.unit_id)
        .where(authz.unit_scope_filter(actor, Unit.path), Resident.erased_at.is_(None))
    )
    if unit is not None:
        query = query.where(path_within(Unit.path, unit.path))
    if search:
        query = query.where(func.lower(Resident.full_name).contains(search.strip().lower(), autoescape=True))
    return query.order_by(Unit.path, Resident.household_id, Resident.id)


def find_resident(resident_id: int) -> Resident:
    """The resident with this id. NotFound for an unknown id, one beyond any database id, or a
    person whose data was erased (app.privacy.erasure): they answer 404 on every door."""
    resident = db.session.get(Resident, resident_id) if 0 < resident_id <= MAX_ID else None
    if resident is None or resident.erased_at is not None:
        raise NotFound(_("No resident has this id."))
    return resident


def may_view_resident(actor: User, resident: Resident) -> bool:
    return authz.may(actor, "outcomes.view", resident.unit)


def units_in_scope(actor: User, kinds: tuple[str, ...]) -> list[Unit]:
    """The units of these kinds in the person's area, in tree order."""
    return list(
        db.session.scalars(
            select(Unit).where(Unit.kind.in_(kinds), authz.unit_scope_filter(actor, Unit.path)).order_by(Unit.path)
        )
    )


def filter_units(actor: User) -> list[Unit]:
    """The units a list of the person's area can be narrowed to: the villages of their commune,
    or every commune and village for people who work province-wide."""
    root = authz.scope_root(actor)
    return units_in_scope(actor, VILLAGE_KINDS if root is not None else (*COMMUNE_KINDS, *VILLAGE_KINDS))


def account_candidates(resident: Resident) -> list[User]:
    """Residents' accounts in the resident's commune that have no resident record yet."""
    area = resident.unit.commune() or resident.unit
    return list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .outerjoin(Resident, Resident.user_id == User.id)
            .options(contains_eager(User.unit))
            .where(
                path_within(Unit.path, area.path),
                User.role == "resident",
                User.active.is_(True),
                Resident.id.is_(None),
            )
            .order_by(User.full_name, User.id)
            .limit(ACCOUNT_CHOICES_LIMIT)
        )
    )
