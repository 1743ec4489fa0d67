"""Sign-in limits: failed password checks, counted for every door that checks a password (the
sign-in page, API tokens, the current password of a password change) in the limiter's storage
(Redis in production, so every worker and machine shares them; memory in development and tests).

Three counters, each over a fixed window:

* **account and address** (`LOGIN_LIMIT_PER_ACCOUNT`, 5 per 5 minutes): that address gets no more
  tries on that account. The owner signing in from anywhere else is not affected.
* **address** (`LOGIN_LIMIT_PER_ADDRESS`, 30 per 5 minutes): one address trying many accounts.
* **account** (`LOGIN_ATTACK_PER_ACCOUNT`, 20 per hour): the account is under attack. The first
  time in a window the caller audits it and tells the owner; until the window ends, addresses
  that already failed on the account get no more tries, while an address with no failure still
  gets its own, so the owner can sign in.

A try is counted *before* the password is checked, by an atomic increment, and given back when
the password was right; so parallel requests cannot all slip under a limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, has_request_context, request
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from app.db import utcnow
from app.extensions import limiter


class TooManyAttempts(TooManyRequests):
    """No more tries for now (429). `first` is True for the first refusal of a counter's window,
    so that refusals are audited once, not once per try."""

    def __init__(self, retry_after: int, *, first: bool):
        super().__init__(retry_after=retry_after)
        self.first = first


@dataclass(frozen=True)
class Attack:
    """An account whose failures reached LOGIN_ATTACK_PER_ACCOUNT, reported once per window."""

    failures: int
    #: Names the window (its start, in seconds since the epoch divided by its length).
    window: int


def _rule(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def _key(kind: str, *parts: str) -> str:
    # Quoted, so that a typed username cannot run into an address (IPv6 has colons too).
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return ":".join([prefix, "sign-in", kind, *(quote(part, safe="") for part in parts)])


def _client_address() -> str:
    return (request.remote_addr if has_request_context() else None) or "local"


def _refusal(key: str, *, first: bool) -> TooManyAttempts:
    left = limiter.storage.get_expiry(key) - utcnow().timestamp()
    return TooManyAttempts(max(1, math.ceil(left)), first=first)


def _give_back(key: str, rule: RateLimitItem) -> None:
    if limiter.storage.get(key) > 0:
        limiter.storage.incr(key, rule.get_expiry(), -1)


@dataclass
class Attempt:
    """One try of a password, already counted; end it with `succeeded()` or `failed()`."""

    username: str
    address: str

    def succeeded(self) -> None:
        """The password was right: this address starts afresh on this account, and the try is
        given back to the address."""
        limiter.storage.clear(_key("pair", self.username, self.address))
        _give_back(_key("address", self.address), _rule("LOGIN_LIMIT_PER_ADDRESS"))

    def failed(self) -> Attack | None:
        """Count the failure against the account; an Attack the first time in a window that the
        account's failures reach LOGIN_ATTACK_PER_ACCOUNT, else None."""
        rule = _rule("LOGIN_ATTACK_PER_ACCOUNT")
        expiry = rule.get_expiry()
        failures = limiter.storage.incr(_key("account", self.username), expiry)
        if failures < rule.amount:
            return None
        # Several workers can see the threshold at once; one increment decides who reports it.
        if limiter.storage.incr(_key("attack-reported", self.username), expiry) != 1:
            return None
        return Attack(failures, int(utcnow().timestamp() // expiry))


def begin(username: str) -> Attempt:
    """Count a try of `username`'s password from the client's address before it is checked.

    Raises TooManyAttempts when this address has no tries left on this account, or on any
    account, or when the account is attacked and this address already failed on it.
    """
    storage = limiter.storage
    address = _client_address()
    per_pair = _rule("LOGIN_LIMIT_PER_ACCOUNT")
    pair = _key("pair", username, address)
    tries = storage.incr(pair, per_pair.get_expiry())
    if tries > per_pair.amount:
        raise _refusal(pair, first=tries == per_pair.amount + 1)

    attack = _rule("LOGIN_ATTACK_PER_ACCOUNT")
    account = _key("account", username)
    if tries > 1 and storage.get(account) >= attack.amount:
        refused = _key("attack-refused", username, address)
        first = storage.incr(refused, attack.get_expiry()) == 1
        raise _refusal(account, first=first)

    per_address = _rule("LOGIN_LIMIT_PER_ADDRESS")
    from_address = _key("address", address)
    used = storage.incr(from_address, per_address.get_expiry())
    if used > per_address.amount:
        _give_back(pair, per_pair)
        raise _refusal(from_address, first=used == per_address.amount + 1)
    return Attempt(username, address)
