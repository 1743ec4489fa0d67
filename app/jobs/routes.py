"""In-app notifications: the same messages the outbox e-mails."""

from flask import g, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth.forms import EmptyForm
from app.db import utcnow
from app.extensions import db
from app.jobs.blueprint import bp
from app.jobs.message_states import CHANNEL_TITLES, STATE_TITLES, shown_channel, shown_state
from app.jobs.models import Message
from app.jobs.outbox import mark_all_read, unread_count
from app.views import page_arg

PAGE_SIZE = 20
UNREAD_COUNT_SECONDS = 60


def unread_notifications() -> int:
    """The number of unread notifications, for the main menu. The count is kept in the session
    for up to UNREAD_COUNT_SECONDS, so busy pages (a lesson read by a whole province) do not
    count notifications on every request; opening the notifications page refreshes it."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        cached = session.get("unread")
        now = int(utcnow().timestamp())
        if cached and cached[0] == current_user.id and now - cached[1] < UNREAD_COUNT_SECONDS:
            g.unread_notifications = cached[2]
        else:
            g.unread_notifications = unread_count(current_user.id)
            session["unread"] = (current_user.id, now, g.unread_notifications)
    return g.unread_notifications


@bp.app_context_processor
def inject_unread_notifications():
    return {"unread_notifications": unread_notifications}


@bp.route("/notifications")
@login_required
def notifications():
    session.pop("unread", None)  # the menu count is fresh after a visit here
    query = (
        select(Message).where(Message.user_id == current_user.id).order_by(Message.created_at.desc(), Message.id.desc())
    )
    pagination = db.paginate(query, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "jobs/notifications.html",
        pagination=pagination,
        form=EmptyForm(),
        shown_channel=shown_channel,
        shown_state=shown_state,
        channel_titles=CHANNEL_TITLES,
        state_titles=STATE_TITLES,
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_read():
    form = EmptyForm()
    if form.validate_on_submit():
        mark_all_read(current_user.id)
        db.session.commit()
        session.pop("unread", None)
    return redirect(url_for("jobs.notifications"))
