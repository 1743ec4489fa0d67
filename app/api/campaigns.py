"""Campaigns API: a campaign's walk list, for the teams' own tools.

Who sees which list is decided by app.authz.may_see_walk_list (the same rule as the web page):
a member sees their own list, managers of the commune (and the department) anyone's; another commune's people get 403.
"""

from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import gettext as _

from app import authz
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, token_required
from app.auth.models import User
from app.db import MAX_ID
from app.exceptions import Invalid, NotAllowed, NotFound
from app.extensions import db
from app.outcomes.campaigns import walk_list_with_households
from app.outcomes.models import Campaign, WalkListEntry
from app.privacy.access_log import record_read

_DIGITS = re.compile(r"[0-9]{1,10}")


def _member_id() -> int | None:
    raw = request.args.get("member_id")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise Invalid(_("Give member_id as a member's number."), field="member_id")
    return int(raw)


def _campaign_json(campaign: Campaign) -> dict:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "milestone": campaign.milestone.key,
        "milestone_name": campaign.milestone.name,
        "unit": campaign.unit.code,
        "villages": list(campaign.village_codes),
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat(),
    }


def _entry_json(entry: WalkListEntry) -> dict:
    household = entry.household
    return {
        "id": entry.id,
        "household_id": household.id,
        "household_code": household.code,
        "address": household.address,
        "village": household.unit.code,
        "village_name": household.unit.display_name,
        "member_id": entry.member_id,
        "position": entry.position,
        "status": entry.status,
        "note": entry.note,
        "residents": [
            {"id": resident.id, "name": resident.full_name, "birth_year": resident.birth_year}
            for resident in household.residents
        ],
    }


@bp.route("/campaigns/<int:campaign_id>/walk-list")
@token_required
@in_callers_language
def campaign_walk_list(campaign_id: int):
    """?member_id= one member's list (a member's own by default); overseers get every member's
    list when they give no member_id."""
    user = current_api_user()
    campaign = db.session.get(Campaign, campaign_id) if campaign_id <= MAX_ID else None
    if campaign is None:
        raise NotFound(_("No campaign has this id."))
    if not authz.may(user, "outcomes.view", campaign.unit):
        raise NotAllowed(_("This campaign is outside your area."))
    member_id = _member_id()
    if member_id is None and not authz.oversees_campaign(user, campaign):
        member_id = user.id
    if member_id is not None:
        if not authz.may_see_walk_list(user, campaign, member_id):
            raise NotAllowed(_("You may see only your own walk list."))
        if db.session.get(User, member_id) is None:
            raise Invalid(_("No member has this number."), field="member_id")
    entries = walk_list_with_households(campaign, member_id)
    record_read(user, residents=[r for entry in entries for r in entry.household.residents], kind="api")
    return jsonify({"campaign": _campaign_json(campaign), "entries": [_entry_json(entry) for entry in entries]})
