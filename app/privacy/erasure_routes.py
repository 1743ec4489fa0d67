"""Erasing a resident's or an account's data: a page that says what will happen and asks why,
and the report of what was erased and what was kept. The rules are app.privacy.erasure's."""

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.models import User
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import erasure
from app.privacy.blueprint import bp
from app.privacy.erasure_forms import ErasureForm
from app.privacy.models import Erasure
from app.views import FORM_ERRORS, get_or_404, id_from, page_arg, refuse

PAGE_SIZE = 50


@bp.route("/residents/<int:resident_id>/erase", methods=["GET", "POST"])
@login_required
def erase_resident(resident_id: int):
    resident = get_or_404(Resident, resident_id)
    erasure.ensure_may_erase_resident(current_user, resident)
    return _erase_page(
        resident.full_name,
        lambda reason: erasure.erase_resident(current_user, resident, reason, request_id=_answered_request()),
    )


@bp.route("/accounts/<int:user_id>/erase", methods=["GET", "POST"])
@login_required
def erase_account(user_id: int):
    person = get_or_404(User, user_id)
    erasure.ensure_may_erase_account(current_user, person)
    return _erase_page(
        person.full_name,
        lambda reason: erasure.erase_account(current_user, person, reason, request_id=_answered_request()),
    )


def _answered_request() -> int | None:
    """The person's erasure request this erasure answers (?request=<id>, from the request's page)."""
    return id_from(request.args.get("request"))


def _erase_page(name: str, erase):
    form = ErasureForm()
    status = 200
    if form.validate_on_submit():
        try:
            report = erase(form.reason.data)
        except FORM_ERRORS as error:
            status = refuse(form, error)
        else:
            db.session.commit()
            return render_template("privacy/erasure_report.html", report=report)
    elif request.method == "POST":
        status = 400
    return render_template("privacy/erase.html", form=form, name=name), status


@bp.route("/erasures")
@login_required
def erasures():
    """The erasure ledger, newest first, for the data-protection officer: when, by whom, why, and
    what was kept under which legal exception."""
    authz.ensure(authz.has_permission(current_user, "privacy.officer"))
    query = select(Erasure).order_by(Erasure.erased_at.desc(), Erasure.id.desc())
    pagination = db.paginate(query, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    actors = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({row.actor_id for row in pagination.items if row.actor_id}))
        )
    }
    return render_template("privacy/erasures.html", pagination=pagination, actors=actors)
