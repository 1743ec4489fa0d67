"""The delivery-receipt webhooks of the message providers (see app.jobs.receipts for the formats).

Each answers in JSON:

* 200 `{"recorded": true}` — the receipt changed the message; `{"recorded": false}` — it was
  already known (a repeat, or "failed" after "delivered"); `{"ignored": true}` — no message this
  channel carried has these ids, or (Zalo) the event is not a delivery. Unknown messages answer
  200, not 404, so that a provider does not retry a receipt for a message the outbox no longer
  holds (e.g. removed by retention);
* 400 a body that cannot be read, 401 a missing or wrong signature, 413 a body over 16 KB,
  429 too many receipts (RECEIPT_RATE_LIMIT) or too many refused ones (RECEIPT_FAILURE_LIMIT)
  from one address;
* 404 for everything while the channel's secret (SMS_RECEIPT_SECRET, ZALO_RECEIPT_SECRET) is
  not set, so an installation that skipped that step takes no receipts.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.db import utcnow
from app.exceptions import DomainError
from app.extensions import db, limiter
from app.jobs import receipts
from app.jobs.blueprint import hooks_bp


class BadSignature(DomainError):
    """A receipt without its provider's valid signature (401)."""

    status = 401
    code = "bad_signature"


def _receipt_limit() -> str:
    return current_app.config["RECEIPT_RATE_LIMIT"]


def _failure_limit() -> str:
    return current_app.config["RECEIPT_FAILURE_LIMIT"]


def _refused(response) -> bool:
    return response.status_code in (400, 401, 413)


def _secret(setting: str) -> str:
    secret = current_app.config.get(setting) or ""
    if not secret:
        abort(404)
    return secret


def _body() -> bytes:
    """The raw body, at most MAX_RECEIPT_BYTES (413 beyond)."""
    too_large = _("A receipt may be at most %(size)d KB.", size=receipts.MAX_RECEIPT_BYTES // 1024)
    if request.content_length is not None and request.content_length > receipts.MAX_RECEIPT_BYTES:
        raise RequestEntityTooLarge(too_large)
    request.max_content_length = receipts.MAX_RECEIPT_BYTES
    body = request.get_data(cache=True)
    if len(body) > receipts.MAX_RECEIPT_BYTES:
        raise RequestEntityTooLarge(too_large)
    return body


def _answer(channel: str, receipt: receipts.Receipt | None, now):
    outcome = receipts.record_receipt(channel, receipt, now) if receipt is not None else "unknown"
    db.session.commit()
    if outcome == "unknown":
        return jsonify(ignored=True)
    return jsonify(recorded=outcome == "recorded")


def _bad_signature() -> BadSignature:
    return BadSignature(_("The receipt's signature is missing or wrong."))


@hooks_bp.route("/messages/sms", methods=["POST"])
@limiter.limit(_receipt_limit)
@limiter.limit(_failure_limit, deduct_when=_refused)
def sms_receipt():
    secret = _secret("SMS_RECEIPT_SECRET")
    body = _body()
    if not receipts.sms_signature_ok(body, request.headers.get("X-Signature"), secret):
        raise _bad_signature()
    now = utcnow()
    return _answer("sms", receipts.sms_receipt(receipts.json_object(body), now), now)


@hooks_bp.route("/messages/zalo", methods=["POST"])
@limiter.limit(_receipt_limit)
@limiter.limit(_failure_limit, deduct_when=_refused)
def zalo_receipt():
    secret = _secret("ZALO_RECEIPT_SECRET")
    body = _body()
    header = request.headers.get("X-ZEvent-Signature")
    if not receipts.signature_present(header, "mac="):
        raise _bad_signature()
    data = receipts.json_object(body)
    app_id, timestamp = receipts.zalo_signed_fields(data)
    if not receipts.zalo_signature_ok(body, header, app_id, timestamp, secret):
        raise _bad_signature()
    now = utcnow()
    return _answer("zalo", receipts.zalo_receipt(data, now), now)
