"""Signing in and out, the first-sign-in password change, and one's own account settings."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import contact, operations
from app.auth.blueprint import bp
from app.auth.forms import ChangePasswordForm, ChannelsForm, EmptyForm, LoginForm, PreferencesForm
from app.exceptions import Invalid
from app.extensions import db
from app.phones import local_format
from app.views import FORM_ERRORS, refuse

# Only the visitor's display choices survive a sign-in; everything else in the session is dropped
# so a session prepared by someone else cannot be carried into the account.
_KEPT_SESSION_KEYS = ("lang", "large_text")


def is_safe_next(target: str | None) -> bool:
    """Only paths on this site; never another host, scheme or a protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def begin_session(user) -> None:
    """Sign `user` in on this browser with a fresh session (only the display choices kept)."""
    kept = {key: session[key] for key in _KEPT_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    session.permanent = True
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        # Counted by the sign-in limits: 429 when this address has no tries left for the account.
        user = operations.authenticate(form.username.data, form.password.data)
        if user is not None:
            begin_session(user)
            db.session.commit()
            if user.must_change_password:
                flash(_("Welcome! Please choose your own password before you continue."), "info")
                return redirect(url_for("auth.change_password"))
            target = form.next.data if is_safe_next(form.next.data) else url_for("main.home")
            return redirect(target)
        form.password.errors.append(_("The username or password is not correct."))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        operations.sign_out_everywhere(current_user._get_current_object())
        db.session.commit()
    logout_user()
    kept = {key: session[key] for key in _KEPT_SESSION_KEYS if key in session}
    session.clear()
    session.update(kept)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            # A wrong current password counts like a failed sign-in (429 when too many).
            operations.change_password(user, form.current_password.data, form.new_password.data)
        except FORM_ERRORS as error:
            status = refuse(form, error)
        else:
            db.session.commit()
            # The epoch changed, so this browser needs a fresh session as well.
            login_user(user)
            flash(_("Your password has been changed. You are signed out on other devices."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form), status


def _channels_form(formdata=None) -> ChannelsForm:
    order = [*contact.preferred_channels(current_user), "", "", ""]
    return ChannelsForm(
        formdata=formdata,
        phone=local_format(current_user.phone),
        first=order[0],
        second=order[1],
        third=order[2],
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PreferencesForm(locale=current_user.locale or "")
    if form.validate_on_submit():
        current_user.locale = form.locale.data or None
        db.session.commit()
        flash(_("Your settings have been saved."), "success")
        return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    channels_form = _channels_form(formdata=None)
    return render_template("auth/account.html", form=form, channels_form=channels_form), status


@bp.route("/account/channels", methods=["POST"])
@login_required
def account_channels():
    channels_form = _channels_form(formdata=request.form)
    status = 400
    if channels_form.validate_on_submit():
        try:
            contact.update_contact(current_user, phone=channels_form.phone.data, channels=channels_form.channels())
        except Invalid as error:
            status = refuse(channels_form, error, {"preferred_channels": "first"})
        else:
            db.session.commit()
            flash(_("Your settings have been saved."), "success")
            return redirect(url_for("auth.account"))
    form = PreferencesForm(formdata=None, locale=current_user.locale or "")
    return render_template("auth/account.html", form=form, channels_form=channels_form), status
