"""Managing accounts: created by managers, or assisted accounts made by tech-team members."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from app import authz
from app.audit.operations import record
from app.auth.models import ROLE_TITLES, ROLES, User
from app.auth.operations import check_new_password, generate_one_time_password, normalise_username
from app.db import utcnow
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.phones import normalise_phone
from app.privacy.consents import check_decision, give_consent
from app.privacy.register import Subject
from app.reports import summaries
from app.units.models import KIND_LEVELS, Unit, path_within

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: The unit levels each role's account may belong to (1 province, 2 commune or ward, 3 village or
#: residential group). The area a manager or tech-team member reads is found from their unit, so
#: those roles belong only where that area is right: a commune manager placed at the province would
#: read every commune. Cadres and residents see only their own records; they may also belong to
#: the province (the province's own offices, people registered there).
ROLE_LEVELS: dict[str, tuple[int, ...]] = {
    "admin": (1,),
    "department_manager": (1,),
    "commune_manager": (2,),
    "tech_team": (2, 3),
    "cadre": (1, 2, 3),
    "resident": (1, 2, 3),
}
#: A password hash that no password matches: an account's until its password is set.
NO_PASSWORD = "!"  # noqa: S105 (a marker, not a password)


@dataclass
class NewAccount:
    user: User
    #: Shown once, on the slip; never stored in clear.
    one_time_password: str | None


def validate_username(username: str) -> str:
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise Invalid(
            _("A username has 3 to 64 characters: lowercase letters, digits, dot, dash or underscore."),
            field="username",
        )
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid(_("The username %(username)s is already taken.", username=username), field="username")
    return username


def clean_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise Invalid(_("This e-mail address does not look right."), field="email")
    return email.lower()


def _clean_name(full_name: str) -> str:
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise Invalid(_("Enter the person's full name."), field="full_name")
    if len(full_name) > 200:
        raise Invalid(_("The name is too long."), field="full_name")
    return full_name


def role_fits_unit(role: str, unit: Unit) -> bool:
    return unit.level in ROLE_LEVELS.get(role, ())


def check_role_level(role: str, unit: Unit) -> None:
    """Raise Invalid (on the unit field) when `role` does not belong at `unit`'s level."""
    if role_fits_unit(role, unit):
        return
    levels = ROLE_LEVELS[role]
    title = ROLE_TITLES[role]
    if levels == (1,):
        message = _("The role “%(role)s” belongs to the province: choose the province as the unit.", role=title)
    elif levels == (2,):
        message = _(
            "The role “%(role)s” belongs to a commune or ward: choose a commune or ward as the unit.", role=title
        )
    else:
        message = _(
            "The role “%(role)s” belongs to a commune, ward, village or residential group, not to the province.",
            role=title,
        )
    raise Invalid(message, field="unit")


def _check_role_and_unit(role: str, unit: Unit | None) -> None:
    if role not in ROLES:
        raise Invalid(_("Choose a role from the list."), field="role")
    if unit is None:
        raise Invalid(_("Choose a unit from the list."), field="unit")


def _check_assignment(actor: User, role: str, unit: Unit | None) -> None:
    _check_role_and_unit(role, unit)
    if not authz.may_assign(actor, role, unit):
        raise NotAllowed(_("You may not give this role in this unit."), field="role")
    check_role_level(role, unit)


def _set_chosen_password(user: User, password: str) -> None:
    # check_new_password compares the new password with the current one; a new account has none.
    if user.password_hash is None:
        user.password_hash = NO_PASSWORD
    check_new_password(user, password)
    user.set_password(password)


def create_user(
    actor: User,
    *,
    username: str,
    full_name: str,
    role: str,
    unit: Unit | None,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
) -> NewAccount:
    """Create an account. Without a password a one-time password is issued, to be changed at
    first sign-in. Raises Invalid or NotAllowed; writes nothing in that case."""
    _check_assignment(actor, role, unit)
    user = User(
        username=validate_username(username),
        full_name=_clean_name(full_name),
        email=clean_email(email),
        phone=normalise_phone(phone),
        role=role,
        unit=unit,
        created_by_id=actor.id,
    )
    one_time = None
    if password:
        _set_chosen_password(user, password)
    else:
        one_time = generate_one_time_password()
        user.set_password(one_time)
        user.must_change_password = True
    db.session.add(user)
    db.session.flush()
    summaries.on_person_changed(user)
    record("user_created", actor=actor, target=user, details={"role": role, "unit": unit.code})
    return NewAccount(user, one_time)


def create_user_by_operator(*, username: str, full_name: str, role: str, unit: Unit | None, password: str) -> User:
    """An account made on the server's command line (the first admin of a new installation):
    the same checks as `create_user` but no manager's scope. Raises Invalid."""
    _check_role_and_unit(role, unit)
    check_role_level(role, unit)
    user = User(
        username=validate_username(username),
        full_name=_clean_name(full_name),
        role=role,
        unit=unit,
    )
    _set_chosen_password(user, password)
    db.session.add(user)
    db.session.flush()
    summaries.on_person_changed(user)
    record("user_created", target=user, details={"role": role, "unit": unit.code})
    return user


def suggest_username(full_name: str) -> str:
    """'Nguyễn Thị Lan' -> 'lan.nt' plus digits, ASCII only, not yet taken."""
    folded = unicodedata.normalize("NFKD", full_name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == " ")).lower()
    parts = ascii_name.split() or ["user"]
    base = parts[-1] + ("." + "".join(p[0] for p in parts[:-1]) if len(parts) > 1 else "")
    base = base[:40]
    for _attempt in range(50):
        candidate = f"{base}{secrets.randbelow(900) + 100}"
        if db.session.scalar(select(User.id).where(User.username == candidate)) is None:
            return candidate
    return f"{base}{secrets.token_hex(4)}"


def create_assisted_account(
    actor: User,
    *,
    full_name: str,
    birth_year: int | None,
    village: Unit | None,
    phone: str | None,
    consent_given: bool,
    consents: list[tuple[str, str]] = (),
    channel: str = "assisted",
    evidence: str | None = None,
) -> NewAccount:
    """A resident's account made by a tech-team member (or manager) on their behalf.

    The resident's consent to the account (`consent_given`, given by `channel`) and each other
    consent they gave (purpose, channel) are recorded with the notice version, the date and who
    recorded them; the account gets a one-time password to be changed at first sign-in.
    """
    decisions = [check_decision(purpose, "consent", way, evidence) for purpose, way in consents]
    account_decision = check_decision("account", "consent", channel, evidence)
    if not consent_given:
        raise Invalid(
            _("Ask the resident for consent and tick the box before creating the account."),
            field="consent",
        )
    if village is None or village.level != 3:
        raise Invalid(_("Choose the resident's village or residential group."), field="village")
    this_year = utcnow().year
    if birth_year is not None and not (1900 <= birth_year <= this_year):
        raise Invalid(_("Enter a birth year between 1900 and %(year)d.", year=this_year), field="birth_year")
    _check_assignment(actor, "resident", village)
    name = _clean_name(full_name)
    one_time = generate_one_time_password()
    user = User(
        username=suggest_username(name),
        full_name=name,
        birth_year=birth_year,
        phone=normalise_phone(phone),
        role="resident",
        unit=village,
        must_change_password=True,
        created_by_id=actor.id,
    )
    user.set_password(one_time)
    db.session.add(user)
    db.session.flush()
    summaries.on_person_changed(user)
    subject = Subject(user.id)
    for purpose, basis, way, reference in (account_decision, *decisions):
        give_consent(subject, purpose, recorded_by=actor, basis=basis, channel=way, evidence=reference)
    record("assisted_account_created", actor=actor, target=user, details={"unit": village.code})
    return NewAccount(user, one_time)


def update_user(
    actor: User,
    user: User,
    *,
    full_name: str,
    role: str,
    unit: Unit | None,
    email: str | None,
    phone: str | None,
) -> None:
    """Change a person's details, role or unit. Raises Invalid or NotAllowed."""
    if not authz.may_manage_user(actor, user):
        raise NotAllowed(_("You may not change this account."))
    _check_assignment(actor, role, unit)
    moving = role != user.role or unit.id != user.unit_id
    if moving:
        summaries.on_person_changing(user)
    changes = {}
    new_values = {
        "full_name": _clean_name(full_name),
        "role": role,
        "email": clean_email(email),
        "phone": normalise_phone(phone),
    }
    for name, value in new_values.items():
        if getattr(user, name) != value:
            # Personal details are noted as changed without their values; role changes in full.
            changes[name] = [user.role, value] if name == "role" else "changed"
            setattr(user, name, value)
    if user.unit_id != unit.id:
        changes["unit"] = [user.unit.code, unit.code]
        user.unit = unit
    if moving:
        db.session.flush()
        summaries.on_person_changed(user)
    if "role" in changes or "unit" in changes:
        # New rights or scope take effect at the next sign-in, everywhere.
        user.end_sessions()
    if changes:
        record("user_updated", actor=actor, target=user, details=changes)


def set_active(actor: User, user: User, active: bool) -> None:
    if not authz.may_manage_user(actor, user):
        raise NotAllowed(_("You may not change this account."))
    if user.active == active:
        return
    summaries.on_person_changing(user)
    user.active = active
    summaries.on_person_changed(user)
    if not active:
        user.end_sessions()
    record("user_reactivated" if active else "user_deactivated", actor=actor, target=user)


def people_query(viewer: User, search: str | None = None, *, role: str | None = None, unit: Unit | None = None):
    """The people `viewer` may see, optionally filtered; a select() to paginate."""
    query = (
        select(User)
        .join(User.unit)
        .options(contains_eager(User.unit))
        .where(authz.people_filter(viewer, User, Unit), User.erased_at.is_(None))
        .order_by(Unit.path, User.full_name, User.id)
    )
    if search:
        needle = search.strip().lower()
        query = query.where(
            or_(
                func.lower(User.full_name).contains(needle, autoescape=True),
                User.username.contains(needle, autoescape=True),
            )
        )
    if role in ROLES:
        query = query.where(User.role == role)
    if unit is not None:
        query = query.where(path_within(Unit.path, unit.path))
    return query


def misplaced_accounts() -> list[User]:
    """Accounts whose role does not fit their unit's level (see ROLE_LEVELS), for
    `flask units check`: made before the rule, or written around the operations."""
    allowed = [
        (User.role == role) & Unit.kind.in_([kind for kind, level in KIND_LEVELS.items() if level in levels])
        for role, levels in ROLE_LEVELS.items()
    ]
    return list(
        db.session.scalars(
            select(User)
            .join(User.unit)
            .options(contains_eager(User.unit))
            .where(~or_(*allowed))
            .order_by(Unit.path, User.username)
        )
    )


def assignable_units(actor: User, *, villages_only: bool = False) -> list[Unit]:
    query = select(Unit).where(authz.unit_scope_filter(actor, Unit.path)).order_by(Unit.path)
    if villages_only:
        query = query.where(Unit.kind.in_(("village", "residential_group")))
    return list(db.session.scalars(query))
