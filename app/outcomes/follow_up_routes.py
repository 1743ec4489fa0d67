"""The team's open follow-ups, overdue first, and closing them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.db import local_today
from app.extensions import db
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.models import FollowUp, Resident
from app.privacy.access_log import record_read
from app.units.models import Unit
from app.views import get_or_404


def _preload(follow_ups: list[FollowUp]) -> None:
    """Load residents, units and members of the list in three queries (the relationships are then
    found in the session without further queries)."""
    for model, ids in (
        (Resident, {f.resident_id for f in follow_ups if f.resident_id}),
        (Unit, {f.unit_id for f in follow_ups}),
        (User, {f.assigned_to_id for f in follow_ups if f.assigned_to_id}),
    ):
        if ids:
            db.session.scalars(select(model).where(model.id.in_(ids))).all()


@bp.route("/follow-ups")
@login_required
def follow_ups():
    authz.ensure(authz.has_permission(current_user, "outcomes.view"))
    today = local_today()
    items = operations.open_follow_ups(current_user, today=today)
    _preload(items)
    record_read(current_user, residents=[item.resident for item in items if item.resident_id], kind="list")
    return render_template(
        "outcomes/follow_ups.html",
        follow_ups=items,
        overdue=sum(1 for item in items if item.due_on < today),
        today=today,
        may_close={item.id: operations.may_close_follow_up(current_user, item) for item in items},
        form=EmptyForm(formdata=None),
    )


def _close(follow_up_id: int, *, done: bool):
    follow_up = get_or_404(FollowUp, follow_up_id)
    authz.ensure(authz.may(current_user, "outcomes.record", follow_up.unit))
    if not EmptyForm().validate_on_submit():
        abort(400)
    operations.close_follow_up(current_user, follow_up, done=done)
    db.session.commit()
    flash(_("The follow-up is done.") if done else _("The follow-up has been cancelled."), "success")
    if request.form.get("back") == "resident" and follow_up.resident_id:
        return redirect(url_for("outcomes.resident", resident_id=follow_up.resident_id))
    return redirect(url_for("outcomes.follow_ups"))


@bp.route("/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@login_required
def follow_up_done(follow_up_id: int):
    return _close(follow_up_id, done=True)


@bp.route("/follow-ups/<int:follow_up_id>/cancel", methods=["POST"])
@login_required
def follow_up_cancel(follow_up_id: int):
    return _close(follow_up_id, done=False)
