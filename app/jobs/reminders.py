"""The scheduled jobs that write messages into the outbox.

Each job takes only `now` (no ORM objects), runs in an application context, flushes, and leaves
the commit to its caller (the scheduler or `flask jobs run-once`). Each message has a unique key,
so running a job twice — or two schedulers at once — creates every message once.

What the messages say of a visit comes from app.visits.wording, the managers' weekly figures
from app.reports.digest.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import format_decimal
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import authz
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.jobs.models import Message
from app.jobs.outbox import enqueue, existing_keys, page_link
from app.jobs.routing import channel_order
from app.learning.assignments import overdue_assignees
from app.learning.models import Assignment
from app.outcomes.models import FollowUp
from app.reports.digest import manager_digest_figures, waiting_by_child
from app.reports.promise import promise_by_unit
from app.reports.summaries import week_of
from app.units.models import Unit
from app.visits.models import SKILL_TITLES, HelpRequest, Team, TeamMember, Visit
from app.visits.wording import REMINDER_LEADS, visit_link, visit_person_name, visit_reminder_prefix

NUDGE_AFTER = timedelta(hours=48)
#: Visits left "booked" for longer than this are not nudged about any more.
NUDGE_LOOKBACK = timedelta(days=14)
#: The first digest of a person covers this much; later ones start at the previous digest.
FIRST_DIGEST_COVERS = timedelta(hours=24)
DIGEST_MAX_COVERS = timedelta(days=7)

#: Pages the in-app notifications link to (besides the visit's page, app.visits.wording).
TRIAGE_PAGE = "visits.triage"
FOLLOW_UPS_PAGE = "outcomes.follow_ups"


def enqueue_visit_reminders(now: datetime | None = None) -> int:
    """Remind the member (and the resident, when they have an account and a way to be reached
    outside the app: e-mail, or Zalo or SMS by their preferred channels)
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
        prefix = visit_reminder_prefix(lead, visit.id)
        planned.append((f"{prefix}{visit.member_id}:{stamp}", visit, visit.member, lead))
        resident = visit.resident
        if resident is not None and channel_order(resident):
            planned.append((f"{prefix}{resident.id}:{stamp}", visit, resident, lead))

    done = existing_keys([key for key, *_ in planned])
    created = 0
    for key, visit, person, lead in planned:
        if key in done:
            continue
        is_member = person.id == visit.member_id
        message = enqueue(
            key,
            person,
            "visit_reminder_member" if is_member else "visit_reminder_resident",
            link=visit_link(visit),
            now=now,
            purpose=None if is_member else "help_visits",
            visit=visit,
            soon=lead == "1h",
            skill=SKILL_TITLES[visit.skill],
            person_name=visit_person_name(visit),
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
    today = now.astimezone(LOCAL_TZ).date()
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
            link=visit_link(visit),
            now=now,
            visit=visit,
            skill=SKILL_TITLES[visit.skill],
            person_name=visit_person_name(visit),
        )
        created += message is not None
    db.session.flush()
    return created


def enqueue_follow_up_reminders(now: datetime | None = None) -> int:
    """Remind the assigned member of each open follow-up due today (local time) or overdue, once
    per due date: the key holds the date, so a follow-up moved to a later date is reminded of
    again on that day. Returns the number of reminders created."""
    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ).date()
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
        if keys[item.id] in done or (item.resident is not None and item.resident.restricted_at is not None):
            continue  # reminded already, or about a person whose processing is restricted
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


# --- weekly digest for managers -------------------------------------------------------------

#: How many communes (or villages) with the most waiting requests the weekly digest names.
MANAGER_DIGEST_TOP = 3


def _manager_digest_recipients() -> list[tuple[User, Unit]]:
    """Active department managers with their province (the top of their unit's tree, else the
    first province), and active commune managers with their commune (their area in app.authz)."""
    managers = db.session.scalars(
        select(User)
        .where(User.role.in_(("department_manager", "commune_manager")), User.active.is_(True))
        .options(selectinload(User.unit))
        .order_by(User.id)
    ).all()
    if not managers:
        return []
    provinces = {
        unit.code: unit for unit in db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))
    }
    first_province = next(iter(provinces.values()), None)
    recipients = []
    for manager in managers:
        if manager.role == "commune_manager":
            if manager.unit is None:
                continue
            area = authz.scope_root(manager)
        else:
            top_code = manager.unit.path.strip("/").split("/")[0] if manager.unit is not None else None
            area = provinces.get(top_code, first_province)
        if area is not None:
            recipients.append((manager, area))
    return recipients


def enqueue_weekly_manager_digests(now: datetime | None = None) -> int:
    """Send each active department manager (the province's figures) and commune manager (their
    commune's) a summary of last week — Monday to Sunday, local time: courses completed, new
    learners, help requests, visits done, median wait and share resolved, each against the week
    before; the share of last week's requests contacted within their team's promise to call
    (app.reports.promise, as of now) — and the communes (or villages) with the most requests
    waiting. Scheduled on Monday
    mornings; run on any day it reports the last complete week. The key holds that week's Monday,
    so each manager gets it once. Returns the number of digests created."""
    now = now or utcnow()
    week = week_of(now) - timedelta(weeks=1)
    week_before = week - timedelta(weeks=1)
    recipients = _manager_digest_recipients()
    if not recipients:
        return 0
    keys = {user.id: f"manager-digest:{user.id}:{week.isoformat()}" for user, _area in recipients}
    done = existing_keys(list(keys.values()))
    recipients = [(user, area) for user, area in recipients if keys[user.id] not in done]
    if not recipients:
        return 0
    areas = list({area.id: area for _user, area in recipients}.values())
    figures = manager_digest_figures([area.id for area in areas], [week, week_before])
    waiting = waiting_by_child(areas)
    week_start = datetime.combine(week, time(0), tzinfo=LOCAL_TZ)
    promise = promise_by_unit(areas, week_start, week_start + timedelta(weeks=1), now=now)
    created = 0
    for user, area in recipients:
        if area.level <= 1:
            link = page_link("reports.dashboard", unit=area.code)
        else:
            link = page_link("reports.commune", code=area.code)
        message = enqueue(
            keys[user.id],
            user,
            "manager_digest",
            link=link,
            now=now,
            area=area,
            week=week,
            week_end=week + timedelta(days=6),
            current=figures[(area.id, week)],
            previous=figures[(area.id, week_before)],
            waiting=waiting[area.id][:MANAGER_DIGEST_TOP],
            promise=promise[area.id],
            children_are_villages=area.level >= 2,
            format_number=format_decimal,
        )
        created += message is not None
    db.session.flush()
    return created


#: Overdue assignments older than this are not reminded about any more.
OVERDUE_LOOKBACK = timedelta(days=60)


def enqueue_overdue_assignment_reminders(now: datetime | None = None) -> int:
    """Remind each learner once when an assigned course is past its due date and not completed.
    Returns the number of reminders created."""
    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.due_on < today, Assignment.due_on >= today - OVERDUE_LOOKBACK)
        .options(selectinload(Assignment.course))
        .order_by(Assignment.id)
    ).all()
    created = 0
    for assignment in assignments:
        people = overdue_assignees(assignment, today)
        keys = {person.id: f"assignment-overdue:{assignment.id}:{person.id}" for person in people}
        done = existing_keys(list(keys.values()))
        for person in people:
            if keys[person.id] in done:
                continue
            message = enqueue(
                keys[person.id],
                person,
                "assignment_overdue",
                link=page_link("learning.course", slug=assignment.course.slug),
                now=now,
                purpose="messages",
                assignment=assignment,
                course=assignment.course,
            )
            created += message is not None
    db.session.flush()
    return created
