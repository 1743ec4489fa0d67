"""Delivery receipts: what a provider says became of a message it carried.

Two providers post receipts to the webhooks in receipt_routes.py:

* **SMS gateway** — `POST /hooks/messages/sms` with a JSON object
  `{"id": "<the gateway's message id>", "ref": "<our message id>", "status": "delivered" | "failed",
  "at": "<ISO 8601 with offset>"}` (`id` or `ref` at least; `at` optional), signed in the header
  `X-Signature: sha256=<hex HMAC-SHA256 of the raw body under SMS_RECEIPT_SECRET>`.
* **Zalo (ZNS)** — `POST /hooks/messages/zalo`, the OA webhook's event `user_received_message`
  `{"event_name", "app_id", "timestamp", "message": {"msg_id", "tracking_id", "delivery_time"}}`,
  signed in the header `X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp +
  ZALO_RECEIPT_SECRET)>` (the OA secret key of the webhook settings). `tracking_id` is our message
  id, `msg_id` the provider's. Zalo reports deliveries only; other events are ignored.

A receipt is matched to a message by the provider's id (`provider_ref`), else by our id, and only
to a message that channel carried (or is carrying: "sending" with no channel recorded yet). It is
recorded once: a repeated receipt changes nothing, and "failed" never replaces "delivered" (a
"delivered" does replace an earlier "failed": the message did arrive).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.db import CONTROL_CHARACTERS, MAX_ID, YEARS, utcnow
from app.exceptions import DomainError
from app.extensions import db
from app.jobs.models import RECEIPT_STATUSES, Message

#: The largest receipt body taken (a receipt is a few hundred bytes).
MAX_RECEIPT_BYTES = 16 * 1024
#: The longest provider id or tracking id taken (the column holds 100 characters).
MAX_REF_LENGTH = 100
#: A receipt's time further ahead than this is a wrong clock: the time of arrival is kept instead.
CLOCK_SKEW = timedelta(minutes=5)
#: The Zalo event that reports a ZNS message reached the person's phone.
ZALO_DELIVERED_EVENT = "user_received_message"

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class Receipt:
    """A receipt as read from a provider: which message (the provider's id and/or ours), what
    became of it, and when (None: not said)."""

    provider_ref: str | None
    message_id: int | None
    status: str
    at: datetime | None = None


# --- signatures ---------------------------------------------------------------------------


def _same(expected: str, given: str | None) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), (given or "").strip().lower().encode("utf-8", "replace"))


def sms_signature(body: bytes, secret: str) -> str:
    """The X-Signature header value that signs `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sms_signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Whether `header` is the signature of `body` under `secret` (compared in constant time)."""
    return bool(secret) and _same(sms_signature(body, secret), header)


def zalo_signature(body: bytes, app_id: str, timestamp: str, secret: str) -> str:
    """The X-ZEvent-Signature header value Zalo sends with `body`."""
    digest = hashlib.sha256(app_id.encode("utf-8") + body + timestamp.encode("utf-8") + secret.encode("utf-8"))
    return "mac=" + digest.hexdigest()


def zalo_signature_ok(body: bytes, header: str | None, app_id: str, timestamp: str, secret: str) -> bool:
    return bool(secret) and _same(zalo_signature(body, app_id, timestamp, secret), header)


def signature_present(header: str | None, prefix: str) -> bool:
    """Whether the header holds a signature of the expected form at all."""
    value = (header or "").strip().lower()
    return value.startswith(prefix) and bool(_HEX_SHA256.fullmatch(value[len(prefix) :]))


# --- reading receipts ---------------------------------------------------------------------


class BadReceipt(DomainError):
    """A receipt that cannot be read (400)."""

    status = 400
    code = "bad_receipt"


def _malformed(message: str, field: str | None = None) -> BadReceipt:
    return BadReceipt(message, field=field)


def json_object(body: bytes) -> dict:
    """The body as a JSON object. Raises BadReceipt (400) when it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise _malformed(_("The receipt must be a JSON object."))
    return data


def _reference(value, field: str) -> str | None:
    """An id as text (a JSON string, or a whole number): trimmed, at most MAX_REF_LENGTH
    characters, no control characters. Raises BadReceipt (400) otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**MAX_REF_LENGTH:
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_REF_LENGTH or CONTROL_CHARACTERS.search(value):
        raise _malformed(
            _("Give %(field)s as text of at most %(length)d characters.", field=field, length=MAX_REF_LENGTH),
            field,
        )
    return value.strip() or None


def _message_id(value: str | None) -> int | None:
    """Our message id from a reference, or None when it cannot be one."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def _sane(moment: datetime | None, now: datetime) -> datetime | None:
    if moment is None or not YEARS[0] <= moment.year <= YEARS[1] or moment > now + CLOCK_SKEW:
        return None
    return moment


def sms_receipt(data: dict, now: datetime) -> Receipt:
    """The receipt in an SMS gateway's JSON object. Raises BadReceipt (400) naming what is wrong."""
    provider_ref = _reference(data.get("id"), "id")
    ref = _reference(data.get("ref"), "ref")
    if provider_ref is None and ref is None:
        raise _malformed(_("Give the gateway's message id (id) or our reference (ref)."), "id")
    status = data.get("status")
    if not isinstance(status, str) or status.strip().lower() not in RECEIPT_STATUSES:
        raise _malformed(_("Give status as delivered or failed."), "status")
    at = None
    given = data.get("at")
    if given is not None:
        if not isinstance(given, str) or len(given) > 40 or CONTROL_CHARACTERS.search(given):
            raise _malformed(_("Give at as an ISO 8601 date and time with offset."), "at")
        try:
            at = datetime.fromisoformat(given.strip())
        except ValueError:
            raise _malformed(_("Give at as an ISO 8601 date and time with offset."), "at") from None
        if at.tzinfo is None or at.utcoffset() is None:
            raise _malformed(_("Give at as an ISO 8601 date and time with offset."), "at")
    return Receipt(provider_ref, _message_id(ref), status.strip().lower(), _sane(at, now))


def zalo_signed_fields(data: dict) -> tuple[str, str]:
    """The app id and timestamp a Zalo event is signed with. Raises BadReceipt (400)."""
    fields = []
    for name in ("app_id", "timestamp"):
        value = _reference(data.get(name), name)
        if value is None:
            raise _malformed(_("The event has no %(field)s.", field=name), name)
        fields.append(value)
    return fields[0], fields[1]


def _epoch_milliseconds(value) -> datetime | None:
    if isinstance(value, str) and value.isascii() and value.strip().isdigit() and len(value.strip()) <= 14:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**14:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def zalo_receipt(data: dict, now: datetime) -> Receipt | None:
    """The receipt in a Zalo event; None for an event that is not a delivery. Raises BadReceipt
    (400) for a delivery event without the message's ids."""
    if data.get("event_name") != ZALO_DELIVERED_EVENT:
        return None
    message = data.get("message")
    if not isinstance(message, dict):
        raise _malformed(_("The event has no message."), "message")
    provider_ref = _reference(message.get("msg_id"), "message.msg_id")
    tracking_id = _reference(message.get("tracking_id"), "message.tracking_id")
    if provider_ref is None and tracking_id is None:
        raise _malformed(_("The event has neither msg_id nor tracking_id."), "message.msg_id")
    at = _sane(_epoch_milliseconds(message.get("delivery_time")), now)
    return Receipt(provider_ref, _message_id(tracking_id), "delivered", at)


# --- recording ----------------------------------------------------------------------------


def find_message(channel: str, receipt: Receipt) -> Message | None:
    """The message `receipt` is about, among those `channel` carried (or is carrying)."""
    carried = or_(Message.channel == channel, Message.channel.is_(None) & (Message.status == "sending"))
    eligible = Message.status.in_(("sending", "sent")) & carried
    if receipt.provider_ref is not None:
        message = db.session.scalar(
            select(Message).where(Message.provider_ref == receipt.provider_ref, eligible).order_by(Message.id).limit(1)
        )
        if message is not None:
            return message
    if receipt.message_id is not None:
        message = db.session.scalar(select(Message).where(Message.id == receipt.message_id, eligible))
        # Our id with another provider id on record: not this message.
        if message is not None and (
            receipt.provider_ref is None or message.provider_ref in (None, receipt.provider_ref)
        ):
            return message
    return None


def record_receipt(channel: str, receipt: Receipt, now: datetime | None = None) -> str:
    """Record what `receipt` says on its message. Returns "recorded", "unchanged" (already known:
    a repeated receipt, or "failed" after "delivered") or "unknown" (no message of `channel`
    matches). Flushes; the caller commits.

    The update is conditional in the database, so two copies of a receipt at once record it once."""
    now = now or utcnow()
    message = find_message(channel, receipt)
    if message is None:
        return "unknown"
    if receipt.status == "delivered":
        may_change = or_(Message.delivery_status.is_(None), Message.delivery_status == "failed")
        values = {"delivery_status": "delivered", "delivered_at": receipt.at or now}
    else:
        may_change = Message.delivery_status.is_(None)
        values = {"delivery_status": "failed", "delivered_at": None}
    result = db.session.execute(
        update(Message)
        .where(Message.id == message.id, may_change)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return "unchanged"
    db.session.expire(message)
    return "recorded"
