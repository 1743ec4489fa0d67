"""The scheduled jobs that write messages into the outbox.

Each job takes only `now` (no ORM objects), runs in an application context, flushes, and leaves
the commit to its caller (the scheduler or `flask jobs run-once`). Each message has a unique key,
so running a job twice — or two schedulers at once — creates every message once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.jobs.models import Message
from app.jobs.outbox import enqueue, existing_keys
from app.outcomes.models import FollowUp
from app.units.models import Unit
from app.visits.availability import LOCAL
from app.visits.models import SKILL_TITLES, HelpRequest, Team, TeamMember, Visit

REMINDER_LEADS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
NUDGE_AFTER = timedelta(hours=48)
#: Visits left "booked" for longer than this are not nudged about any more.
NUDGE_LOOKBACK = timedelta(days=14)
#: The first digest of a person covers this much; later ones start at the previous digest.
FIRST_DIGEST_COVERS = timedelta(hours=24)
DIGEST_MAX_COVERS = timedelta(days=7)

#: Pages the in-app notifications link to (endpoint, argument name for the id).
VISIT_PAGE = ("visits.visit_detail", "visit_id")
TRIAGE_PAGE = "visits.triage"
FOLLOW_UPS_PAGE = "outcomes.follow_ups"


def page_link(endpoint: str, **values) -> str | None:
    """The path of a page, built without a request (jobs run outside one); None if the page does
    not exist."""
    adapter = current_app.url_map.bind(
        current_app.config.get("SERVER_NAME") or "localhost",
        script_name=current_app.config.get("APPLICATION_ROOT") or "/",
    )
    try:
        return adapter.build(endpoint, values)
    except BuildError:
        return None


def _visit_link(visit: Visit) -> str | None:
    endpoint, argument = VISIT_PAGE
    return page_link(endpoint, **{argument: visit.id})


def _person_name(visit: Visit) -> str:
    if visit.request is not None:
        return visit.request.name
    return visit.resident.full_name if visit.resident is not None else ""


def enqueue_visit_reminders(now: datetime | None = None) -> int:
    """Remind the member (and the resident, when they have an account with an e-mail address)
    of each booked visit starting within 24 hours, and again within the last hour. A visit
    booked less than an hour ahead gets only the one-hour reminder. The key holds the start
    time, so a rescheduled visit is reminded of again. Returns the number of messages created."""
    now = now or utcnow()
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.status == "booked",
            Visit.starts_at > now,
            Visit.starts_at <= now + REMINDER_LEADS["24h"],
        )
        .options(
            selectinload(Visit.member),
            selectinload(Visit.resident),
            selectinload(Visit.request),
            selectinload(Visit.unit),
        )
        .order_by(Visit.starts_at, Visit.id)
    ).all()
    planned = []
    for visit in visits:
        lead = "1h" if visit.starts_at - now <= REMINDER_LEADS["1h"] else "24h"
        stamp = visit.starts_at.strftime("%Y%m%dT%H%MZ")
        planned.append((f"visit-{lead}:{visit.id}:{visit.member_id}:{stamp}", visit, visit.member, lead))
        resident = visit.resident
        if resident is not None and resident.email:
            planned.append((f"visit-{lead}:{visit.id}:{resident.id}:{stamp}", visit, resident, lead))

    done = existing_keys([key for key, *_ in planned])
    created = 0
    for key, visit, person, lead in planned:
        if key in done:
            continue
        template = "visit_reminder_member" if person.id == visit.member_id else "visit_reminder_resident"
        message = enqueue(
            key,
            person,
            template,
            link=_visit_link(visit),
            now=now,
            visit=visit,
            soon=lead == "1h",
            skill=SKILL_TITLES[visit.skill],
            person_name=_person_name(visit),
        )
        created += message is not None
    db.session.flush()
    return created


def _digest_recipients() -> dict[int, tuple[User, set[str]]]:
    """Everyone who gets a digest, with the paths of the communes they cover: the members of
    each team, and the commune managers of the communes that have a team."""
    teams = db.session.scalars(
        select(Team).options(selectinload(Team.unit), selectinload(Team.members).selectinload(TeamMember.user))
    ).all()
    recipients: dict[int, tuple[User, set[str]]] = {}
    communes: dict[int, Unit] = {}
    for team in teams:
        commune = team.unit.commune() or team.unit
        communes[commune.id] = commune
        for membership in team.members:
            if membership.user.active:
                recipients.setdefault(membership.user_id, (membership.user, set()))[1].add(commune.path)
    if communes:
        managers = db.session.scalars(
            select(User).where(User.role == "commune_manager", User.active.is_(True), User.unit_id.in_(list(communes)))
        )
        for manager in managers:
            recipients.setdefault(manager.id, (manager, set()))[1].add(communes[manager.unit_id].path)
    return recipients


def enqueue_daily_digests(now: datetime | None = None) -> int:
    """Send each team member and commune manager the help requests filed in their commune since
    their previous digest (still new), once per local day; nobody gets an empty digest.
    Returns the number of digests created."""
    now = now or utcnow()
    today = now.astimezone(LOCAL).date()
    recipients = _digest_recipients()
    if not recipients:
        return 0
    keys = {user_id: f"digest:{user_id}:{today.isoformat()}" for user_id in recipients}
    done = existing_keys(list(keys.values()))
    previous = dict(
        db.session.execute(
            select(Message.user_id, func.max(Message.created_at))
            .where(Message.key.like("digest:%"), Message.user_id.in_(list(recipients)))
            .group_by(Message.user_id)
        ).all()
    )
    oldest = now - DIGEST_MAX_COVERS
    requests = db.session.scalars(
        select(HelpRequest)
        .where(HelpRequest.status == "new", HelpRequest.created_at > oldest, HelpRequest.created_at <= now)
        .options(selectinload(HelpRequest.unit))
        .order_by(HelpRequest.created_at, HelpRequest.id)
    ).all()

    created = 0
    for user_id, (user, paths) in recipients.items():
        if keys[user_id] in done:
            continue
        since = previous.get(user_id)
        since = max(since, oldest) if since is not None else now - FIRST_DIGEST_COVERS
        items = [
            request
            for request in requests
            if request.created_at > since and any(request.unit.path.startswith(path) for path in paths)
        ]
        if not items:
            continue
        message = enqueue(
            keys[user_id],
            user,
            "daily_digest",
            link=page_link(TRIAGE_PAGE),
            now=now,
            requests=items,
            day=today,
            skill_titles=SKILL_TITLES,
        )
        created += message is not None
    db.session.flush()
    return created


def enqueue_outcome_nudges(now: datetime | None = None) -> int:
    """Ask the member to record the outcome of each visit still "booked" 48 hours after its
    end (visits older than two weeks are left alone). Returns the number of nudges created."""
    now = now or utcnow()
    visits = db.session.scalars(
        select(Visit)
        .where(
            Visit.status == "booked",
            Visit.ends_at < now - NUDGE_AFTER,
            Visit.ends_at >= now - NUDGE_AFTER - NUDGE_LOOKBACK,
        )
        .options(selectinload(Visit.member), selectinload(Visit.request), selectinload(Visit.unit))
        .order_by(Visit.ends_at, Visit.id)
    ).all()
    keys = {visit.id: f"nudge:{visit.id}" for visit in visits}
    done = existing_keys(list(keys.values()))
    created = 0
    for visit in visits:
        if keys[visit.id] in done:
            continue
        message = enqueue(
            keys[visit.id],
            visit.member,
            "outcome_nudge",
            link=_visit_link(visit),
            now=now,
            visit=visit,
            skill=SKILL_TITLES[visit.skill],
            person_name=_person_name(visit),
        )
        created += message is not None
    db.session.flush()
    return created


def enqueue_follow_up_reminders(now: datetime | None = None) -> int:
    """Remind the assigned member of each open follow-up due today (local time) or overdue, once
    per due date: the key holds the date, so a follow-up moved to a later date is reminded of
    again on that day. Returns the number of reminders created."""
    now = now or utcnow()
    today = now.astimezone(LOCAL).date()
    follow_ups = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.status == "open", FollowUp.due_on <= today, FollowUp.assigned_to_id.is_not(None))
        .options(selectinload(FollowUp.assigned_to), selectinload(FollowUp.resident), selectinload(FollowUp.unit))
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    keys = {item.id: f"follow-up:{item.id}:{item.due_on.isoformat()}" for item in follow_ups}
    done = existing_keys(list(keys.values()))
    created = 0
    for item in follow_ups:
        if keys[item.id] in done:
            continue
        message = enqueue(
            keys[item.id],
            item.assigned_to,
            "follow_up_reminder",
            link=page_link(FOLLOW_UPS_PAGE),
            now=now,
            follow_up=item,
            overdue=item.due_on < today,
            person_name=item.resident.full_name if item.resident is not None else "",
        )
        created += message is not None
    db.session.flush()
    return created
