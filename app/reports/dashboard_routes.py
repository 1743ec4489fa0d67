"""The managers' dashboards: the province view (one row per commune), the indicators, and the
commune view (one row per village, and the commune's people), each exportable to CSV and XLSX
exactly as shown.

Figures come from app.reports.queries (summary tables only); access from app.authz: reports.view,
and a commune manager reaches only their own commune (the province view sends them there).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager

from app import authz
from app.auth.models import ROLE_TITLES, User
from app.extensions import db
from app.learning.models import Enrollment
from app.privacy.access_log import record_read
from app.reports import queries
from app.reports.blueprint import bp
from app.reports.charts import bar_chart
from app.reports.exports import tables_download
from app.units.models import Unit, path_within
from app.units.operations import children_of
from app.views import area_page_unit, clean_arg, page_arg

PEOPLE_PAGE_SIZE = 50
#: The columns of the completion table shown by default (province and commune views);
#: ?columns=all shows every column.
ESSENTIAL_COLUMNS = frozenset(
    {
        "unit_code",
        "unit_name",
        "population",
        "learners",
        "enrolled",
        "completed",
        "completion_rate",
        "coverage",
        "overdue_assignments",
        "requests",
        "visits_done",
    }
)
#: The people listed on the commune view: those who learn.
LEARNER_ROLES = ("resident", "cadre", "tech_team")


# --- shared helpers ------------------------------------------------------------------------


def _filters(*, strict: bool) -> tuple[queries.Filters, dict[str, str]]:
    """The filters of the query string. Pages show mistakes next to the form and leave the
    filter out; exports refuse them (400), so a file never silently differs from the page."""
    errors: dict[str, str] = {}
    filters = queries.parse_filters(request.args, errors=None if strict else errors)
    return filters, errors


def _sorting() -> tuple[str | None, bool]:
    sort = clean_arg("sort", 40) or None
    return sort, request.args.get("dir") == "desc"


def _completion(unit: Unit, filters: queries.Filters, shown: frozenset[str] | None = None):
    """The completion table; with `shown`, only the figures of those columns are counted."""
    return queries.completion_table(
        unit,
        course_id=filters.course.id if filters.course else None,
        role=filters.role,
        week_from=filters.week_from,
        week_to=filters.week_to,
        columns=shown,
    )


def _shown_completion(unit: Unit, filters: queries.Filters, sort: str | None, descending: bool):
    """The completion table as the page shows it (main columns unless ?columns=all; a column
    sorted by is counted even when hidden), whether all columns are shown, and the titles of the
    columns left out. Figures of hidden columns are not counted: at a province's scale they are
    what the page would spend most of its time on."""
    all_columns = request.args.get("columns") == "all"
    counted = None if all_columns or (sort and sort not in ESSENTIAL_COLUMNS) else ESSENTIAL_COLUMNS
    table = _completion(unit, filters, counted).sorted_by(sort, descending)
    hidden = [column.title for column in table.columns if column.key not in ESSENTIAL_COLUMNS]
    return table, (table if all_columns else table.only(ESSENTIAL_COLUMNS)), all_columns, hidden


def _page_context(unit: Unit, filters, errors, sort, descending) -> dict:
    return {
        "unit": unit,
        "filters": filters,
        "filter_errors": errors,
        "courses": queries.courses_in_order(),
        "role_titles": {role: ROLE_TITLES[role] for role in queries.FILTER_ROLES},
        "sort": sort,
        "descending": descending,
        "province_wide": authz.scope_root(current_user) is None,
    }


# --- province view -------------------------------------------------------------------------


@bp.route("/")
@login_required
def dashboard():
    """One row per commune of the province. A commune manager is sent to their commune."""
    unit = area_page_unit("reports.view")
    if unit.level > 1:  # a commune manager's area, or a commune asked for by code
        args = {key: value for key, value in request.args.items() if key != "unit"}
        return redirect(url_for("reports.commune", code=unit.code, **args))
    filters, errors = _filters(strict=False)
    sort, descending = _sorting()
    table, shown, all_columns, hidden_columns = _shown_completion(unit, filters, sort, descending)
    link_args = {"unit": unit.code, **filters.query_args()}
    return render_template(
        "reports/dashboard.html",
        table=shown,
        all_columns=all_columns,
        hidden_columns=hidden_columns,
        commune_chart=bar_chart(
            [(row["unit_name"], row["completion_rate"]) for row in table.rows],
            title=_("Completion rate by commune"),
            chart_id="commune-chart",
            description=_("One bar per commune or ward, in the order of the table below."),
        ),
        link_args=link_args,
        row_links={
            row["unit_code"]: url_for("reports.commune", code=row["unit_code"], **filters.query_args())
            for row in table.rows
        },
        provinces=children_of(None),
        **_page_context(unit, filters, errors, sort, descending),
    )


@bp.route("/completion.<any(csv, xlsx):fmt>")
@login_required
def completion_export(fmt: str):
    """The completion and visits table of ?unit= (default: the person's area), with the page's
    filters and sorting."""
    unit = area_page_unit("reports.view")
    filters, _errors = _filters(strict=True)
    sort, descending = _sorting()
    return tables_download(
        [_completion(unit, filters).sorted_by(sort, descending)], "completion", unit, fmt, filters=filters.describe()
    )


# --- indicators ----------------------------------------------------------------------------


@bp.route("/indicators")
@login_required
def indicators():
    unit = area_page_unit("reports.view")
    sort, descending = _sorting()
    table = queries.indicators_table(unit).sorted_by(sort, descending)
    return render_template(
        "reports/indicators.html",
        unit=unit,
        table=table,
        sort=sort,
        descending=descending,
        link_args={"unit": unit.code},
        parent=unit.parent if unit.parent is not None and authz.unit_in_scope(current_user, unit.parent) else None,
        row_links={
            row["unit_code"]: url_for("reports.indicators", unit=row["unit_code"])
            for row in table.rows
            if unit.level < 2
        },
    )


@bp.route("/indicators.<any(csv, xlsx):fmt>")
@login_required
def indicators_export(fmt: str):
    unit = area_page_unit("reports.view")
    sort, descending = _sorting()
    return tables_download([queries.indicators_table(unit).sorted_by(sort, descending)], "indicators", unit, fmt)


# --- commune view --------------------------------------------------------------------------


def _people(commune: Unit, village: Unit | None, role: str | None, page: int):
    """The commune's learners (paginated), with their enrolments, completions and how they
    completed: one query for the page, one for the count, one for their courses."""
    area = village or commune
    query = (
        select(User)
        .join(Unit, Unit.id == User.unit_id)
        .options(contains_eager(User.unit))
        .where(path_within(Unit.path, area.path), User.role.in_(LEARNER_ROLES), User.erased_at.is_(None))
        .order_by(Unit.path, User.full_name, User.id)
    )
    if role:
        query = query.where(User.role == role)
    pagination = db.paginate(query, page=page, per_page=PEOPLE_PAGE_SIZE, error_out=False)
    ids = [person.id for person in pagination.items]
    counts = {}
    if ids:
        for user_id, enrolled, completed, done_self, done_help in db.session.execute(
            select(
                Enrollment.user_id,
                func.count(),
                func.count(Enrollment.completed_at),
                func.sum(case((Enrollment.completion_mode == "self", 1), else_=0)),
                func.sum(case((Enrollment.completion_mode.in_(("in_person", "assisted")), 1), else_=0)),
            )
            .where(Enrollment.user_id.in_(ids))
            .group_by(Enrollment.user_id)
        ):
            counts[user_id] = {
                "enrolled": int(enrolled or 0),
                "completed": int(completed or 0),
                "self": int(done_self or 0),
                "help": int(done_help or 0),
            }
    empty = {"enrolled": 0, "completed": 0, "self": 0, "help": 0}
    people = [(person, counts.get(person.id, empty)) for person in pagination.items]
    return pagination, people


@bp.route("/units/<code>")
@login_required
def commune(code: str):
    """A commune or ward: the same tables by village, and its people with their status."""
    unit = area_page_unit("reports.view", code)
    if unit.level == 1:
        return redirect(url_for("reports.dashboard", unit=unit.code, **request.args))
    if unit.level > 2:
        args = {key: value for key, value in request.args.items() if key != "village"}
        return redirect(url_for("reports.commune", code=unit.commune().code, village=unit.code, **args) + "#people")
    filters, errors = _filters(strict=False)
    sort, descending = _sorting()
    table, shown, all_columns, hidden_columns = _shown_completion(unit, filters, sort, descending)
    indicators_table = queries.indicators_table(unit)
    villages = children_of(unit)

    village = None
    village_code = clean_arg("village")
    if village_code:
        village = next((v for v in villages if v.code == village_code), None)
        if village is None:
            errors.setdefault("village", _("Choose a village of this commune."))
    role = clean_arg("people_role")
    if role and role not in LEARNER_ROLES:
        errors.setdefault("people_role", _("Choose a role from the list."))
        role = ""
    page = page_arg()
    pagination, people = _people(unit, village, role or None, page)
    record_read(current_user, users=pagination.items, kind="list")

    filter_args = filters.query_args()
    people_args = {"code": unit.code, **filter_args}
    if village is not None:
        people_args["village"] = village.code
    if role:
        people_args["people_role"] = role
    if sort:
        people_args |= {"sort": sort, "dir": "desc" if descending else "asc"}
    return render_template(
        "reports/commune.html",
        table=shown,
        all_columns=all_columns,
        hidden_columns=hidden_columns,
        indicators_table=indicators_table,
        link_args={"code": unit.code, **filter_args},
        export_args={"unit": unit.code, **filter_args},
        row_links={
            row["unit_code"]: url_for("reports.commune", code=unit.code, village=row["unit_code"], **filter_args)
            + "#people"
            for row in table.rows
        },
        villages=villages,
        village=village,
        people_role=role,
        people_roles={key: ROLE_TITLES[key] for key in LEARNER_ROLES},
        pagination=pagination,
        people=people,
        people_args=people_args,
        may_view_user=authz.may_view_user,
        **_page_context(unit, filters, errors, sort, descending),
    )
