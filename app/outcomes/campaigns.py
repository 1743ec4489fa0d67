"""Door-to-door campaigns: walk lists of households not yet reached, split among members."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from app import authz
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import (
    WALK_STATUSES,
    Campaign,
    Household,
    Milestone,
    Resident,
    ResidentMilestone,
    WalkListEntry,
)
from app.units.models import Unit
from app.visits.availability import members_for


def households_not_reached(milestone: Milestone, villages: list[Unit], year: int) -> list[Household]:
    """Households with at least one adult who has not reached `milestone` and whose processing is
    not restricted (app.privacy.restriction), by village and address."""
    reached = exists().where(
        ResidentMilestone.resident_id == Resident.id, ResidentMilestone.milestone_id == milestone.id
    )
    adult = (Resident.birth_year.is_(None)) | (Resident.birth_year <= year - 18)
    household_ids = select(Resident.household_id).where(
        Resident.household_id.is_not(None), adult, ~reached, Resident.restricted_at.is_(None)
    )
    return list(
        db.session.scalars(
            select(Household)
            .join(Unit, Unit.id == Household.unit_id)
            .where(Household.unit_id.in_([v.id for v in villages]), Household.id.in_(household_ids))
            .order_by(Unit.code, Household.address, Household.code, Household.id)
        )
    )


def split_walk_list(households: list[Household], member_ids: list[int]) -> dict[int, list[Household]]:
    """Share households among members so that loads differ by at most one, keeping each village
    with as few members as possible (largest villages first, each to the member with the most
    room left). Every household is assigned exactly once."""
    if not member_ids:
        return {}
    quotient, remainder = divmod(len(households), len(member_ids))
    room = {member: quotient + (1 if index < remainder else 0) for index, member in enumerate(sorted(member_ids))}
    by_village: dict[int, list[Household]] = defaultdict(list)
    for household in households:
        by_village[household.unit_id].append(household)
    assigned: dict[int, list[Household]] = {member: [] for member in room}
    for _village, items in sorted(by_village.items(), key=lambda item: (-len(item[1]), item[0])):
        queue = list(items)
        while queue:
            member = max(room, key=lambda m: (room[m], -m))
            take = min(room[member], len(queue))
            assigned[member].extend(queue[:take])
            room[member] -= take
            queue = queue[take:]
    return assigned


def check_campaign_dates(starts_on: date, ends_on: date) -> None:
    """Raises Invalid (field "ends_on") when the campaign ends before it starts."""
    if ends_on < starts_on:
        raise Invalid(_("The campaign ends before it starts."), field="ends_on")


def create_campaign(
    actor: User,
    *,
    name: str,
    milestone: Milestone | None,
    commune: Unit,
    village_codes: list[str],
    starts_on: date,
    ends_on: date,
    member_ids: list[int] | None = None,
) -> Campaign:
    """Create a campaign and its walk lists. Members default to the commune's team members."""
    if not authz.may(actor, "campaigns.manage", commune):
        raise NotAllowed(_("You may not run campaigns in this commune."))
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_("Give the campaign a name."), field="name")
    if milestone is None or not milestone.active:
        raise Invalid(_("Choose the milestone the campaign aims at."), field="milestone")
    check_campaign_dates(starts_on, ends_on)
    villages = [
        unit
        for unit in db.session.scalars(select(Unit).where(Unit.code.in_(village_codes or [])))
        if unit.level == 3 and commune.contains(unit)
    ]
    if not villages or len(villages) != len(set(village_codes)):
        raise Invalid(_("Choose one or more villages of this commune."), field="villages")
    members = members_for(commune)
    if member_ids:
        chosen = [m for m in members if m.id in set(member_ids)]
        if len(chosen) != len(set(member_ids)):
            raise Invalid(_("Choose members of this commune's teams."), field="members")
        members = chosen
    if not members:
        raise Invalid(_("The commune has no team members to walk the lists."), field="members")
    campaign = Campaign(
        name=name[:200],
        milestone_id=milestone.id,
        unit_id=commune.id,
        village_codes=sorted(v.code for v in villages),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor.id,
    )
    db.session.add(campaign)
    db.session.flush()
    households = households_not_reached(milestone, villages, starts_on.year)
    for member_id, items in split_walk_list(households, [m.id for m in members]).items():
        for position, household in enumerate(items):
            db.session.add(
                WalkListEntry(
                    campaign_id=campaign.id, household_id=household.id, member_id=member_id, position=position
                )
            )
    db.session.flush()
    return campaign


def campaigns_in_area(actor: User, *, walked_only: bool = False) -> list[Campaign]:
    """The campaigns of the person's area, newest first (with `walked_only`, only those they
    walk a list in)."""
    query = (
        select(Campaign)
        .join(Unit, Unit.id == Campaign.unit_id)
        .where(authz.unit_scope_filter(actor, Unit.path))
        .options(selectinload(Campaign.milestone), selectinload(Campaign.unit))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    )
    if walked_only:
        walked = select(WalkListEntry.campaign_id).where(WalkListEntry.member_id == actor.id)
        query = query.where(Campaign.id.in_(walked))
    return list(db.session.scalars(query))


def walk_list(campaign: Campaign, member_id: int | None = None) -> list[WalkListEntry]:
    query = (
        select(WalkListEntry)
        .join(Household, Household.id == WalkListEntry.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .where(WalkListEntry.campaign_id == campaign.id)
        .order_by(WalkListEntry.member_id, Unit.code, WalkListEntry.position)
    )
    if member_id is not None:
        query = query.where(WalkListEntry.member_id == member_id)
    return list(db.session.scalars(query))


def update_walk_status(actor: User, entry: WalkListEntry, status: str, note: str | None = None) -> None:
    if status not in WALK_STATUSES:
        raise Invalid(_("Choose what happened at this household."), field="status")
    if not authz.may_update_walk_entry(actor, entry):
        raise NotAllowed(_("This household is on another member's list."))
    entry.status = status
    entry.note = " ".join((note or "").split())[:300] or None
    entry.updated_at = utcnow()
    entry.updated_by_id = actor.id


def campaign_progress(campaign: Campaign) -> dict[str, int]:
    counts = dict.fromkeys(WALK_STATUSES, 0)
    for entry in campaign.entries:
        counts[entry.status] += 1
    return counts


def walk_list_with_households(campaign: Campaign, member_id: int | None) -> list[WalkListEntry]:
    """The entries of one member's list (or of every list), with households, villages and
    residents loaded in three queries."""
    entries = walk_list(campaign, member_id)
    household_ids = [entry.household_id for entry in entries]
    if household_ids:
        db.session.scalars(
            select(Household)
            .where(Household.id.in_(household_ids))
            .options(selectinload(Household.residents), selectinload(Household.unit))
        ).all()
    return entries


def status_counts(campaign_ids: list[int], *group, member_id: int | None = None) -> dict:
    """{(campaign id, *group values): {status: count}} in one query (one member's entries only
    when `member_id` is given)."""
    counts: dict = defaultdict(lambda: dict.fromkeys(WALK_STATUSES, 0))
    if not campaign_ids:
        return counts
    query = (
        select(WalkListEntry.campaign_id, *group, WalkListEntry.status, func.count())
        .join(Household, Household.id == WalkListEntry.household_id)
        .where(WalkListEntry.campaign_id.in_(campaign_ids))
        .group_by(WalkListEntry.campaign_id, *group, WalkListEntry.status)
    )
    if member_id is not None:
        query = query.where(WalkListEntry.member_id == member_id)
    for *key, status, number in db.session.execute(query):
        counts[tuple(key)][status] += number
    return counts


def reached_residents(campaign: Campaign, entries: list[WalkListEntry]) -> set[int]:
    """The residents of these households who have reached the campaign's milestone."""
    resident_ids = [r.id for entry in entries for r in entry.household.residents]
    if not resident_ids:
        return set()
    return set(
        db.session.scalars(
            select(ResidentMilestone.resident_id).where(
                ResidentMilestone.milestone_id == campaign.milestone_id,
                ResidentMilestone.resident_id.in_(resident_ids),
            )
        )
    )
