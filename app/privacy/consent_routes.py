"""Consent pages: the privacy notice (public), one's own consents, a resident's consents (for the
staff who act for them), withdrawing in two clicks (Withdraw → confirm), recording a consent, and
the printable receipt of one consent."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.auth.forms import EmptyForm
from app.auth.models import User
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import consents as operations
from app.privacy.blueprint import bp
from app.privacy.export import resident_for_request
from app.privacy.forms import GiveConsentForm
from app.privacy.models import PersonConsent
from app.privacy.purposes import (
    CONSENT_CHANNELS,
    DEFAULT_BASES,
    LEGAL_BASES,
    NOTICE_VERSION,
    PURPOSES,
)
from app.privacy.subjects import subject_of_resident, subject_of_user
from app.views import FORM_ERRORS, get_or_404, refuse

bp.add_app_template_global(NOTICE_VERSION, "notice_version")

TITLES = {"purposes": PURPOSES, "bases": LEGAL_BASES, "channels": CONSENT_CHANNELS}


# --- the privacy notice ------------------------------------------------------------------------


@bp.route("/notice")
def notice():
    """What the platform does with personal data, for anyone (no sign-in)."""
    return render_template(
        "privacy/notice.html",
        rows=[(key, PURPOSES[key], LEGAL_BASES[DEFAULT_BASES[key]]) for key in PURPOSES],
    )


# --- one's own consents ------------------------------------------------------------------------


def _render_list(subject, *, resident: Resident | None = None, form: GiveConsentForm | None = None, status=200):
    rows = operations.consents_of(subject)
    return (
        render_template(
            "privacy/consents.html", rows=rows, resident=resident, form=form, people=_people(rows), **TITLES
        ),
        status,
    )


def _people(rows: list[PersonConsent]) -> dict[int, User]:
    ids = {row.recorded_by_id for row in rows} | {row.withdrawn_by_id for row in rows}
    ids.discard(None)
    return {user.id: user for user in db.session.scalars(db.select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/consents")
@login_required
def my_consents():
    return _render_list(subject_of_user(current_user))


@bp.route("/consents/<purpose>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_my_consent(purpose: str):
    subject = subject_of_user(current_user)
    return _withdraw(subject, purpose, url_for("privacy.my_consents"))


def _withdraw(subject, purpose: str, back: str, resident: Resident | None = None):
    """The confirmation page (GET) and the withdrawal (POST): the second of the two clicks."""
    if purpose not in PURPOSES or not operations.has_consent(subject, purpose):
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            operations.withdraw_consent(subject, purpose, by=current_user)
        except FORM_ERRORS as error:
            refuse(None, error)
            return redirect(back)
        db.session.commit()
        flash(_("The consent has been withdrawn: %(purpose)s.", purpose=PURPOSES[purpose]), "success")
        return redirect(back)
    return render_template(
        "privacy/withdraw.html", form=form, purpose=purpose, back=back, resident=resident, **TITLES
    ), (400 if form.is_submitted() else 200)


# --- a resident's consents, for the staff acting for them --------------------------------------


@bp.route("/residents/<int:resident_id>/consents", methods=["GET", "POST"])
@login_required
def resident_consents(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    subject = subject_of_resident(resident)
    form = GiveConsentForm()
    if form.validate_on_submit():
        try:
            operations.give_consent(
                subject,
                form.purpose.data,
                recorded_by=current_user,
                basis="consent",
                channel=form.channel.data,
                evidence=form.evidence.data,
            )
        except FORM_ERRORS as error:
            status = refuse(form, error)
            return _render_list(subject, resident=resident, form=form, status=status)
        db.session.commit()
        flash(_("The consent has been recorded: %(purpose)s.", purpose=PURPOSES[form.purpose.data]), "success")
        return redirect(url_for("privacy.resident_consents", resident_id=resident.id))
    if form.is_submitted():
        return _render_list(subject, resident=resident, form=form, status=400)
    return _render_list(subject, resident=resident, form=GiveConsentForm(formdata=None))


@bp.route("/residents/<int:resident_id>/consents/<purpose>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_resident_consent(resident_id: int, purpose: str):
    resident = resident_for_request(current_user, resident_id)
    back = url_for("privacy.resident_consents", resident_id=resident.id)
    return _withdraw(subject_of_resident(resident), purpose, back, resident)


# --- the receipt -------------------------------------------------------------------------------


@bp.route("/consents/<int:consent_id>/receipt")
@login_required
def consent_receipt(consent_id: int):
    """One decision, printable, for the person to keep: who, purpose, basis, notice version,
    channel, when and who recorded it (and its withdrawal)."""
    row = get_or_404(PersonConsent, consent_id)
    resident = db.session.get(Resident, row.resident_id) if row.resident_id else None
    account = db.session.get(User, row.user_id) if row.user_id else None
    authz.ensure(authz.may_see_consent(current_user, row, resident, account))
    if resident is not None and resident.user_id != current_user.id:
        back = url_for("privacy.resident_consents", resident_id=resident.id)
    elif account is not None and account.id != current_user.id:
        back = url_for("users.show", user_id=account.id)
    else:
        back = url_for("privacy.my_consents")
    return render_template(
        "privacy/receipt.html",
        row=row,
        back=back,
        person=resident or account,
        people=_people([row]),
        **TITLES,
    )
