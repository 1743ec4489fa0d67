"""A forgotten password: ask for a code, then type it with a new password (on blueprint.py).

Both steps call app/auth/recovery.py, as the API does; the answer to the first step is the same
whether the account exists or not.
"""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import recovery
from app.auth.blueprint import bp
from app.auth.forms import RecoverCodeForm, RecoverForm
from app.auth.routes import begin_session
from app.db import utcnow
from app.extensions import db
from app.views import FORM_ERRORS, refuse

#: The session key holding what was typed at the first step, for the second.
LOGIN_KEY = "recovery_login"


@bp.route("/auth/recover", methods=["GET", "POST"])
def recover():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = RecoverForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            queued = recovery.start_recovery(form.login.data, request.remote_addr, utcnow())
        except FORM_ERRORS as error:
            status = refuse(form, error)
        else:
            db.session.commit()
            session[LOGIN_KEY] = form.login.data.strip()
            response = redirect(url_for("auth.recover_code"))
            return recovery.hand_over_after(response, queued) if queued is not None else response
    return render_template("auth/recover.html", form=form), status


@bp.route("/auth/recover/code", methods=["GET", "POST"])
def recover_code():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = RecoverCodeForm()
    if request.method == "GET":
        form.login.data = session.get(LOGIN_KEY)
        if not form.login.data:
            return redirect(url_for("auth.recover"))
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            user = recovery.confirm_recovery(
                form.login.data, form.code.data, form.new_password.data, request.remote_addr, utcnow()
            )
        except FORM_ERRORS as error:
            status = refuse(form, error)
        else:
            db.session.commit()
            begin_session(user)
            flash(_("Your new password is set. You are signed out on other devices."), "success")
            return redirect(url_for("main.home"))
    elif request.method == "POST" and form.login.errors:
        return redirect(url_for("auth.recover"))
    return render_template("auth/recover_code.html", form=form, minutes=recovery.CODE_MINUTES), status
