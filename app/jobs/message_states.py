"""What a person is shown of a message: the channel that carried it and how far it got.

The state is read from the outbox status and the provider's receipt:

* delivered — the provider's receipt says it arrived; an in-app message is delivered by being
  in the person's notifications;
* failed — the provider's receipt says it did not arrive, or the outbox gave up sending it;
* sent — handed to the provider, no receipt yet;
* waiting — not handed over yet.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.jobs.models import Message

#: The channels by their names in the person's language.
CHANNEL_TITLES = {
    "zalo": _l("Zalo"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
    "in_app": _l("In the app"),
}
#: The states of a message as the person sees them.
STATES = ("waiting", "sent", "delivered", "failed")
STATE_TITLES = {
    "waiting": _l("Waiting"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
}


def shown_channel(message: Message) -> str | None:
    """The channel that carried (or is carrying) the message; None while it waits for one.
    Messages from before channels were recorded were e-mailed, or kept in-app ("no_email")."""
    if message.channel:
        return message.channel
    if message.status == "no_email":
        return "in_app"
    if message.email and message.status in ("sending", "sent", "failed"):
        return "email"
    return None


def shown_state(message: Message) -> str:
    """One of STATES."""
    if message.delivery_status == "delivered":
        return "delivered"
    if message.delivery_status == "failed" or message.status == "failed":
        return "failed"
    if shown_channel(message) == "in_app":
        return "delivered"
    if message.status == "sent":
        return "sent"
    return "waiting"
