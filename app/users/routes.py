"""People: the list of people in one's area, creating accounts (and assisted accounts for residents
without e-mail), a person's page, deactivating and one-time passwords."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import ROLE_TITLES, User
from app.auth.operations import issue_one_time_password
from app.extensions import db
from app.privacy.access_log import record_read
from app.privacy.forms import CONSENT_FIELDS
from app.units.operations import get_unit_by_code
from app.users import operations
from app.users.blueprint import bp
from app.users.forms import AssistedAccountForm, EditUserForm, UserForm
from app.views import FORM_ERRORS, get_or_404, page_arg, refuse

PAGE_SIZE = 50


def _load_visible_user(user_id: int) -> User:
    person = get_or_404(User, user_id)
    authz.ensure(authz.may_view_user(current_user, person))
    return person


def _fill_choices(form, actor) -> None:
    form.role.choices = [
        SelectChoice(role, str(ROLE_TITLES[role])) for role in authz.ASSIGNABLE_ROLES.get(actor.role, ())
    ]
    form.unit.choices = [
        SelectChoice(unit.code, f"{'— ' * (unit.level - 1)}{unit.display_name}")
        for unit in operations.assignable_units(actor)
    ]


@bp.route("/")
@login_required
def index():
    authz.ensure(authz.has_permission(current_user, "users.view"))
    search = request.args.get("q", "").strip()[:100]
    query = operations.people_query(current_user, search or None, role=request.args.get("role"))
    pagination = db.paginate(query, page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    record_read(current_user, users=pagination.items, kind="list")
    return render_template("users/index.html", pagination=pagination, search=search, roles=ROLE_TITLES)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    authz.ensure(authz.has_permission(current_user, "users.manage"))
    form = UserForm()
    _fill_choices(form, current_user)
    if form.validate_on_submit():
        try:
            account = operations.create_user(
                current_user,
                username=form.username.data,
                full_name=form.full_name.data,
                role=form.role.data,
                unit=get_unit_by_code(form.unit.data),
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data or None,
            )
        except FORM_ERRORS as error:
            refuse(form, error)
        else:
            db.session.commit()
            if account.one_time_password:
                return render_template("users/slip.html", person=account.user, password=account.one_time_password)
            flash(_("The account %(username)s has been created.", username=account.user.username), "success")
            return redirect(url_for("users.show", user_id=account.user.id))
    status = 400 if request.method == "POST" else 200
    return render_template("users/form.html", form=form, person=None), status


@bp.route("/assisted/new", methods=["GET", "POST"])
@login_required
def new_assisted():
    authz.ensure(
        authz.has_permission(current_user, "users.create_assisted")
        or authz.has_permission(current_user, "users.manage")
    )
    form = AssistedAccountForm()
    form.village.choices = [
        SelectChoice(unit.code, unit.display_name + (f" ({unit.parent.display_name})" if unit.parent else ""))
        for unit in operations.assignable_units(current_user, villages_only=True)
    ]
    if form.validate_on_submit():
        try:
            account = operations.create_assisted_account(
                current_user,
                full_name=form.full_name.data,
                birth_year=form.birth_year.data,
                village=get_unit_by_code(form.village.data),
                phone=form.phone.data,
                consent_given=form.consent.data,
                consents=form.chosen_consents(),
                channel=form.consent_channel.data,
                evidence=form.consent_evidence.data,
            )
        except FORM_ERRORS as error:
            refuse(form, error, CONSENT_FIELDS)
        else:
            db.session.commit()
            return render_template("users/slip.html", person=account.user, password=account.one_time_password)
    status = 400 if request.method == "POST" else 200
    return render_template("users/assisted_form.html", form=form), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@login_required
def show(user_id: int):
    person = _load_visible_user(user_id)
    may_manage = authz.may_manage_user(current_user, person)
    form = EditUserForm(data=EditUserForm.stored_values(person)) if may_manage else None
    if form is not None:
        _fill_choices(form, current_user)
    if request.method == "POST":
        authz.ensure(may_manage)
        if form.validate_on_submit():
            try:
                operations.update_user(
                    current_user,
                    person,
                    full_name=form.full_name.data,
                    role=form.role.data,
                    unit=get_unit_by_code(form.unit.data),
                    email=form.email.data,
                    phone=form.phone.data,
                )
            except FORM_ERRORS as error:
                refuse(form, error)
            else:
                db.session.commit()
                flash(_("The changes have been saved."), "success")
                return redirect(url_for("users.show", user_id=person.id))
    status = 400 if request.method == "POST" else 200
    if request.method == "GET":
        record_read(current_user, users=[person], kind="person_page")
    return render_template(
        "users/show.html", person=person, form=form, action_form=EmptyForm(), may_manage=may_manage
    ), status


def _status_change(user_id: int, active: bool):
    person = _load_visible_user(user_id)
    authz.ensure(authz.may_manage_user(current_user, person))
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    operations.set_active(current_user, person, active)
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=person.full_name), "success")
    else:
        flash(_("%(name)s has been deactivated and signed out everywhere.", name=person.full_name), "success")
    return redirect(url_for("users.show", user_id=person.id))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate(user_id: int):
    return _status_change(user_id, active=False)


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate(user_id: int):
    return _status_change(user_id, active=True)


@bp.route("/<int:user_id>/one-time-password", methods=["POST"])
@login_required
def reset_password(user_id: int):
    person = _load_visible_user(user_id)
    authz.ensure(authz.may_issue_one_time_password(current_user, person))
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    password = issue_one_time_password(person, actor=current_user)
    db.session.commit()
    return render_template("users/slip.html", person=person, password=password)
