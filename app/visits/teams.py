"""Teams and their members, and when members are available.

Commune managers (and admins) form teams in a commune or one of its villages from the tech-team
accounts of that commune and say which kinds of help each member offers. Each member keeps their
own weekly hours and date exceptions; a commune manager may also keep them for the members of
their commune. Times are minutes after local (Asia/Ho_Chi_Minh) midnight.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app import authz
from app.auth.models import User
from app.db import local_today
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.phones import normalise_phone
from app.units.models import Unit, path_within
from app.visits.models import (
    CONTACT_PROMISE_RANGE,
    SKILLS,
    AvailabilityException,
    Team,
    TeamMember,
    WeeklyAvailability,
)

MINUTES_PER_DAY = 24 * 60
#: Kinds of date exception offered on the form: (model kind, whole day?).
EXCEPTION_CHOICES = {"away_day": ("away", True), "away_hours": ("away", False), "extra": ("extra", False)}


def minute_label(minute: int) -> str:
    """ "18:30" for 1110; the end of the day is "24:00"."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


# --- teams ---------------------------------------------------------------------------------


def teams_in_scope(actor: User) -> list[Team]:
    return list(
        db.session.scalars(
            select(Team)
            .join(Unit, Unit.id == Team.unit_id)
            .where(authz.unit_scope_filter(actor, Unit.path))
            .order_by(Unit.path, Team.name, Team.id)
        )
    )


def team_units(actor: User) -> list[Unit]:
    """Communes, wards, villages and residential groups a team may be formed in."""
    return list(
        db.session.scalars(
            select(Unit).where(authz.unit_scope_filter(actor, Unit.path), Unit.kind != "province").order_by(Unit.path)
        )
    )


def create_team(actor: User, *, unit: Unit | None, name: str) -> Team:
    """A new, empty team in a commune (or ward) or one of its villages. Raises Invalid or
    NotAllowed."""
    if unit is None or unit.level < 2:
        raise Invalid(_("Choose the commune or village the team works in."), field="unit")
    if not authz.may(actor, "teams.manage", unit):
        raise NotAllowed(_("You may not form teams in this area."))
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_("Give the team a name."), field="name")
    if len(name) > 200:
        raise Invalid(_("This text is too long (at most %(n)d characters).", n=200), field="name")
    team = Team(unit=unit, name=name)
    db.session.add(team)
    db.session.flush()
    return team


def _team_commune(team: Team) -> Unit:
    return team.unit.commune() or team.unit


def candidate_members(team: Team) -> list[User]:
    """Active tech-team accounts of the team's commune who are not in the team yet."""
    commune = _team_commune(team)
    present = {membership.user_id for membership in team.members}
    people = db.session.scalars(
        select(User)
        .join(Unit, Unit.id == User.unit_id)
        .options(contains_eager(User.unit))
        .where(
            User.role == "tech_team",
            User.active.is_(True),
            path_within(Unit.path, commune.path),
        )
        .order_by(User.full_name, User.id)
    )
    return [person for person in people if person.id not in present]


def _clean_skills(skills) -> list[str]:
    skills = list(skills or [])
    if any(skill not in SKILLS for skill in skills):
        raise Invalid(_("Choose kinds of help from the list."), field="skills")
    return sorted(set(skills), key=SKILLS.index)


def _ensure_manages(actor: User, team: Team) -> None:
    if not authz.may(actor, "teams.manage", team.unit):
        raise NotAllowed(_("You may not change this team."))


def add_member(actor: User, team: Team, person: User | None, *, skills, is_leader: bool) -> TeamMember:
    """Add a tech-team account of the team's commune. Raises Invalid or NotAllowed."""
    _ensure_manages(actor, team)
    if (
        person is None
        or person.role != "tech_team"
        or not person.active
        or not _team_commune(team).contains(person.unit)
    ):
        raise Invalid(_("Choose a tech-team member of this commune."), field="user")
    if any(membership.user_id == person.id for membership in team.members):
        raise Invalid(_("%(name)s is already in this team.", name=person.full_name), field="user")
    membership = TeamMember(user=person, skills=_clean_skills(skills), is_leader=bool(is_leader))
    team.members.append(membership)
    db.session.flush()
    return membership


def update_member(actor: User, membership: TeamMember, *, skills, is_leader: bool) -> TeamMember:
    _ensure_manages(actor, membership.team)
    membership.skills = _clean_skills(skills)
    membership.is_leader = bool(is_leader)
    return membership


def set_contact_promise(actor: User, team: Team, days) -> Team:
    """The working days within which the team promises to call a resident who asked for help
    (requests filed from now on). Raises NotAllowed or Invalid."""
    _ensure_manages(actor, team)
    low, high = CONTACT_PROMISE_RANGE
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        message = _("Promise a call within %(low)d to %(high)d working days.", low=low, high=high)
        raise Invalid(message, field="contact_promise_days")
    team.contact_promise_days = days
    return team


def set_work_phone(actor: User, person: User, phone: str | None) -> list[TeamMember]:
    """The phone `person` uses for team work, shown to the residents they are booked to visit
    (empty: none). Kept on each of their team memberships. Raises NotAllowed or Invalid."""
    if not may_edit_availability(actor, person):
        raise NotAllowed(_("You may not change this member's details."))
    memberships = list(db.session.scalars(select(TeamMember).where(TeamMember.user_id == person.id)))
    if not memberships:
        raise Invalid(_("Join a team first: the work phone is for team work."), field="work_phone")
    number = normalise_phone(phone, field="work_phone")
    for membership in memberships:
        membership.work_phone = number
    return memberships


def is_team_member(person: User) -> bool:
    return db.session.scalar(select(TeamMember.id).where(TeamMember.user_id == person.id).limit(1)) is not None


def work_phone_of(person: User) -> str | None:
    """The work phone `person` set for team work (E.164), if any."""
    return db.session.scalar(
        select(TeamMember.work_phone)
        .where(TeamMember.user_id == person.id, TeamMember.work_phone.is_not(None))
        .order_by(TeamMember.id)
        .limit(1)
    )


def remove_member(actor: User, membership: TeamMember) -> None:
    """Take the person out of the team; their visits already booked stay as they are."""
    _ensure_manages(actor, membership.team)
    membership.team.members.remove(membership)
    db.session.flush()


# --- availability --------------------------------------------------------------------------


def may_edit_availability(actor: User, person: User) -> bool:
    """Members keep their own hours; commune managers and admins those of their area's members."""
    if person.role != "tech_team":
        return False
    return actor.id == person.id or authz.may(actor, "teams.manage", person.unit)


def members_in_scope(actor: User) -> list[User]:
    """The tech-team accounts whose availability `actor` may keep (for managers' lists)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .options(contains_eager(User.unit))
            .where(User.role == "tech_team", authz.unit_scope_filter(actor, Unit.path))
            .order_by(User.full_name, User.id)
        )
    )


def _ensure_may_edit(actor: User, person: User) -> None:
    if not may_edit_availability(actor, person):
        raise NotAllowed(_("You may not change this person's availability."))


def _check_window(start_minute: int | None, end_minute: int | None) -> None:
    if start_minute is None or end_minute is None:
        raise Invalid(_("Choose the start and end times."), field="start")
    if not 0 <= start_minute < MINUTES_PER_DAY or not 0 < end_minute <= MINUTES_PER_DAY:
        raise Invalid(_("Choose times between 00:00 and 24:00."), field="start")
    if end_minute <= start_minute:
        raise Invalid(_("The end time must be after the start time."), field="end")


def weekly_windows(person: User) -> list[WeeklyAvailability]:
    return list(
        db.session.scalars(
            select(WeeklyAvailability)
            .where(WeeklyAvailability.user_id == person.id)
            .order_by(WeeklyAvailability.weekday, WeeklyAvailability.start_minute)
        )
    )


def add_weekly_window(
    actor: User, person: User, *, weekday: int, start_minute: int, end_minute: int
) -> tuple[WeeklyAvailability, list[WeeklyAvailability]]:
    """Add a recurring window. Windows of the same weekday that overlap or touch it are merged
    into one; returns the resulting window and the earlier windows it absorbed."""
    _ensure_may_edit(actor, person)
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise Invalid(_("Choose a day of the week."), field="weekday")
    _check_window(start_minute, end_minute)
    absorbed = [
        window
        for window in weekly_windows(person)
        if window.weekday == weekday and window.start_minute <= end_minute and window.end_minute >= start_minute
    ]
    for window in absorbed:
        start_minute = min(start_minute, window.start_minute)
        end_minute = max(end_minute, window.end_minute)
        db.session.delete(window)
    window = WeeklyAvailability(user_id=person.id, weekday=weekday, start_minute=start_minute, end_minute=end_minute)
    db.session.add(window)
    db.session.flush()
    return window, absorbed


def delete_weekly_window(actor: User, window: WeeklyAvailability) -> None:
    _ensure_may_edit(actor, db.session.get(User, window.user_id))
    db.session.delete(window)
    db.session.flush()


def upcoming_exceptions(person: User) -> list[AvailabilityException]:
    return list(
        db.session.scalars(
            select(AvailabilityException)
            .where(AvailabilityException.user_id == person.id, AvailabilityException.on_date >= local_today())
            .order_by(AvailabilityException.on_date, AvailabilityException.start_minute)
        )
    )


def check_exception_date(on_date: date) -> None:
    """Raises Invalid (field "on_date") when the date is in the past."""
    if on_date < local_today():
        raise Invalid(_("This date is in the past."), field="on_date")


def add_exception(
    actor: User,
    person: User,
    *,
    on_date: date | None,
    kind: str,
    start_minute: int | None = None,
    end_minute: int | None = None,
    note: str | None = None,
) -> AvailabilityException:
    """Record a date away (all day or some hours) or with extra hours. `kind` is one of
    EXCEPTION_CHOICES. Dates in the past are refused."""
    _ensure_may_edit(actor, person)
    if on_date is None:
        raise Invalid(_("Enter the date."), field="on_date")
    check_exception_date(on_date)
    if kind not in EXCEPTION_CHOICES:
        raise Invalid(_("Choose away all day, away some hours or extra hours."), field="kind")
    model_kind, whole_day = EXCEPTION_CHOICES[kind]
    if whole_day:
        start_minute = end_minute = None
    else:
        _check_window(start_minute, end_minute)
    note = " ".join((note or "").split()) or None
    if note is not None and len(note) > 200:
        raise Invalid(_("This text is too long (at most %(n)d characters).", n=200), field="note")
    exception = AvailabilityException(
        user_id=person.id,
        on_date=on_date,
        kind=model_kind,
        start_minute=start_minute,
        end_minute=end_minute,
        note=note,
    )
    db.session.add(exception)
    db.session.flush()
    return exception


def delete_exception(actor: User, exception: AvailabilityException) -> None:
    _ensure_may_edit(actor, db.session.get(User, exception.user_id))
    db.session.delete(exception)
    db.session.flush()
