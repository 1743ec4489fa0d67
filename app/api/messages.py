"""The caller's own messages: each one's channel and state, as the notifications page shows them."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, token_required
from app.db import LOCAL_TZ
from app.extensions import db
from app.jobs.message_states import shown_channel, shown_state
from app.jobs.models import Message

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def message_json(message: Message) -> dict:
    delivered_at = message.delivered_at
    return {
        "id": message.id,
        "subject": message.subject,
        "created_at": message.created_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "channel": shown_channel(message),
        "status": shown_state(message),
        "delivery_status": message.delivery_status,
        "delivered_at": delivered_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if delivered_at else None,
        "link": message.link,
        "read": message.read_at is not None,
    }


@bp.route("/me/messages")
@token_required
@in_callers_language
def my_messages():
    """The caller's messages, newest first, a page at a time (never anyone else's)."""
    user = current_api_user()
    page = parsers.query_int("page", 1, low=1, high=100000)
    per_page = parsers.query_int("per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE)
    query = select(Message).where(Message.user_id == user.id).order_by(Message.created_at.desc(), Message.id.desc())
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify(
        {
            "items": [message_json(message) for message in pagination.items],
            "page": page,
            "per_page": per_page,
            "total": pagination.total,
        }
    )
