"""The personal data of this package's tables, declared in the register (app.privacy.register).

Residents, their households and their milestones are recorded for the province's digital-inclusion
targets, a task of the state. Free-text notes about a resident (follow-up reasons, walk-list notes)
are declared sensitive: they are written at people's homes and may mention health, which the law
counts as sensitive, whatever the form asks.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.outcomes.forms import STAGE_TITLES
from app.outcomes.models import (
    CONFIRMATION_TITLES,
    WALK_STATUS_TITLES,
    Campaign,
    ClosedMonth,
    ConfidenceAssessment,
    FollowUp,
    Household,
    LedgerMonth,
    Milestone,
    MilestoneEvidence,
    Resident,
    ResidentMilestone,
    WalkListEntry,
)
from app.outcomes.operations import CONFIDENCE_STATEMENTS
from app.phones import local_format
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, names_of, row

RECORD = Personal("basic", "outcomes", "state_task", "record")
PHONE = Personal("basic", "outcomes", "state_task", "inactive_phone")
# Who recorded or helped: the member's work, kept with the resident's record.
STAFF = Personal("basic", "team_work", "contract", "record")
# Free text about a resident, written at their home: it may mention health (sensitive in law).
NOTE = Personal("sensitive", "help_visits", "state_task", "closed_note")
CAMPAIGN = Personal("basic", "outcomes", "state_task", "campaign")
CAMPAIGN_NOTE = Personal("sensitive", "outcomes", "state_task", "campaign")
LEDGER = Personal("basic", "team_work", "contract", "ledger")
# Processing restricted at the person's objection (app.privacy.restriction), and by whom.
RESTRICTION = Personal("basic", "data_requests", "legal_obligation", "record")

declare(
    "milestones",
    _l("Milestones"),
    not_personal={"id", "key", "names", "skills", "modules", "position", "active"},
)

declare(
    "households",
    _l("Households"),
    # A home's address and number identify the people who live there.
    personal={"unit_id": RECORD, "code": RECORD, "address": RECORD},
    not_personal={"id", "created_at"},
)


@exporter("households")
def export_households(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Household)
        .join(Resident, Resident.household_id == Household.id)
        .where(about(subject, resident_columns=[Resident.id]))
        .options(selectinload(Household.unit))
        .distinct()
        .order_by(Household.id)
    )
    return [row(code=h.code, address=h.address, village=h.unit.display_name) for h in rows]


declare(
    "residents",
    _l("Residents' records"),
    personal={
        "unit_id": RECORD,
        "household_id": RECORD,
        "code": RECORD,
        "full_name": RECORD,
        "birth_year": RECORD,
        "phone": PHONE,
        "user_id": RECORD,
        "consent_at": RECORD,
        "consent_recorded_by_id": STAFF,
        "created_at": RECORD,
        "restricted_at": RESTRICTION,
        "restricted_by_id": RESTRICTION,
    },
    # erased_at: when the record was erased (app.privacy.erasure); nothing about the person is left.
    not_personal={"id", "erased_at"},
)


@exporter("residents")
def export_residents(subject) -> list[dict]:
    rows = list(
        db.session.scalars(
            select(Resident)
            .where(about(subject, resident_columns=[Resident.id]))
            .options(selectinload(Resident.unit), selectinload(Resident.household))
            .order_by(Resident.id)
        )
    )
    names = names_of(r.consent_recorded_by_id for r in rows)
    return [
        row(
            full_name=r.full_name,
            birth_year=r.birth_year,
            phone=local_format(r.phone) or None,
            village=r.unit.display_name,
            household=r.household.address if r.household else None,
            code=r.code,
            consent_at=r.consent_at,
            recorded_by=names.get(r.consent_recorded_by_id),
            created_at=r.created_at,
        )
        for r in rows
    ]


declare(
    "resident_milestones",
    _l("Milestones a resident reached"),
    personal={"resident_id": RECORD, "reached_on": RECORD, "recorded_at": RECORD},
    not_personal={"id", "milestone_id"},
)


@exporter("resident_milestones")
def export_resident_milestones(subject) -> list[dict]:
    rows = db.session.execute(
        select(ResidentMilestone, Milestone)
        .join(Milestone, Milestone.id == ResidentMilestone.milestone_id)
        .where(about(subject, resident_columns=[ResidentMilestone.resident_id]))
        .order_by(ResidentMilestone.reached_on, ResidentMilestone.id)
    ).tuples()
    return [row(milestone=m.name, reached_on=r.reached_on, recorded_at=r.recorded_at) for r, m in rows]


declare(
    "milestone_evidence",
    _l("How each milestone was confirmed"),
    personal={
        "resident_id": RECORD,
        "on_date": RECORD,
        "confirmation": RECORD,
        "helped_by_id": STAFF,
        "recorded_by_id": STAFF,
        "recorded_at": RECORD,
    },
    not_personal={"id", "milestone_id", "visit_id", "session_id", "class_id"},
)


@exporter("milestone_evidence")
def export_milestone_evidence(subject) -> list[dict]:
    rows = list(
        db.session.execute(
            select(MilestoneEvidence, Milestone)
            .join(Milestone, Milestone.id == MilestoneEvidence.milestone_id)
            .where(about(subject, resident_columns=[MilestoneEvidence.resident_id]))
            .order_by(MilestoneEvidence.on_date, MilestoneEvidence.id)
        ).tuples()
    )
    names = names_of([e.helped_by_id for e, _m in rows] + [e.recorded_by_id for e, _m in rows])
    return [
        row(
            milestone=m.name,
            on_date=e.on_date,
            confirmation=CONFIRMATION_TITLES.get(e.confirmation, e.confirmation),
            helped_by=names.get(e.helped_by_id),
            recorded_by=names.get(e.recorded_by_id),
            recorded_at=e.recorded_at,
        )
        for e, m in rows
    ]


declare(
    "confidence_assessments",
    _l("Residents' confidence ratings"),
    # A person's own 1–5 rating of their confidence with a phone: basic data, not health.
    personal={
        "resident_id": RECORD,
        "taken_on": RECORD,
        "answers": RECORD,
        "recorded_by_id": STAFF,
        "recorded_at": RECORD,
    },
    not_personal={"id", "stage", "visit_id"},
)


@exporter("confidence_assessments")
def export_confidence_assessments(subject) -> list[dict]:
    rows = list(
        db.session.scalars(
            select(ConfidenceAssessment)
            .where(about(subject, resident_columns=[ConfidenceAssessment.resident_id]))
            .order_by(ConfidenceAssessment.taken_on, ConfidenceAssessment.id)
        )
    )
    names = names_of(a.recorded_by_id for a in rows)
    return [
        row(
            stage=STAGE_TITLES.get(a.stage, a.stage),
            taken_on=a.taken_on,
            answers={str(CONFIDENCE_STATEMENTS.get(key, key)): value for key, value in (a.answers or {}).items()},
            recorded_by=names.get(a.recorded_by_id),
        )
        for a in rows
    ]


declare(
    "follow_ups",
    _l("Follow-ups for residents"),
    personal={
        "resident_id": RECORD,
        # Where the resident lives.
        "unit_id": RECORD,
        "assigned_to_id": STAFF,
        "due_on": RECORD,
        "reason": NOTE,
        "status": RECORD,
        "created_by_id": STAFF,
        "created_at": RECORD,
        "closed_at": RECORD,
    },
    not_personal={"id", "visit_id"},
)


@exporter("follow_ups")
def export_follow_ups(subject) -> list[dict]:
    rows = list(
        db.session.scalars(
            select(FollowUp)
            .where(about(subject, resident_columns=[FollowUp.resident_id]))
            .order_by(FollowUp.due_on, FollowUp.id)
        )
    )
    names = names_of(f.assigned_to_id for f in rows)
    return [
        row(
            due_on=f.due_on,
            reason=f.reason,
            status=f.status,
            assigned_to=names.get(f.assigned_to_id),
            created_at=f.created_at,
            closed_at=f.closed_at,
        )
        for f in rows
    ]


declare(
    "campaigns",
    _l("Door-to-door campaigns"),
    personal={"created_by_id": STAFF},
    not_personal={"id", "name", "milestone_id", "unit_id", "village_codes", "starts_on", "ends_on", "created_at"},
)


@exporter("campaigns")
def export_campaigns(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Campaign).where(about(subject, user_columns=[Campaign.created_by_id])).order_by(Campaign.starts_on)
    )
    return [row(your_part=_l("Created"), campaign=c.name, starts_on=c.starts_on, ends_on=c.ends_on) for c in rows]


declare(
    "walk_list_entries",
    _l("Households on campaigns' walk lists"),
    personal={
        # The household links the row to the people living there.
        "household_id": CAMPAIGN,
        "member_id": STAFF,
        "status": CAMPAIGN,
        "updated_at": CAMPAIGN,
        "updated_by_id": STAFF,
        "note": CAMPAIGN_NOTE,
    },
    not_personal={"id", "campaign_id", "position"},
)


@exporter("walk_list_entries")
def export_walk_list_entries(subject) -> list[dict]:
    """The visits to the subject's household; a member's own list is their work, shown without
    the households' notes (those are about the people at home)."""
    household_ids = select(Resident.household_id).where(about(subject, resident_columns=[Resident.id]))
    condition = WalkListEntry.household_id.in_(household_ids) | about(subject, user_columns=[WalkListEntry.member_id])
    rows = list(
        db.session.scalars(
            select(WalkListEntry)
            .where(condition)
            .options(selectinload(WalkListEntry.campaign), selectinload(WalkListEntry.household))
            .order_by(WalkListEntry.campaign_id, WalkListEntry.position)
        )
    )
    names = names_of(e.member_id for e in rows)
    own_households = set(db.session.scalars(household_ids))
    result = []
    for entry in rows:
        if entry.household_id in own_households:
            result.append(
                row(
                    campaign=entry.campaign.name,
                    member=names.get(entry.member_id),
                    status=WALK_STATUS_TITLES[entry.status],
                    updated_at=entry.updated_at,
                    note=entry.note,
                )
            )
        else:
            result.append(
                row(
                    your_part=_l("On your walk list"),
                    campaign=entry.campaign.name,
                    status=WALK_STATUS_TITLES[entry.status],
                    updated_at=entry.updated_at,
                )
            )
    return result


declare(
    "ledger_months",
    _l("Tech-team members' monthly ledger"),
    personal={
        "member_id": LEDGER,
        "month": LEDGER,
        "visits": LEDGER,
        "sessions": LEDGER,
        "hours_minutes": LEDGER,
        "residents_helped": LEDGER,
        "milestones_confirmed": LEDGER,
        "closed_at": LEDGER,
        "closed_by_id": LEDGER,
    },
    not_personal={"id"},
)


@exporter("ledger_months")
def export_ledger_months(subject) -> list[dict]:
    rows = db.session.scalars(
        select(LedgerMonth).where(about(subject, user_columns=[LedgerMonth.member_id])).order_by(LedgerMonth.month)
    )
    return [
        row(
            month=m.month,
            visits=m.visits,
            sessions=m.sessions,
            minutes=m.hours_minutes,
            residents_helped=m.residents_helped,
            milestones_confirmed=m.milestones_confirmed,
            closed_at=m.closed_at,
        )
        for m in rows
    ]


declare(
    "closed_months",
    _l("Months closed in the ledger"),
    personal={"closed_by_id": LEDGER},
    # A note on closing the province's month, not about a person.
    not_personal={"month", "closed_at", "note"},
)


@exporter("closed_months")
def export_closed_months(subject) -> list[dict]:
    rows = db.session.scalars(
        select(ClosedMonth).where(about(subject, user_columns=[ClosedMonth.closed_by_id])).order_by(ClosedMonth.month)
    )
    return [row(your_part=_l("Closed the month"), month=m.month, closed_at=m.closed_at) for m in rows]
