"""The channels beside e-mail that carry the outbox's messages: Zalo (the Zalo Notification
Service, ZNS) and SMS through a gateway. The outbox (app/jobs/outbox.py) chooses the channel and
keeps its guarantees; this module only talks to the providers.

Each adapter's `send` returns the provider's id of the message, or raises:

* `Refused`: this channel will never carry this message (the phone is not on Zalo, there is no
  template, the gateway refused the number or the text): the outbox tries the next channel of
  the person's order at once.
* `Unavailable`: the provider is down, timed out or answered 5xx: the outbox tries the same
  channel again later, with its backoff.

**SMS adapters.** SMS_ADAPTER names a class (dotted path) so a province can plug in its
telecom's brandname API. The class is built with the application's config and has one method::

    class MyGateway:
        def __init__(self, config: Mapping[str, object]): ...
        def send(self, to: str, text: str, ref: str) -> str: ...

`to` is the number in E.164 ("+84912345678"), `text` the short text (unaccented when SMS_ASCII
is on), `ref` the outbox message's id; it returns the gateway's message id and raises Refused or
Unavailable as above. The default, `HttpSmsGateway`, posts JSON `{"to", "text", "ref"}` (and
`"sender"`, the brandname in SMS_SENDER) to SMS_API_URL with `Authorization: Bearer SMS_API_KEY`.

**Zalo tokens.** A ZNS access token lives about a day and is renewed with a refresh token that
works once. Both are kept in the `channel_tokens` row "zalo" (seeded from ZNS_ACCESS_TOKEN and
ZNS_REFRESH_TOKEN), shared by every node; a renewal holds that row's write lock, so two nodes
never both spend the same refresh token (the second one finds the new token and uses it).
"""

from __future__ import annotations

import importlib
import json
import logging
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.db import utcnow
from app.extensions import db
from app.jobs.models import ChannelToken

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

#: Seconds to wait for a provider to connect and to answer.
HTTP_TIMEOUT = (5, 15)
#: An access token this close to its expiry is renewed before use.
TOKEN_MARGIN = timedelta(minutes=5)

#: ZNS answers (the `error` field) meaning the phone cannot get the message on Zalo: no Zalo
#: account (-118), an account that cannot receive ZNS (-119), an inactive account or one that
#: turned ZNS off or runs a Zalo too old (-114, -110), a number Zalo does not take (-108).
ZNS_NOT_REACHABLE = frozenset({-108, -110, -114, -118, -119})
#: The access token is invalid or expired: renew it and try once more.
ZNS_TOKEN_ERRORS = frozenset({-124, -216})
#: "Unknown error, try again later".
ZNS_TEMPORARY = frozenset({-100})


def describe(error: BaseException) -> str:
    """An error as the outbox keeps it (last_error) and logs it."""
    # The exception text of smtplib holds the server's reply, never our password.
    return f"{type(error).__name__}: {error}"[:500]


class ChannelError(Exception):
    """A provider did not take the message."""


class Refused(ChannelError):
    """This channel will not carry this message: try the next one."""


class NotReachable(Refused):
    """The phone is not reachable on this channel (e.g. not a Zalo user)."""


class Unavailable(ChannelError):
    """The provider cannot be reached now: try the same channel later."""


def _post(url: str, **kwargs) -> requests.Response:
    """POST with timeouts; a connection error or a timeout is Unavailable."""
    # Imported when a message goes out (mostly in the scheduler), not in every web worker.
    import requests

    try:
        return requests.post(url, timeout=HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise Unavailable(f"{type(error).__name__}: {error}") from error


def _json(response: requests.Response) -> dict:
    """The answer's JSON object; a 5xx is Unavailable, any other non-JSON answer Refused."""
    if response.status_code >= 500 or response.status_code == 429:
        raise Unavailable(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused(f"HTTP {response.status_code}: not a JSON object")
    return body


# --- settings ------------------------------------------------------------------------------


def zns_templates(config: Mapping) -> dict[str, str]:
    """ZNS_TEMPLATES read as {message kind: template id}; {} when unset or not valid JSON."""
    raw = config.get("ZNS_TEMPLATES") or ""
    if isinstance(raw, Mapping):
        parsed = raw
    else:
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except ValueError:
            log.error("ZNS_TEMPLATES is not valid JSON; Zalo is off")
            return {}
    if not isinstance(parsed, Mapping):
        return {}
    return {str(kind): str(template) for kind, template in parsed.items() if template}


def zns_configured(config: Mapping) -> bool:
    return bool(
        config.get("ZNS_API_URL")
        and (config.get("ZNS_ACCESS_TOKEN") or config.get("ZNS_REFRESH_TOKEN"))
        and zns_templates(config)
    )


def sms_configured(config: Mapping) -> bool:
    return bool(config.get("SMS_API_URL") and config.get("SMS_ADAPTER"))


def zalo_phone(e164: str | None) -> str | None:
    """The number as ZNS takes it ("84912345678"); None for a number outside Vietnam."""
    if not e164 or not e164.startswith("+84"):
        return None
    return e164[1:]


# --- SMS ------------------------------------------------------------------------------------


def plain_ascii(text: str) -> str:
    """Vietnamese text without diacritics ("Đã hủy" → "Da huy"), as brandname SMS are sent."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.encode("ascii", "ignore").decode("ascii")


class HttpSmsGateway:
    """The default SMS adapter: JSON over HTTPS with a bearer key (see the module's docstring)."""

    def __init__(self, config: Mapping):
        self.url = config["SMS_API_URL"]
        self.key = config.get("SMS_API_KEY") or ""
        self.sender = config.get("SMS_SENDER") or ""

    def send(self, to: str, text: str, ref: str) -> str:
        payload = {"to": to, "text": text, "ref": ref}
        if self.sender:
            payload["sender"] = self.sender
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        response = _post(self.url, json=payload, headers=headers)
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise Refused(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        provider_id = body.get("id") or body.get("message_id") if isinstance(body, dict) else None
        return str(provider_id or ref)[:100]


def sms_gateway(config: Mapping):
    """An instance of the class SMS_ADAPTER names."""
    module_name, _, class_name = config["SMS_ADAPTER"].rpartition(".")
    try:
        adapter = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        log.error("SMS_ADAPTER %r cannot be loaded: %s", config["SMS_ADAPTER"], error)
        raise Refused(f"SMS_ADAPTER cannot be loaded: {error}") from error
    return adapter(config)


# --- Zalo tokens ----------------------------------------------------------------------------

ZALO = "zalo"


def _token_row() -> ChannelToken:
    """The shared Zalo token row, seeded from the settings the first time. Commits."""
    row = db.session.get(ChannelToken, ZALO)
    if row is None:
        config = current_app.config
        db.session.commit()  # end the read: on SQLite a write after a stale read fails at once
        try:
            db.session.add(
                ChannelToken(
                    channel=ZALO,
                    access_token=config.get("ZNS_ACCESS_TOKEN") or None,
                    refresh_token=config.get("ZNS_REFRESH_TOKEN") or None,
                    updated_at=utcnow(),
                )
            )
            db.session.commit()
        except IntegrityError:  # another node seeded it at the same moment
            db.session.rollback()
        row = db.session.get(ChannelToken, ZALO)
    return row


def zalo_access_token(now: datetime) -> str:
    """The current access token, renewed first when it is (about to be) expired. Commits."""
    row = _token_row()
    token, expires_at = row.access_token, row.expires_at
    db.session.commit()
    if token and (expires_at is None or expires_at > now + TOKEN_MARGIN):
        return token
    return renew_zalo_token(token, now)


def renew_zalo_token(stale: str | None, now: datetime) -> str:
    """Renew the access token that failed (`stale`), once for all nodes: under the row's write
    lock, a node that finds a token other than `stale` uses it instead of spending the refresh
    token again. Stores the new access and refresh tokens. Raises Refused when Zalo refuses the
    refresh token (an operator must give a new one), Unavailable when it cannot be reached."""
    config = current_app.config
    # The UPDATE takes the row's write lock first (SQLite: the database's), then we read.
    db.session.execute(
        update(ChannelToken).where(ChannelToken.channel == ZALO).values(updated_at=ChannelToken.updated_at)
    )
    row = db.session.scalars(select(ChannelToken).where(ChannelToken.channel == ZALO).with_for_update()).one()
    db.session.refresh(row)
    fresh = row.expires_at is None or row.expires_at > now + TOKEN_MARGIN
    if row.access_token and row.access_token != stale and fresh:
        token = row.access_token
        db.session.commit()
        return token
    if not (row.refresh_token and config.get("ZNS_APP_ID") and config.get("ZNS_SECRET_KEY")):
        db.session.rollback()
        raise Refused("Zalo access token expired and no refresh token, app id or secret key to renew it")
    try:
        response = _post(
            config["ZNS_OAUTH_URL"],
            headers={"secret_key": config["ZNS_SECRET_KEY"]},
            data={"app_id": config["ZNS_APP_ID"], "refresh_token": row.refresh_token, "grant_type": "refresh_token"},
        )
        body = _json(response)
    except ChannelError:
        db.session.rollback()
        raise
    access, refresh = body.get("access_token"), body.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        db.session.rollback()
        log.error("Zalo refused to renew the access token: %s", body.get("error_description") or body.get("error"))
        raise Refused(f"Zalo token refresh refused: {body.get('error')} {body.get('error_description', '')}"[:300])
    try:
        lifetime = int(body.get("expires_in") or 0)
    except (TypeError, ValueError):
        lifetime = 0
    row.access_token, row.refresh_token = access, refresh
    row.expires_at = now + timedelta(seconds=lifetime) if lifetime > 0 else None
    row.updated_at = now
    db.session.commit()
    return access


# --- Zalo messages --------------------------------------------------------------------------


def _zns_post(url: str, token: str, payload: dict) -> dict:
    return _json(_post(url, json=payload, headers={"access_token": token}))


def send_zns(phone: str, template_id: str, data: dict, tracking_id: str, now: datetime) -> str:
    """Send one ZNS template message; returns Zalo's msg_id. Renews the access token and tries
    once more when Zalo says it is invalid or expired. Raises NotReachable (not a Zalo user),
    Refused (any other error), Unavailable (down, timeout, 5xx, "unknown error")."""
    url = current_app.config["ZNS_API_URL"]
    payload = {"phone": phone, "template_id": template_id, "template_data": data, "tracking_id": tracking_id}
    token = zalo_access_token(now)
    body = _zns_post(url, token, payload)
    if _error_code(body) in ZNS_TOKEN_ERRORS:
        token = renew_zalo_token(token, now)
        body = _zns_post(url, token, payload)
    code = _error_code(body)
    if code == 0:
        data_part = body.get("data") if isinstance(body.get("data"), dict) else {}
        return str(data_part.get("msg_id") or tracking_id)[:100]
    reason = f"ZNS error {code}: {body.get('message', '')}"[:300]
    if code in ZNS_NOT_REACHABLE:
        raise NotReachable(reason)
    if code in ZNS_TEMPORARY:
        raise Unavailable(reason)
    raise Refused(reason)


def _error_code(body: dict) -> int | None:
    code = body.get("error")
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        return None
