from datetime import timedelta

import pytest

from app.db import utcnow
from app.outcomes.operations import active_milestones, ensure_default_milestones
from app.visits.models import Team, TeamMember, Visit


@pytest.fixture
def milestones(db):
    ensure_default_milestones()
    return {m.key: m for m in active_milestones()}


@pytest.fixture
def team(db, units, make_user):
    """A team in commune C1 with two members who have every skill."""
    members = [make_user("tech_team", units["v1a"]), make_user("tech_team", units["v1b"])]
    team = Team(unit_id=units["c1"].id, name="Tổ C1")
    team.members = [
        TeamMember(user_id=m.id, skills=["eid", "public_services", "cashless", "safety", "phone_basics"])
        for m in members
    ]
    db.session.add(team)
    db.session.flush()
    return members


@pytest.fixture
def past_visit(db, units, team):
    """A booked visit of the first member that started an hour ago (ready to complete); give
    `hours_ago` for a second one (one member's visits never overlap)."""

    def make(resident=None, request=None, skill="eid", hours_ago=1):
        start = utcnow() - timedelta(hours=hours_ago)
        visit = Visit(
            member_id=team[0].id,
            unit_id=units["v1a"].id,
            resident_id=resident.id if resident else None,
            request_id=request.id if request else None,
            skill=skill,
            place="Nhà văn hóa",
            starts_at=start,
            ends_at=start + timedelta(minutes=45),
            booked_by_id=team[0].id,
        )
        db.session.add(visit)
        db.session.flush()
        return visit

    return make
