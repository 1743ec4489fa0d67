"""How a person is reached: their phone and the order of channels their messages go by (My
account and `PATCH /api/v1/me` both call `update_contact`)."""

from __future__ import annotations

from flask_babel import gettext as _

from app.auth.models import User
from app.exceptions import Invalid
from app.jobs.models import CHANNELS
from app.jobs.routing import parse_channels
from app.phones import normalise_phone

#: "Not given" (None means "clear" for the phone).
UNCHANGED = object()
#: Channels that need a phone number.
PHONE_CHANNELS = ("zalo", "sms")


def preferred_channels(user: User) -> list[str]:
    """The person's channel order as a list ([] when they chose none: the default order)."""
    return parse_channels(user.preferred_channels) or []


def check_channels(value, *, phone: str | None, email: str | None, field: str = "preferred_channels") -> list[str]:
    """A channel order as given: a list of distinct names from CHANNELS, zalo and sms only with
    a phone, email only with an address. Raises Invalid on `field`."""
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise Invalid(_('Give the channels as a list, e.g. ["zalo", "sms", "in_app"].'), field=field)
    unknown = [name for name in value if name not in CHANNELS]
    if unknown:
        raise Invalid(
            _("Unknown channel. Choose from: %(channels)s.", channels=", ".join(CHANNELS)),
            field=field,
        )
    if len(set(value)) != len(value):
        raise Invalid(_("Name each channel once."), field=field)
    if not phone and any(name in PHONE_CHANNELS for name in value):
        raise Invalid(_("Zalo and SMS need a phone number. Enter your phone number first."), field=field)
    if not email and "email" in value:
        raise Invalid(_("E-mail needs an e-mail address on your account."), field=field)
    return list(value)


def update_contact(user: User, *, phone=UNCHANGED, channels=UNCHANGED) -> None:
    """Change the person's phone (any format app.phones reads; None or "" removes it) and/or
    their channel order (a list; [] goes back to the default: e-mail when there is an address,
    else in-app). Raises Invalid on "phone" or "preferred_channels"; nothing is changed then."""
    new_phone = user.phone
    if phone is not UNCHANGED:
        if phone is not None and not isinstance(phone, str):
            raise Invalid(_("Enter the phone number as digits, for example 0912 345 678."), field="phone")
        new_phone = normalise_phone(phone)
    if channels is UNCHANGED:
        new_channels = preferred_channels(user)
        if not new_phone and any(name in PHONE_CHANNELS for name in new_channels):
            raise Invalid(
                _("Your messages go by Zalo or SMS: choose other channels before removing the phone number."),
                field="phone",
            )
    else:
        new_channels = check_channels(channels, phone=new_phone, email=(user.email or "").strip() or None)
    user.phone = new_phone
    user.preferred_channels = ",".join(new_channels) or None
