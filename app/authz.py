"""The one place that decides who may see or change what.

Two questions, answered for every view and API endpoint:

* may this role do this kind of thing at all (`PERMISSIONS`), and
* is the thing inside the part of the unit tree the person is responsible for (`scope_root`)?

Admins and department managers work province-wide; commune managers and tech-team members in their
commune or ward (the subtree under it); cadres and residents only with their own records.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, false, true

from app.units.models import Unit, path_within

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "units.view",
            "units.manage",
            "users.view",
            "users.manage",
            "audit.view",
            "reports.view",
            "assignments.manage",
            "classes.record",
            "teams.manage",
            "visits.view",
            "visits.manage",
            "visits.override",
            "outcomes.view",
            "outcomes.record",
            "outcomes.import",
            "campaigns.manage",
            "ledger.close",
            "privacy.officer",
            "privacy.act",
            "privacy.erase",
            "learning.reset_attempts",
        }
    ),
    "department_manager": frozenset(
        {"units.view", "users.view", "reports.view", "assignments.manage", "visits.view", "outcomes.view"}
    ),
    "commune_manager": frozenset(
        {
            "units.view",
            "users.view",
            "users.manage",
            "reports.view",
            "assignments.manage",
            "classes.record",
            "teams.manage",
            "visits.view",
            "visits.manage",
            # Book or move a visit outside a member's hours, buffer or daily cap (with a reason).
            "visits.override",
            "outcomes.view",
            "outcomes.record",
            "outcomes.import",
            "campaigns.manage",
            "privacy.act",
            "privacy.erase",
            # Give a learner who used every attempt at a quiz their attempts back.
            "learning.reset_attempts",
        }
    ),
    # Tech-team members book, move and complete visits and run sessions in their commune.
    "tech_team": frozenset(
        {
            "units.view",
            "users.view",
            "users.create_assisted",
            "classes.record",
            "visits.view",
            "visits.manage",
            "outcomes.view",
            "outcomes.record",
            "privacy.act",
        }
    ),
    "cadre": frozenset({"units.view", "help.request"}),
    "resident": frozenset({"units.view", "help.request"}),
}

#: Which roles a manager may give to the accounts they manage.
ASSIGNABLE_ROLES: dict[str, tuple[str, ...]] = {
    "admin": (
        "admin",
        "department_manager",
        "commune_manager",
        "tech_team",
        "cadre",
        "resident",
    ),
    "commune_manager": ("tech_team", "cadre", "resident"),
    "tech_team": ("resident",),
}

#: Whom a role may see in people lists, beyond themselves.
_VISIBLE_ROLES: dict[str, tuple[str, ...] | None] = {
    "admin": None,  # everyone
    "department_manager": None,
    "commune_manager": None,
    "tech_team": ("resident",),
}


def has_permission(user, permission: str) -> bool:
    return bool(user and user.is_authenticated) and permission in PERMISSIONS.get(user.role, frozenset())


def scope_root(user) -> Unit | None:
    """The top of the unit subtree this person works in; None means the whole province."""
    if user.role in ("admin", "department_manager"):
        return None
    return user.unit.commune() or user.unit


def unit_in_scope(user, unit: Unit | None) -> bool:
    if unit is None:
        return False
    root = scope_root(user)
    return root is None or root.contains(unit)


def unit_scope_filter(user, unit_path_column) -> ColumnElement[bool]:
    """A WHERE clause limiting a query to the person's unit subtree (join to Unit first)."""
    root = scope_root(user)
    if root is None:
        return true()
    return path_within(unit_path_column, root.path)


def may(user, permission: str, unit: Unit | None = None) -> bool:
    """May `user` use `permission`, on something in `unit` when one is given?"""
    if not has_permission(user, permission):
        return False
    return unit is None or unit_in_scope(user, unit)


def may_view_user(viewer, person) -> bool:
    if viewer.id == person.id:
        return True
    if not may(viewer, "users.view", person.unit):
        return False
    roles = _VISIBLE_ROLES.get(viewer.role)
    return roles is None or person.role in roles


def may_manage_user(manager, person) -> bool:
    """May `manager` edit, deactivate or reset the password of `person`?"""
    if manager.id == person.id:
        return False  # one's own role and status are changed by someone else
    if not may(manager, "users.manage", person.unit):
        return False
    return person.role in ASSIGNABLE_ROLES.get(manager.role, ())


def may_issue_one_time_password(actor, person) -> bool:
    """Whoever manages the account, and whoever created it (a tech-team member who opened an
    assisted account for a resident) while they may still give that role there."""
    return may_manage_user(actor, person) or (
        person.created_by_id == actor.id and may_assign(actor, person.role, person.unit)
    )


def may_reset_attempts(actor, learner) -> bool:
    """May `actor` give `learner` their quiz attempts back? Commune managers for people in their
    area, and admins; never oneself."""
    return actor.id != learner.id and may(actor, "learning.reset_attempts", learner.unit)


def may_assign(manager, role: str, unit: Unit | None) -> bool:
    """May `manager` give `role` in `unit` to an account (new or edited)?"""
    if unit is None or role not in ASSIGNABLE_ROLES.get(manager.role, ()):
        return False
    permission = "users.create_assisted" if manager.role == "tech_team" else "users.manage"
    return may(manager, permission, unit)


def people_filter(viewer, user_model, unit_model) -> ColumnElement[bool]:
    """WHERE clause for people lists: the viewer's subtree and the roles they may see."""
    if not has_permission(viewer, "users.view"):
        return user_model.id == viewer.id
    clause = unit_scope_filter(viewer, unit_model.path)
    roles = _VISIBLE_ROLES.get(viewer.role)
    if roles is not None:
        clause = clause & user_model.role.in_(roles)
    return clause if clause is not None else false()


def may_view_visit(user, visit) -> bool:
    """The member, the team staff of the area, and the visited resident."""
    return is_visit_staff(user, visit) or (visit.resident_id is not None and visit.resident_id == user.id)


def is_visit_staff(user, visit) -> bool:
    return visit.member_id == user.id or may(user, "visits.view", visit.unit)


def may_change_visit(user, visit) -> bool:
    """Move, cancel, mark or complete: the visiting member, or whoever manages visits there."""
    return visit.member_id == user.id or may(user, "visits.manage", visit.unit)


def may_see_group_session(user, session) -> bool:
    """Group sessions are for the people of the commune they are held in (and its staff)."""
    return unit_in_scope(user, session.unit)


def may_run_group_session(user, session) -> bool:
    """Sign others up and record attendance: the host, or whoever manages visits there."""
    return session.host_id == user.id or may(user, "visits.manage", session.unit)


def oversees_campaign(user, campaign) -> bool:
    """May `user` see every member's walk list of `campaign`: whoever runs campaigns in its
    commune, and those who follow the figures there (department managers, read-only)."""
    unit = campaign.unit
    return may(user, "campaigns.manage", unit) or (may(user, "reports.view", unit) and may(user, "outcomes.view", unit))


def may_see_walk_list(user, campaign, member_id: int) -> bool:
    """A member sees their own list (in their area); overseers see anyone's."""
    if member_id == user.id and may(user, "outcomes.view", campaign.unit):
        return True
    return oversees_campaign(user, campaign)


def may_update_walk_list(user, campaign, member_id: int) -> bool:
    """A member records what happened at the households of their own list; whoever runs
    campaigns in the commune, on anyone's."""
    return member_id == user.id or may(user, "campaigns.manage", campaign.unit)


def may_update_walk_entry(user, entry) -> bool:
    return may_update_walk_list(user, entry.campaign, entry.member_id)


def ensure(allowed: bool) -> None:
    """Stop the request with 403 unless `allowed`."""
    if not allowed:
        abort(403)


# ---- privacy: consents ----


def may_see_consent(user, consent, resident=None, account=None) -> bool:
    """The person the consent is about (their account, or the account linked to the resident
    record), or staff acting for them in their area."""
    if account is not None:
        return account.id == user.id or may(user, "privacy.act", account.unit)
    if resident is not None:
        return resident.user_id == user.id or may_act_for_resident(user, resident)
    return False


# --- a person's requests about their data (app.privacy.requests) ---------------------------------


def may_act_for_resident(user, resident) -> bool:
    """File a request, correct data or restrict processing for a resident: the person themselves
    (their own record), or staff with `privacy.act` in the resident's area."""
    return (resident.user_id is not None and resident.user_id == user.id) or may(user, "privacy.act", resident.unit)


def may_see_person_requests(user) -> bool:
    """The requests list: the data-protection officer (everywhere) and commune managers (who may
    erase, in their area)."""
    return has_permission(user, "privacy.officer") or has_permission(user, "privacy.erase")


def person_requests_filter(user, unit_path_column) -> ColumnElement[bool]:
    """Which requests the list shows `user` (join to the request's Unit first)."""
    if has_permission(user, "privacy.officer"):
        return true()
    if has_permission(user, "privacy.erase"):
        return unit_scope_filter(user, unit_path_column)
    return false()


def may_handle_person_request(user, person_request) -> bool:
    """Acknowledge, close, and act on a request: the officer, or whoever may erase in the
    person's area (the commune manager)."""
    return has_permission(user, "privacy.officer") or may(user, "privacy.erase", person_request.unit)


def may_restrict(user, person) -> bool:
    """Restrict processing of `person` (a resident record or an account) or lift the restriction:
    the officer; staff with `privacy.act` for a resident record, or a resident's account, in
    their area."""
    if has_permission(user, "privacy.officer"):
        return True
    if getattr(person, "role", "resident") != "resident":
        return False  # staff and cadre accounts: the officer decides
    return may(user, "privacy.act", person.unit)


def may_see_reads_of(user, resident) -> bool:
    """Who read a resident's record: whoever acts for residents there (the officer everywhere)."""
    return may(user, "privacy.act", resident.unit)


def may_erase_resident(actor, resident) -> bool:
    """Erase a resident's data: the data-protection officer (admin) and the commune's manager."""
    return may(actor, "privacy.erase", resident.unit)


def may_erase_account(actor, person) -> bool:
    """Erase an account's data: whoever may erase in its unit and may give its role there (a
    commune manager for the members, cadres and residents of the commune; the admin for anyone)."""
    return may(actor, "privacy.erase", person.unit) and person.role in ASSIGNABLE_ROLES.get(actor.role, ())
