"""The member ledger: each member's and each team's monthly figures, as a page and as CSV/XLSX,
and closing a month (an administrator's step that freezes it)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.models import User
from app.db import local_today
from app.extensions import db
from app.i18n import format_month
from app.outcomes.blueprint import bp
from app.outcomes.forms import CloseMonthForm
from app.outcomes.ledger import (
    LedgerPage,
    LedgerRow,
    close_month,
    ledger_page,
    may_close,
    month_start,
    next_month,
    sees_others,
)
from app.outcomes.residents import filter_units
from app.privacy.access_log import record_read
from app.reports.exports import csv_download, xlsx_download
from app.units.models import Unit
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, refuse, unit_choices

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
YEARS = (2000, 2100)


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
    unit = get_unit_by_code(code)
    if unit is None:
        abort(404, description=_("No unit has the code %(code)s.", code=code[:40]))
    authz.ensure(authz.unit_in_scope(current_user, unit))
    return unit


def _render(page: LedgerPage, status: int = 200):
    args = {"month": page.month.strftime("%Y-%m"), "unit": page.unit.code if page.unit else None}
    return (
        render_template(
            "outcomes/ledger.html",
            page=page,
            args=args,
            month_value=page.month.strftime("%Y-%m"),
            previous_month=month_start(page.month - timedelta(days=1)).strftime("%Y-%m"),
            following_month=next_month(page.month).strftime("%Y-%m"),
            units=unit_choices(filter_units(current_user)) if sees_others(current_user) else [],
            may_close=may_close(current_user, page.month, closed=page.closed),
            close_form=CloseMonthForm(formdata=None, month=page.month.strftime("%Y-%m")),
        ),
        status,
    )


@bp.route("/ledger")
@login_required
def ledger_index():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    page = ledger_page(current_user, parse_month(request.args.get("month")), _unit_arg())
    record_read(current_user, users=[member for member, _row in page.members], kind="list")
    return _render(page)


# --- exports --------------------------------------------------------------------------------


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
        if member.restricted_at is not None:
            continue  # processing restricted at the person's request: left out of exports (still in team totals)
        rows.append(
            [
                _("Member"),
                member.full_name,
                member.username,
                member.unit.display_name,
                *figures(row),
            ]
        )
    for team, row in page.teams:
        rows.append([_("Team"), team.name, "", team.unit.display_name, *figures(row)])
    return rows


def _filename(page: LedgerPage, extension: str) -> str:
    unit = re.sub(r"[^A-Za-z0-9_-]", "", page.unit.code) if page.unit else ""
    return f"ledger-{page.month:%Y-%m}{'-' + unit if unit else ''}.{extension}"


@bp.route("/ledger.csv")
@login_required
def ledger_csv():
    """The ledger as CSV, UTF-8 with a BOM so that Excel shows Vietnamese names correctly."""
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    page = ledger_page(current_user, parse_month(request.args.get("month")), _unit_arg())
    record_read(current_user, users=[member for member, _row in page.members], kind="export")
    return csv_download(export_rows(page), _filename(page, "csv"))


@bp.route("/ledger.xlsx")
@login_required
def ledger_xlsx():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    page = ledger_page(current_user, parse_month(request.args.get("month")), _unit_arg())
    record_read(current_user, users=[member for member, _row in page.members], kind="export")
    sheet = (page.month.strftime("%Y-%m"), export_rows(page))
    return xlsx_download([sheet], _filename(page, "xlsx"), freeze_header=True)


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
    except FORM_ERRORS as error:
        status = refuse(None, error)
        return _render(ledger_page(current_user, month, None), status)
    db.session.commit()
    flash(
        _(
            "%(month)s is closed: the figures of %(count)d members are final.",
            month=format_month(month),
            count=count,
        ),
        "success",
    )
    return redirect(url_for("outcomes.ledger_index", month=month.strftime("%Y-%m")))
