"""A forgotten password: a 6-digit code sent to the person, then a new password, without a manager.

`start_recovery` finds the account a username, phone number or e-mail address names and queues a
code through the outbox (`recovery_code`: Zalo or SMS to the phone, or e-mail, by the person's
channels). `confirm_recovery` checks the code and sets the new password. The page and the API
call both. Managers' one-time passwords (app/auth/operations.py) stay for people with no phone
and no e-mail.

* A code is 6 digits, valid for CODE_MINUTES (10) minutes and for MAX_TRIES (5) wrong tries; a
  new request ends the open one. Only an HMAC of the account and the code under the server's
  secret key is stored, and the check compares in constant time.
* Limits, counted in the limiter's storage like the sign-in limits (app/auth/limits.py: Redis in
  production, so every worker and machine shares them): RECOVERY_LIMIT_PER_ACCOUNT (3 per hour)
  codes sent to one account and RECOVERY_LIMIT_PER_ADDRESS (10 per hour) requests from one
  address — above either the answer is the same as always, and no code is sent;
  RECOVERY_TRIES_PER_ADDRESS (20 per hour) codes typed from one address — above it, 429.
* An unknown account gets the same answer, after the same work: a code is made and hashed, the
  limits count it, and a stand-in in the limiter's storage remembers for 10 minutes that a code
  was asked, so that typing codes for it answers as for a real account ("wrong, tries left",
  then "no longer valid", "expired").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItem, parse
from sqlalchemy import func, select, update

from app.audit.operations import record
from app.auth.limits import TooManyAttempts
from app.auth.models import RecoveryCode, User
from app.auth.operations import check_new_password
from app.db import utcnow
from app.exceptions import Invalid
from app.extensions import db, limiter
from app.jobs.outbox import enqueue, send_now
from app.phones import TYPED_NUMBER, normalise_phone

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_TRIES = 5
#: The longest login read: an e-mail address can have 254 characters.
MAX_LOGIN_LENGTH = 254
MAX_PASSWORD_LENGTH = 200


# --- reading what was typed --------------------------------------------------------------------


def read_login(login) -> str:
    """The login as typed, trimmed; raises Invalid (field "login") when it is empty or not text."""
    if not isinstance(login, str) or "\x00" in login or not login.strip() or len(login) > MAX_LOGIN_LENGTH:
        raise Invalid(_("Enter your username, phone number or e-mail address."), field="login")
    return login.strip()


def read_code(code) -> str:
    """The 6 digits, spaces removed; raises Invalid (field "code") otherwise."""
    digits = code.replace(" ", "").replace("-", "") if isinstance(code, str) else ""
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        raise Invalid(_("Enter the 6-digit code from the message."), field="code")
    return digits


def _read_new_password(password) -> str:
    if not isinstance(password, str) or "\x00" in password or not password:
        raise Invalid(_("Enter a new password."), field="new_password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(
            _("The password is too long: at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), field="new_password"
        )
    return password


def find_account(login: str) -> User | None:
    """The active, not erased account that `login` names: its username, else its e-mail address,
    else its phone number in any format. None when there is none, or when the address or number
    belongs to more than one account (a code could not say whose password to change)."""
    accounts = select(User).where(User.active.is_(True), User.erased_at.is_(None))
    name = login.lower()
    user = db.session.scalar(accounts.where(User.username == name[:64]))
    if user is not None:
        return user
    if "@" in login:
        matches = db.session.scalars(accounts.where(func.lower(User.email) == name).limit(2)).all()
    elif TYPED_NUMBER.match(login):
        try:
            phone = normalise_phone(login, field="login")
        except Invalid:
            return None
        matches = db.session.scalars(accounts.where(User.phone == phone).limit(2)).all()
    else:
        return None
    return matches[0] if len(matches) == 1 else None


# --- codes and counters ----------------------------------------------------------------------


def _digest(subject: str, code: str) -> str:
    """HMAC-SHA256 of whose code it is and the code, under the server's secret key."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"recovery:{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def _subject(user: User | None, login: str) -> str:
    """Whose counters: the account's id, or for an unknown account a keyed hash of the login (the
    limiter's storage never holds what was typed)."""
    if user is not None:
        return f"user-{user.id}"
    return "login-" + _digest("login", login.lower())[:32]


def _key(kind: str, subject: str) -> str:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return ":".join([prefix, "recovery", kind, quote(subject, safe="")])


def _count(kind: str, setting: str, subject: str) -> tuple[str, int, RateLimitItem]:
    """Count one more under the limit `setting`: (its key, the count, the rule)."""
    rule = parse(current_app.config[setting])
    key = _key(kind, subject)
    return key, limiter.storage.incr(key, rule.get_expiry()), rule


def _refusal(key: str, *, first: bool) -> TooManyAttempts:
    left = limiter.storage.get_expiry(key) - utcnow().timestamp()
    return TooManyAttempts(max(1, math.ceil(left)), first=first)


def _wrong(left: int) -> Invalid:
    return Invalid(_("The code is wrong. Tries left: %(n)d.", n=left), field="code")


def _dead() -> Invalid:
    return Invalid(
        _("This code can no longer be used after %(n)d wrong tries. Ask for a new one.", n=MAX_TRIES), field="code"
    )


def _expired() -> Invalid:
    return Invalid(_("The code has expired or was already used. Ask for a new one."), field="code")


# --- asking for a code -----------------------------------------------------------------------


def start_recovery(login, address: str | None, now: datetime) -> RecoveryCode | None:
    """Send a new 6-digit code to the account that `login` names (username, phone or e-mail).

    The caller answers the same whatever this returns: the new code's record when a code was
    queued for the person (to hand it to the sender at once), or None — unknown account, account
    or address over its limit, message not allowed. The open code of the account ends. Audited.
    Raises Invalid (field "login") only when `login` is empty or not text. Flushes; the caller
    commits.
    """
    login = read_login(login)
    address = (address or "local")[:64]
    user = find_account(login)
    subject = _subject(user, login)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    code_hash = _digest(subject, code)  # for an unknown account too: the same work

    limit, (_key_used, asked, rule) = "address", _count("address", "RECOVERY_LIMIT_PER_ADDRESS", address)
    if asked <= rule.amount:
        limit, (_key_used, asked, rule) = "account", _count("account", "RECOVERY_LIMIT_PER_ACCOUNT", subject)
    if asked > rule.amount:
        if asked == rule.amount + 1:  # audited once per window
            username = None if user else login[:64]
            record("recovery_throttled", target=user, username=username, details={"limit": limit})
        return None

    if user is None:
        record("recovery_requested", username=login[:64])
        # The stand-in of an open code, with no tries yet.
        limiter.storage.clear(_key("stand-in-tries", subject))
        limiter.storage.clear(_key("stand-in", subject))
        limiter.storage.incr(_key("stand-in", subject), CODE_MINUTES * 60)
        return None

    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None), RecoveryCode.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    entry = RecoveryCode(
        user_id=user.id,
        code_hash=code_hash,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
        tries=0,
        requested_from=address,
    )
    db.session.add(entry)
    db.session.flush()
    enqueue(recovery_message_key(entry), user, "recovery_code", now=now, code=code, minutes=CODE_MINUTES)
    record("recovery_requested", target=user)
    return entry


def hand_over_after(response, entry: RecoveryCode):
    """Once `response` has gone out, give the code of `entry` (just queued) to the outbox's
    sender, so the person need not wait for the scheduler's next run. Only that message: the
    rest of the queue is the scheduler's. After the answer, so that how long the answer takes
    does not tell whether the account exists. Returns `response`."""
    app = current_app._get_current_object()
    key = recovery_message_key(entry)

    def hand_over() -> None:
        with app.app_context():
            try:
                send_now(key)
            except Exception:  # the scheduler's next run sends it; the person was answered already
                log.exception("handing a recovery code to the sender failed")
                db.session.rollback()

    response.call_on_close(hand_over)
    return response


def recovery_message_key(entry: RecoveryCode) -> str:
    """The outbox key of the message carrying `entry`'s code."""
    return f"recovery-code:{entry.id}"


# --- typing the code ---------------------------------------------------------------------------


def confirm_recovery(login, code, new_password, address: str | None, now: datetime) -> User:
    """Check the code sent for `login` and set `new_password`; returns the account.

    Then must_change_password is cleared, every session and API token of the account ends, the
    code is used, and it is audited. Raises Invalid (422; field "code", "login" or
    "new_password") for a wrong code with the tries left, a code dead after MAX_TRIES wrong tries,
    an expired or used code, or a new password app/auth/passwords.py refuses (that try is not
    counted); limits.TooManyAttempts (429) when this address has typed too many codes. A wrong try
    is committed at once, so that it counts whatever the request does next. Flushes on success;
    the caller commits.
    """
    login = read_login(login)
    code = read_code(code)
    new_password = _read_new_password(new_password)
    address = (address or "local")[:64]

    tries_key, tried, per_address = _count("tries", "RECOVERY_TRIES_PER_ADDRESS", address)
    if tried > per_address.amount:
        if tried == per_address.amount + 1:
            record("recovery_throttled", username=login[:64], details={"limit": "tries"})
            db.session.commit()
        raise _refusal(tries_key, first=tried == per_address.amount + 1)

    user = find_account(login)
    entry = None
    if user is not None:
        entry = db.session.scalar(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id).order_by(RecoveryCode.id.desc()).limit(1)
        )
    if entry is None or entry.used_at is not None:
        _no_open_code(user, login)
    # Expiry first: a code that died of wrong tries later reads "expired", as the stand-in does.
    if entry.expires_at <= now:
        raise _expired()
    if entry.tries >= MAX_TRIES:
        raise _dead()

    # Counted before the comparison, by one atomic update, so parallel tries cannot pass the limit.
    counted = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == entry.id, RecoveryCode.tries < MAX_TRIES, RecoveryCode.used_at.is_(None))
        .values(tries=RecoveryCode.tries + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        raise _dead()
    if not hmac.compare_digest(entry.code_hash, _digest(_subject(user, login), code)):
        db.session.refresh(entry)
        left = MAX_TRIES - entry.tries
        if left > 0:
            record("recovery_failed", target=user, details={"tries_left": left})
        else:
            record("recovery_locked", target=user, details={"tries_left": 0})
        db.session.commit()
        raise _wrong(left) if left > 0 else _dead()

    # The right code: the try is not counted (a refused password rolls the count back too).
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == entry.id)
        .values(tries=RecoveryCode.tries - 1)
        .execution_options(synchronize_session=False)
    )
    if limiter.storage.get(tries_key) > 0:
        limiter.storage.incr(tries_key, per_address.get_expiry(), -1)
    check_new_password(user, new_password)
    user.set_password(new_password)
    user.must_change_password = False
    user.end_sessions()
    db.session.refresh(entry)
    entry.used_at = now
    record("password_recovered", actor=user, target=user)
    db.session.flush()
    return user


def _no_open_code(user: User | None, login: str) -> None:
    """No code is open for the account: for an unknown account that asked within 10 minutes, the
    stand-in answers as a real code would; otherwise "expired". Always raises Invalid."""
    subject = _subject(user, login)
    if user is None and limiter.storage.get(_key("stand-in", subject)) > 0:
        tries = limiter.storage.incr(_key("stand-in-tries", subject), CODE_MINUTES * 60)
        if tries > MAX_TRIES:
            raise _dead()
        left = MAX_TRIES - tries
        record("recovery_failed" if left else "recovery_locked", username=login[:64], details={"tries_left": left})
        db.session.commit()
        raise _wrong(left) if left else _dead()
    raise _expired()
