"""Residents and their outcomes: the residents list and the shared helpers of the outcome pages.

The resident page, the household import, follow-ups and session milestones live in the modules
imported at the bottom; they register their routes on the same blueprint.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from app import authz
from app.exceptions import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.outcomes.blueprint import bp
from app.outcomes.forms import ResidentForm
from app.outcomes.models import Milestone, Resident, ResidentMilestone
from app.outcomes.residents import add_resident, residents_query
from app.units.models import Unit

PAGE_SIZE = 50
VILLAGE_KINDS = ("village", "residential_group")


# --- helpers shared by the outcome pages ---------------------------------------------------


def clean_arg(name: str, max_length: int = 100) -> str:
    """A query-string value without NUL bytes (PostgreSQL refuses them), trimmed and cut short."""
    return request.args.get(name, "").replace("\x00", "").strip()[:max_length]


def unit_by_code(code: str | None) -> Unit | None:
    code = (code or "").replace("\x00", "").strip()
    if not code or len(code) > 64:
        return None
    return db.session.scalar(select(Unit).where(Unit.code == code))


def status_for(error: DomainError) -> int:
    if isinstance(error, NotAllowed):
        return 403
    return 409 if isinstance(error, Conflict) else 400


def show_error(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put the operation's message on the form field it names, else flash it."""
    name = (aliases or {}).get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def refuse_if_not_allowed(error: DomainError) -> None:
    """An operation said no: 403 with its message (nothing was written)."""
    if isinstance(error, NotAllowed):
        db.session.rollback()
        abort(403, description=error.message)


def units_in_scope(kinds: tuple[str, ...]) -> list[Unit]:
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind.in_(kinds), authz.unit_scope_filter(current_user, Unit.path))
            .order_by(Unit.path)
        )
    )


def unit_choices(units: list[Unit]) -> list[SelectChoice]:
    return [SelectChoice(unit.code, f"{'— ' * max(unit.level - 2, 0)}{unit.display_name}") for unit in units]


def reached_milestones(resident_ids: list[int]) -> dict[int, list[Milestone]]:
    """{resident id: milestones reached, in the list's order} in one query."""
    reached: dict[int, list[Milestone]] = {rid: [] for rid in resident_ids}
    if not resident_ids:
        return reached
    rows = db.session.execute(
        select(ResidentMilestone.resident_id, Milestone)
        .join(Milestone, Milestone.id == ResidentMilestone.milestone_id)
        .where(ResidentMilestone.resident_id.in_(resident_ids))
        .order_by(Milestone.position, Milestone.id)
    ).all()
    for resident_id, milestone in rows:
        reached[resident_id].append(milestone)
    return reached


def load_resident(resident_id: int) -> Resident:
    """The resident (404), when the current person may see residents there (403)."""
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        abort(404)
    authz.ensure(authz.may(current_user, "outcomes.view", resident.unit))
    return resident


# --- the residents list -------------------------------------------------------------------


@bp.route("/residents")
@login_required
def residents():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    search = clean_arg("q")
    unit_code = clean_arg("unit", 64)
    unit = None
    if unit_code:
        unit = unit_by_code(unit_code)
        if unit is None:
            abort(404)
        authz.ensure(authz.unit_in_scope(current_user, unit))
    page = request.args.get("page", 1, type=int)
    query = residents_query(current_user, unit=unit, search=search or None).options(
        selectinload(Resident.household), selectinload(Resident.unit)
    )
    pagination = db.paginate(query, page=max(page, 1), per_page=PAGE_SIZE, error_out=False)
    root = authz.scope_root(current_user)
    filter_kinds = VILLAGE_KINDS if root is not None else ("commune", "ward", *VILLAGE_KINDS)
    return render_template(
        "outcomes/residents.html",
        pagination=pagination,
        search=search,
        unit=unit,
        units=units_in_scope(filter_kinds),
        reached=reached_milestones([resident.id for resident in pagination.items]),
        may_record=authz.has_permission(current_user, "outcomes.record"),
        may_import=authz.has_permission(current_user, "outcomes.import"),
    )


@bp.route("/residents/new", methods=["GET", "POST"])
@login_required
def new_resident():
    authz.ensure(authz.has_permission(current_user, "outcomes.record"))
    form = ResidentForm()
    villages = units_in_scope(VILLAGE_KINDS)
    form.village.choices = [SelectChoice("", _("Choose…")), *unit_choices(villages)]
    status = 200
    if form.validate_on_submit():
        try:
            resident = add_resident(
                current_user,
                village=unit_by_code(form.village.data),
                full_name=form.full_name.data,
                birth_year=form.birth_year.data,
                phone=(form.phone.data or "").strip() or None,
                consent=bool(form.consent.data),
            )
        except DomainError as error:
            db.session.rollback()
            refuse_if_not_allowed(error)
            show_error(form, error)
            status = status_for(error)
        else:
            db.session.commit()
            flash(_("The resident has been added."), "success")
            return redirect(url_for("outcomes.resident", resident_id=resident.id))
    elif request.method == "POST":
        status = 400
    return render_template("outcomes/residents_new.html", form=form), status
