"""The member ledger: each member's and each team's monthly figures, as a page and as CSV/XLSX,
and closing a month (an administrator's step that freezes it)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload
from wtforms import HiddenField
from wtforms.validators import InputRequired

from app import authz
from app.auth.models import User
from app.exceptions import DomainError
from app.extensions import db
from app.outcomes.blueprint import bp
from app.outcomes.ledger import LedgerRow, close_month, is_closed, ledger, month_start, next_month
from app.outcomes.operations import local_today
from app.outcomes.routes import refuse_if_not_allowed, status_for, unit_by_code, unit_choices, units_in_scope
from app.units.models import Unit
from app.visits.models import Team, TeamMember

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
YEARS = (2000, 2100)
#: A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CloseMonthForm(FlaskForm):
    month = HiddenField(validators=[InputRequired(_l("Say which month to close."))])


@dataclass
class LedgerPage:
    month: date
    unit: Unit | None
    closed: bool
    #: (member, row), by name.
    members: list[tuple[User, LedgerRow]]
    #: (team, sum of its members' rows), by unit and name; empty for a member's own view.
    teams: list[tuple[Team, LedgerRow]]
    total: LedgerRow | None


def parse_month(value: str | None) -> date:
    """ "YYYY-MM" as the first day of that month (this month when empty); 400 otherwise."""
    value = (value or "").strip()
    if not value:
        return month_start(local_today())
    match = _MONTH.fullmatch(value)
    if match is None or not 1 <= int(match.group(2)) <= 12 or not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
        abort(
            400,
            description=_(
                "Give the month as year and month, e.g. %(example)s.",
                example=month_start(local_today()).strftime("%Y-%m"),
            ),
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def _unit_arg() -> Unit | None:
    code = (request.args.get("unit") or "").strip()
    if not code:
        return None
    unit = unit_by_code(code)
    if unit is None:
        abort(404, description=_("No unit has the code %(code)s.", code=code[:40]))
    authz.ensure(authz.unit_in_scope(current_user, unit))
    return unit


def sees_others() -> bool:
    """Managers and the department see their area's members; a member sees their own row."""
    return authz.has_permission(current_user, "reports.view")


def summed(rows: list[LedgerRow], month: date, closed: bool) -> LedgerRow:
    total = LedgerRow(0, month, closed=closed)
    for row in rows:
        total.visits += row.visits
        total.sessions += row.sessions
        total.hours_minutes += row.hours_minutes
        total.residents_helped += row.residents_helped
        total.milestones_confirmed += row.milestones_confirmed
    return total


def ledger_page(month: date, unit: Unit | None) -> LedgerPage:
    closed = is_closed(month)
    if not sees_others():
        (row,) = ledger([current_user], month)
        return LedgerPage(month, unit, closed, [(current_user, row)], [], None)
    in_area = authz.unit_scope_filter(current_user, Unit.path)
    if unit is not None:
        in_area = in_area & Unit.path.startswith(unit.path, autoescape=True)
    members = list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .options(contains_eager(User.unit))
            .where(User.role == "tech_team", in_area)
            .order_by(User.full_name, User.id)
        )
    )
    teams = list(
        db.session.scalars(
            select(Team)
            .join(Unit, Unit.id == Team.unit_id)
            .where(in_area)
            .options(selectinload(Team.unit), selectinload(Team.members).selectinload(TeamMember.user))
            .order_by(Unit.path, Team.name, Team.id)
        )
    )
    people = {member.id: member for member in members}
    for team in teams:
        for membership in team.members:
            people.setdefault(membership.user_id, membership.user)
    rows = {row.member_id: row for row in ledger(list(people.values()), month)}
    return LedgerPage(
        month,
        unit,
        closed,
        [(member, rows[member.id]) for member in members],
        [(team, summed([rows[m.user_id] for m in team.members], month, closed)) for team in teams],
        summed([rows[member.id] for member in members], month, closed),
    )


def _render(page: LedgerPage, status: int = 200):
    root = authz.scope_root(current_user)
    kinds = (
        ("village", "residential_group") if root is not None else ("commune", "ward", "village", "residential_group")
    )
    today_month = month_start(local_today())
    may_close = (
        authz.has_permission(current_user, "ledger.close") and not page.closed and next_month(page.month) <= today_month
    )
    args = {"month": page.month.strftime("%Y-%m"), "unit": page.unit.code if page.unit else None}
    return (
        render_template(
            "outcomes/ledger.html",
            page=page,
            args=args,
            month_value=page.month.strftime("%Y-%m"),
            previous_month=month_start(page.month - timedelta(days=1)).strftime("%Y-%m"),
            following_month=next_month(page.month).strftime("%Y-%m"),
            units=unit_choices(units_in_scope(kinds)) if sees_others() else [],
            may_close=may_close,
            close_form=CloseMonthForm(formdata=None, month=page.month.strftime("%Y-%m")),
        ),
        status,
    )


@bp.route("/ledger")
@login_required
def ledger_index():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    return _render(ledger_page(parse_month(request.args.get("month")), _unit_arg()))


# --- exports --------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """Text a spreadsheet shows as written (never runs as a formula)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_rows(page: LedgerPage) -> list[list]:
    header = [
        _("Row"),
        _("Name"),
        _("Username"),
        _("Unit"),
        _("Month"),
        _("Visits"),
        _("Sessions"),
        _("Hours"),
        _("Minutes"),
        _("Residents helped"),
        _("Milestones confirmed"),
        _("Closed"),
    ]
    month = page.month.strftime("%Y-%m")

    def figures(row: LedgerRow) -> list:
        return [
            month,
            row.visits,
            row.sessions,
            row.hours,
            row.hours_minutes,
            row.residents_helped,
            row.milestones_confirmed,
            _("yes") if row.closed else _("no"),
        ]

    rows: list[list] = [header]
    for member, row in page.members:
        rows.append(
            [
                _("Member"),
                _cell(member.full_name),
                _cell(member.username),
                _cell(member.unit.display_name),
                *figures(row),
            ]
        )
    for team, row in page.teams:
        rows.append([_("Team"), _cell(team.name), "", _cell(team.unit.display_name), *figures(row)])
    return rows


def _filename(page: LedgerPage, extension: str) -> str:
    unit = re.sub(r"[^A-Za-z0-9_-]", "", page.unit.code) if page.unit else ""
    return f"ledger-{page.month:%Y-%m}{'-' + unit if unit else ''}.{extension}"


def _download(content: bytes, content_type: str, filename: str) -> Response:
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/ledger.csv")
@login_required
def ledger_csv():
    """The ledger as CSV, UTF-8 with a BOM so that Excel shows Vietnamese names correctly."""
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    page = ledger_page(parse_month(request.args.get("month")), _unit_arg())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(export_rows(page))
    return _download(("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", _filename(page, "csv"))


@bp.route("/ledger.xlsx")
@login_required
def ledger_xlsx():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    page = ledger_page(parse_month(request.args.get("month")), _unit_arg())

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = page.month.strftime("%Y-%m")
    for row in export_rows(page):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _download(buffer.getvalue(), XLSX_TYPE, _filename(page, "xlsx"))


# --- closing a month ------------------------------------------------------------------------


@bp.route("/ledger/close", methods=["POST"])
@login_required
def ledger_close():
    """Freeze a past month for every tech-team member (an administrator's step, once per month)."""
    authz.ensure(authz.has_permission(current_user, "ledger.close"))
    form = CloseMonthForm()
    if not form.validate_on_submit():
        abort(400, description=_("Say which month to close."))
    month = parse_month(form.month.data)
    members = list(db.session.scalars(select(User).where(User.role == "tech_team").order_by(User.id)))
    try:
        count = close_month(current_user, month, members)
    except DomainError as error:
        db.session.rollback()
        refuse_if_not_allowed(error)
        flash(error.message, "error")
        return _render(ledger_page(month, None), status_for(error))
    db.session.commit()
    flash(
        _(
            "%(month)s is closed: the figures of %(count)d members are final.",
            month=format_date(month, "LLLL y"),
            count=count,
        ),
        "success",
    )
    return redirect(url_for("outcomes.ledger_index", month=month.strftime("%Y-%m")))
