"""Which channel carries a message, and when it may go.

**The order.** A person's `preferred_channels` (e.g. "zalo,sms,in_app") is tried in order; None
means e-mail when they have an address, else in-app. "in_app" ends the order: nothing external is
sent, the message stays in the notifications list. A channel is available for a message when:

* zalo: the message has a Vietnamese phone, ZNS is configured and has a template for its kind;
* sms: the message has a phone and an SMS gateway is configured;
* email: the message has an address, and MAIL_SERVER is set (a message for whom e-mail is
  the only way waits until it is).

**Quiet hours and the daily cap** hold back messages to a phone (Zalo, SMS): QUIET_HOURS
("21:00-07:00", local time) makes them wait for the end of the quiet hours, MESSAGE_DAILY_CAP
allows that many per person per local day, the rest wait for the next day. Sign-in and recovery
codes (QUIET_HOURS_EXEMPT) go at once and are not counted. E-mail wakes no one and is not held.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.db import LOCAL_TZ
from app.extensions import db
from app.jobs.channels import sms_configured, zalo_phone, zns_configured, zns_templates
from app.jobs.models import CHANNELS, Message

#: Channels that reach a person's phone: held back by quiet hours and the daily cap.
PHONE_CHANNELS = ("zalo", "sms")
#: Channels that send something outside the app.
EXTERNAL_CHANNELS = ("zalo", "sms", "email")
#: Kinds of message that go at any hour and are not counted in the daily cap.
QUIET_HOURS_EXEMPT = frozenset({"recovery_code", "sign_in_code"})

_QUIET = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_channels(value: str | None) -> list[str] | None:
    """A stored `preferred_channels` as a list of known channels (None when not set)."""
    if value is None:
        return None
    return [name for name in (part.strip() for part in value.split(",")) if name in CHANNELS]


def channel_order(user: User) -> list[str]:
    """The external channels to try for `user`, in order, up to "in_app"."""
    preferred = parse_channels(user.preferred_channels)
    if preferred is None:
        return ["email"] if (user.email or "").strip() else []
    order = []
    for name in preferred:
        if name == "in_app":
            break
        order.append(name)
    return order


def channel_available(channel: str, message: Message, config: Mapping, *, sending: bool = False) -> bool:
    """Whether `channel` could carry `message`; when `sending`, e-mail also needs MAIL_SERVER
    (a message written while there is none waits for one, as it always has)."""
    if channel == "zalo":
        return (
            zalo_phone(message.phone) is not None
            and zns_configured(config)
            and (message.kind or "") in zns_templates(config)
        )
    if channel == "sms":
        return bool(message.phone) and sms_configured(config)
    if channel == "email":
        return bool(message.email) and (bool(config.get("MAIL_SERVER")) or not sending)
    return False


def channels_for(message: Message, user: User, config: Mapping, *, sending: bool = False) -> list[str]:
    """The channels that could carry `message` to `user`, in the person's order."""
    return [channel for channel in channel_order(user) if channel_available(channel, message, config, sending=sending)]


# --- quiet hours and the daily cap ----------------------------------------------------------


def quiet_hours(config: Mapping) -> tuple[time, time] | None:
    """QUIET_HOURS as (start, end) local times; None when off (empty) or not understood."""
    match = _QUIET.match(config.get("QUIET_HOURS") or "")
    if not match:
        return None
    start = time(int(match.group(1)), int(match.group(2)))
    end = time(int(match.group(3)), int(match.group(4)))
    return None if start == end else (start, end)


def quiet_until(now: datetime, config: Mapping) -> datetime | None:
    """When the quiet hours around `now` end (an aware datetime), or None outside them."""
    hours = quiet_hours(config)
    if hours is None:
        return None
    start, end = hours
    local = now.astimezone(LOCAL_TZ)
    clock = local.time()
    if start < end:
        inside = start <= clock < end
    else:  # over midnight, e.g. 21:00-07:00
        inside = clock >= start or clock < end
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def next_local_day(now: datetime) -> datetime:
    local = now.astimezone(LOCAL_TZ)
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def sent_to_phone_today(user_id: int, now: datetime) -> int:
    """Messages sent to this person's phone (Zalo, SMS) since local midnight, exempt kinds aside."""
    local = now.astimezone(LOCAL_TZ)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.user_id == user_id,
            Message.status == "sent",
            Message.channel.in_(PHONE_CHANNELS),
            Message.sent_at >= midnight,
            Message.kind.is_(None) | Message.kind.not_in(QUIET_HOURS_EXEMPT),
        )
    )


def held_until(message: Message, channel: str, now: datetime, config: Mapping) -> datetime | None:
    """When `message` may go by `channel`, if not now: the end of the quiet hours, or the next
    local day when the person's daily cap is reached. None: it may go now."""
    if channel not in PHONE_CHANNELS or message.kind in QUIET_HOURS_EXEMPT:
        return None
    until = quiet_until(now, config)
    if until is not None:
        return until
    cap = config.get("MESSAGE_DAILY_CAP") or 0
    if cap > 0 and sent_to_phone_today(message.user_id, now) >= cap:
        return next_local_day(now)
    return None
