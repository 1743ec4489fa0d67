"""iCalendar (RFC 5545) for members' phone calendars: the secret feed and one visit's download.

Events carry only what a member needs to get there: the kind of help, the place and a link to
the visit page. Residents' names, phone numbers and notes stay in the app.

icalendar is imported by the functions that build events, when a feed or a download is asked
for, not in every worker at start-up.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.links import public_url
from app.visits.models import (
    ACTIVE_VISIT_STATUSES,
    SKILL_TITLES,
    CalendarFeed,
    GroupSession,
    Visit,
)

if TYPE_CHECKING:
    from icalendar import Calendar, Event

PRODID = "-//Ky nang so//Visits//EN"
#: How far back and ahead the feed reaches.
FEED_PAST = timedelta(days=60)
FEED_AHEAD = timedelta(days=366)


def _new_token(user: User) -> str:
    # The token starts with the person's session epoch: signing out (everywhere), a new
    # password or a one-time password raise the epoch, and the feed then stops at once.
    return f"{user.session_epoch}_{secrets.token_urlsafe(32)}"


def _is_current(feed: CalendarFeed, user: User) -> bool:
    return feed.token.startswith(f"{user.session_epoch}_")


def feed_for(user: User) -> CalendarFeed:
    """The member's feed, with a fresh secret token on first use and after the person's sessions
    were ended (the old address stopped working then)."""
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token=_new_token(user))
        db.session.add(feed)
        db.session.flush()
    elif not _is_current(feed, user):
        feed.token = _new_token(user)
        feed.created_at = utcnow()
        db.session.flush()
    return feed


def rotate_token(user: User) -> CalendarFeed:
    """Give the feed a new secret address; the old one stops working at once."""
    feed = feed_for(user)
    feed.token = _new_token(user)
    feed.created_at = utcnow()
    db.session.flush()
    return feed


def set_visit_address_in_notices(user: User, shown: bool) -> None:
    """The member's choice: home addresses of visits in their calendar feed and e-mails about
    visits (True), or the village only (False, the default)."""
    user.visit_address_in_notices = bool(shown)
    db.session.flush()


def feed_owner(token: str) -> User | None:
    """The active tech-team member whose current feed has this token, or None."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(
        select(User, CalendarFeed)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token == token)
    ).first()
    if row is None:
        return None
    user, feed = row
    if not user.active or user.role != "tech_team" or not _is_current(feed, user):
        return None
    return user


def _location(place: str, unit) -> str:
    return f"{place}, {unit.display_name}" if unit is not None else place


def _new_calendar(name: str) -> Calendar:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    return calendar


def _add_link(event: Event, link: str | None) -> None:
    """The page of the event, when the site's public address is known."""
    if link:
        event.add("url", link)
        event.add("description", _("Details: %(link)s", link=link))


def visit_event(visit: Visit, uid_domain: str, stamp, *, with_address: bool = False) -> Event:
    """The visit as an event. Its place is often a home address and calendars live at outside
    services: the event names the village only, unless the member chose to see addresses
    (`with_address`, their `visit_address_in_notices`)."""
    from icalendar import Event

    event = Event()
    event.add("uid", f"visit-{visit.id}@{uid_domain}")
    event.add("dtstamp", stamp)
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    place = visit.place if with_address else visit.unit.display_name
    event.add("summary", _("%(skill)s — %(place)s", skill=SKILL_TITLES[visit.skill], place=place))
    event.add("location", _location(visit.place, visit.unit) if with_address else place)
    _add_link(event, public_url(url_for("visits.visit_detail", visit_id=visit.id)))
    event.add("status", "CANCELLED" if visit.status in ("cancelled", "no_show") else "CONFIRMED")
    return event


def session_event(session: GroupSession, uid_domain: str, stamp) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", f"session-{session.id}@{uid_domain}")
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", _("Group session: %(title)s — %(place)s", title=session.title, place=session.place))
    event.add("location", _location(session.place, session.unit))
    _add_link(event, public_url(url_for("visits.session_detail", session_id=session.id)))
    event.add("status", "CONFIRMED")
    return event


def member_calendar(user: User, uid_domain: str) -> bytes:
    """The member's active visits and hosted sessions, in the member's own language."""
    now = utcnow()
    start, end = now - FEED_PAST, now + FEED_AHEAD
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.member_id == user.id,
            Visit.status.in_(ACTIVE_VISIT_STATUSES),
            Visit.ends_at > start,
            Visit.starts_at < end,
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    sessions = db.session.scalars(
        select(GroupSession)
        .where(
            GroupSession.host_id == user.id,
            GroupSession.cancelled_at.is_(None),
            GroupSession.ends_at > start,
            GroupSession.starts_at < end,
        )
        .order_by(GroupSession.starts_at, GroupSession.id)
    ).all()
    stamp = now.replace(microsecond=0)
    with force_locale(user.locale or "vi"):
        calendar = _new_calendar(_("Digital skills: my visits"))
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
        for visit in visits:
            calendar.add_component(visit_event(visit, uid_domain, stamp, with_address=user.visit_address_in_notices))
        for session in sessions:
            calendar.add_component(session_event(session, uid_domain, stamp))
        return calendar.to_ical()


def visit_calendar(visit: Visit, uid_domain: str, *, with_address: bool = False) -> bytes:
    """One visit, for the "add to my calendar" download (in the viewer's language)."""
    calendar = _new_calendar(_("Digital skills visit"))
    stamp = utcnow().replace(microsecond=0)
    calendar.add_component(visit_event(visit, uid_domain, stamp, with_address=with_address))
    return calendar.to_ical()
