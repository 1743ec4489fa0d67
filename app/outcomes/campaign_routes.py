"""Door-to-door campaigns: the list, creating one, its progress, and each member's walk list
(on screen with a form per household, and printable for members without data)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import SelectChoice

from app import authz
from app.auth.models import User
from app.db import MAX_ID, local_today
from app.extensions import db
from app.outcomes import operations
from app.outcomes.blueprint import bp
from app.outcomes.campaigns import (
    campaigns_in_area,
    create_campaign,
    reached_residents,
    status_counts,
    update_walk_status,
    walk_list_with_households,
)
from app.outcomes.forms import CampaignForm, WalkStatusForm
from app.outcomes.models import (
    RECORDED_STATUSES,
    WALK_STATUS_TITLES,
    WALK_STATUSES,
    Campaign,
    Household,
    WalkListEntry,
)
from app.outcomes.residents import COMMUNE_KINDS, VILLAGE_KINDS
from app.privacy.access_log import record_read
from app.units.models import Unit, path_within
from app.units.operations import get_unit_by_code
from app.views import FORM_ERRORS, get_or_404, refuse, unit_choices
from app.visits.availability import members_for

DEFAULT_CAMPAIGN_DAYS = 30
_ID = re.compile(r"[0-9]{1,10}")


def _member_arg(campaign: Campaign) -> User | None:
    """The member named by ?member_id= (400 when malformed, 404 unknown, 403 not allowed);
    None when absent."""
    raw = request.args.get("member_id", "").strip()
    if not raw:
        return None
    if not _ID.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        abort(400, description=_("member_id must be the number of a member."))
    authz.ensure(authz.may_see_walk_list(current_user, campaign, int(raw)))
    member = db.session.get(User, int(raw))
    if member is None:
        abort(404, description=_("No member has this number."))
    return member


def _total(counts: dict[str, int]) -> int:
    return sum(counts.values())


# --- the campaigns list and a new campaign ------------------------------------------------


@bp.route("/campaigns")
@login_required
def campaigns():
    """Campaigns in the person's area with their progress; a member sees the campaigns they
    have households in, with their own progress."""
    manage = authz.has_permission(current_user, "campaigns.manage")
    follows = authz.has_permission(current_user, "reports.view") and authz.has_permission(current_user, "outcomes.view")
    authz.ensure(manage or follows or authz.has_permission(current_user, "outcomes.record"))
    oversight = manage or follows
    items = campaigns_in_area(current_user, walked_only=not oversight)
    ids = [c.id for c in items]
    member_id = None if oversight else current_user.id
    progress = {key[0]: counts for key, counts in status_counts(ids, member_id=member_id).items()}
    return render_template(
        "outcomes/campaigns.html",
        campaigns=items,
        progress={cid: progress.get(cid, dict.fromkeys(WALK_STATUSES, 0)) for cid in ids},
        oversight=oversight,
        may_create=manage,
        today=local_today(),
        titles=WALK_STATUS_TITLES,
        total=_total,
    )


def _campaign_commune() -> Unit | None:
    """The commune the new campaign runs in: the manager's own, or ?commune= for people who
    work province-wide (None until they choose)."""
    root = authz.scope_root(current_user)
    if root is not None:
        return root
    code = request.args.get("commune", "").strip()
    if not code:
        return None
    commune = get_unit_by_code(code)
    if commune is None or commune.level != 2:
        abort(404, description=_("No commune or ward has this code."))
    return commune


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    authz.ensure(authz.has_permission(current_user, "campaigns.manage"))
    commune = _campaign_commune()
    if commune is None:
        communes = list(db.session.scalars(select(Unit).where(Unit.kind.in_(COMMUNE_KINDS)).order_by(Unit.path)))
        return render_template("outcomes/campaign_new.html", form=None, communes=unit_choices(communes))
    authz.ensure(authz.may(current_user, "campaigns.manage", commune))
    villages = list(
        db.session.scalars(
            select(Unit).where(path_within(Unit.path, commune.path), Unit.kind.in_(VILLAGE_KINDS)).order_by(Unit.path)
        )
    )
    members = members_for(commune)
    milestones = operations.active_milestones()
    form = CampaignForm()
    form.milestone.choices = [SelectChoice("", _("Choose…")), *(SelectChoice(m.key, m.name) for m in milestones)]
    if not form.is_submitted():
        today = local_today()
        form.starts_on.data = today
        form.ends_on.data = today + timedelta(days=DEFAULT_CAMPAIGN_DAYS)
        form.members.data = [str(m.id) for m in members]
    status = 200
    if form.validate_on_submit():
        try:
            member_ids = [int(value) for value in form.members.data if _ID.fullmatch(value)]
            campaign = create_campaign(
                current_user,
                name=form.name.data,
                milestone=operations.get_milestone(form.milestone.data),
                commune=commune,
                village_codes=[code[:64] for code in form.villages.data],
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                member_ids=member_ids or [0],  # [0]: nobody valid was ticked, never "everyone"
            )
        except FORM_ERRORS as error:
            status = refuse(form, error)
        else:
            households = db.session.scalar(
                select(func.count()).select_from(WalkListEntry).where(WalkListEntry.campaign_id == campaign.id)
            )
            db.session.commit()
            if households:
                message = ngettext(
                    "The campaign has been created: %(num)d household is on the walk lists.",
                    "The campaign has been created: %(num)d households are on the walk lists.",
                    households,
                )
            else:
                message = _(
                    "The campaign has been created, but every targeted household has already reached the milestone."
                )
            flash(message, "success")
            return redirect(url_for("outcomes.campaign", campaign_id=campaign.id))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "outcomes/campaign_new.html",
            form=form,
            commune=commune,
            villages=villages,
            members=members,
            province_wide=authz.scope_root(current_user) is None,
        ),
        status,
    )


# --- one campaign ---------------------------------------------------------------------------


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    campaign = get_or_404(Campaign, campaign_id)
    if not authz.oversees_campaign(current_user, campaign):
        # A member goes straight to their own list.
        authz.ensure(authz.may(current_user, "outcomes.view", campaign.unit))
        return redirect(url_for("outcomes.campaign_walk_list", campaign_id=campaign.id))
    by_member = {key[1]: counts for key, counts in status_counts([campaign.id], WalkListEntry.member_id).items()}
    by_village = {key[1]: counts for key, counts in status_counts([campaign.id], Household.unit_id).items()}
    members = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(by_member))))}
    villages = list(db.session.scalars(select(Unit).where(Unit.code.in_(campaign.village_codes)).order_by(Unit.path)))
    overall = dict.fromkeys(WALK_STATUSES, 0)
    for counts in by_member.values():
        for status, number in counts.items():
            overall[status] += number
    return render_template(
        "outcomes/campaign_show.html",
        campaign=campaign,
        overall=overall,
        member_rows=sorted(
            ((members[mid], counts) for mid, counts in by_member.items()), key=lambda row: (row[0].full_name, row[0].id)
        ),
        village_rows=[(v, by_village.get(v.id, dict.fromkeys(WALK_STATUSES, 0))) for v in villages],
        titles=WALK_STATUS_TITLES,
        total=_total,
    )


# --- walk lists -----------------------------------------------------------------------------


def _walked_residents(entries: list[WalkListEntry]) -> list:
    return [resident for entry in entries for resident in entry.household.residents]


def _render_walk_list(campaign: Campaign, member: User, *, errors=None, submitted=None, status=200):
    entries = walk_list_with_households(campaign, member.id)
    if request.method == "GET":
        record_read(current_user, residents=_walked_residents(entries), kind="list")
    counts = dict.fromkeys(WALK_STATUSES, 0)
    for entry in entries:
        counts[entry.status] += 1
    editable = authz.may_update_walk_list(current_user, campaign, member.id)
    by_village: list[tuple[Unit, list[tuple[int, WalkListEntry]]]] = []
    for number, entry in enumerate(entries, start=1):
        village = entry.household.unit
        if not by_village or by_village[-1][0].id != village.id:
            by_village.append((village, []))
        by_village[-1][1].append((number, entry))
    return (
        render_template(
            "outcomes/campaign_walk_list.html",
            campaign=campaign,
            member=member,
            entries=entries,
            by_village=by_village,
            counts=counts,
            reached=reached_residents(campaign, entries),
            editable=editable,
            oversight=authz.oversees_campaign(current_user, campaign),
            may_view_residents=authz.may(current_user, "outcomes.view", campaign.unit),
            form=WalkStatusForm(formdata=None),
            statuses=[(key, WALK_STATUS_TITLES[key]) for key in RECORDED_STATUSES],
            titles=WALK_STATUS_TITLES,
            errors=errors or {},
            submitted=submitted or {},
        ),
        status,
    )


def _walk_list_member(campaign: Campaign) -> User | None:
    """The member whose list is asked for (the current person's own by default); None when a
    manager who walks no list of this campaign gives no member_id."""
    member = _member_arg(campaign)
    if member is not None:
        return member
    authz.ensure(authz.may_see_walk_list(current_user, campaign, current_user.id))
    if authz.oversees_campaign(current_user, campaign):
        walks = db.session.scalar(
            select(WalkListEntry.id)
            .where(WalkListEntry.campaign_id == campaign.id, WalkListEntry.member_id == current_user.id)
            .limit(1)
        )
        if walks is None:
            return None
    return current_user


@bp.route("/campaigns/<int:campaign_id>/walk-list")
@login_required
def campaign_walk_list(campaign_id: int):
    campaign = get_or_404(Campaign, campaign_id)
    member = _walk_list_member(campaign)
    if member is None:
        return redirect(url_for("outcomes.campaign", campaign_id=campaign.id))
    return _render_walk_list(campaign, member)


@bp.route("/campaigns/<int:campaign_id>/walk-list/print")
@login_required
def campaign_walk_list_print(campaign_id: int):
    """The member's list as a plain table with empty boxes to tick, for the browser's Print."""
    campaign = get_or_404(Campaign, campaign_id)
    member = _walk_list_member(campaign)
    if member is None:
        return redirect(url_for("outcomes.campaign", campaign_id=campaign.id))
    entries = walk_list_with_households(campaign, member.id)
    record_read(current_user, residents=_walked_residents(entries), kind="export")
    return render_template(
        "outcomes/campaign_print.html",
        campaign=campaign,
        member=member,
        entries=entries,
        reached=reached_residents(campaign, entries),
        statuses=[(key, WALK_STATUS_TITLES[key]) for key in RECORDED_STATUSES],
        printed_on=local_today(),
    )


@bp.route("/walk-list/<int:entry_id>", methods=["POST"])
@login_required
def update_walk_entry(entry_id: int):
    entry = get_or_404(WalkListEntry, entry_id)
    campaign = entry.campaign
    authz.ensure(authz.may_update_walk_entry(current_user, entry))
    member = db.session.get(User, entry.member_id)
    form = WalkStatusForm()
    if not form.validate_on_submit():
        messages = [message for field in (form.status, form.note) for message in field.errors]
        submitted = {entry.id: (form.status.data, form.note.data)}
        return _render_walk_list(campaign, member, errors={entry.id: messages}, submitted=submitted, status=400)
    try:
        update_walk_status(current_user, entry, form.status.data, note=form.note.data)
    except FORM_ERRORS as error:
        # Shown next to the household's own form rather than at the top of the list.
        db.session.rollback()
        submitted = {entry.id: (form.status.data, form.note.data)}
        return _render_walk_list(
            campaign, member, errors={entry.id: [error.message]}, submitted=submitted, status=error.page_status
        )
    household = entry.household
    title = WALK_STATUS_TITLES[entry.status]
    db.session.commit()
    flash(_("Saved: %(household)s — %(status)s.", household=household.address, status=title), "success")
    return redirect(
        url_for(
            "outcomes.campaign_walk_list",
            campaign_id=campaign.id,
            member_id=member.id,
            _anchor=f"entry-{entry.id}",
        )
    )
