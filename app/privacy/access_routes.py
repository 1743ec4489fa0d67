"""Who read whose record: the officer's log (filtered by reader, person and dates), the reads of
one resident's record for those who act for them, and a signed-in person's own."""

from __future__ import annotations

from datetime import date

from flask import flash, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.models import User
from app.db import day_from
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.access_log import ReadFilter, reads_of_resident, reads_of_user, reads_query, write_recorded_reads
from app.privacy.blueprint import bp
from app.privacy.minimise import masked_phone
from app.privacy.models import READ_KINDS
from app.views import clean_arg, get_or_404, id_from, page_arg

PAGE_SIZE = 50

# The reads a request recorded are written once it has answered.
bp.after_app_request(write_recorded_reads)
bp.add_app_template_filter(masked_phone, "masked_phone")


def _day_arg(name: str) -> date | None:
    """?since= / ?until= as a date; anything else is no filter, said on the page."""
    try:
        return day_from(clean_arg(name, 64))
    except ValueError:
        flash(_("Give a date as YYYY-MM-DD."), "error")
        return None


def _user_by_username(name: str) -> User | None:
    if not name:
        return None
    return db.session.scalar(select(User).where(User.username == name))


@bp.route("/reads")
@login_required
def reads():
    """The officer's log of every read, newest first."""
    authz.ensure(authz.may(current_user, "privacy.officer"))
    reader_name, person_name = clean_arg("reader", 80), clean_arg("person", 80)
    resident_arg = clean_arg("resident", 12)
    reader, person = _user_by_username(reader_name), _user_by_username(person_name)
    resident_id = id_from(resident_arg)
    unknown = (reader_name and reader is None) or (person_name and person is None) or (resident_arg and not resident_id)
    filters = ReadFilter(
        reader_id=reader.id if reader else None,
        user_id=person.id if person else None,
        resident_id=resident_id,
        since=_day_arg("since"),
        until=_day_arg("until"),
    )
    if unknown:
        flash(_("No one has this name or number."), "error")
        pagination = None
    else:
        pagination = db.paginate(reads_query(filters), page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "privacy/reads.html",
        pagination=pagination,
        kinds=READ_KINDS,
        officer=True,
        args={
            "reader": reader_name,
            "person": person_name,
            "resident": resident_arg,
            "since": filters.since.isoformat() if filters.since else "",
            "until": filters.until.isoformat() if filters.until else "",
        },
    )


@bp.route("/residents/<int:resident_id>/reads")
@login_required
def resident_reads(resident_id: int):
    """Who read this resident's record: for whoever acts for residents in their area."""
    resident = get_or_404(Resident, resident_id)
    authz.ensure(authz.may_see_reads_of(current_user, resident))
    pagination = db.paginate(reads_of_resident(resident), page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template("privacy/reads.html", pagination=pagination, kinds=READ_KINDS, resident=resident, args={})


@bp.route("/me/reads")
@login_required
def my_reads():
    """Who read the signed-in person's record."""
    pagination = db.paginate(reads_of_user(current_user), page=page_arg(), per_page=PAGE_SIZE, error_out=False)
    return render_template("privacy/reads.html", pagination=pagination, kinds=READ_KINDS, mine=True, args={})
