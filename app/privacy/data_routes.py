"""The personal-data register for the data-protection officer, and a person's data as a printable
page and a JSON download (their own, or a resident's for whoever acts for residents there).

The rules are in app.privacy.export (what is gathered, who may ask) and app.authz.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from flask import Response, render_template
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import authz
from app.i18n import format_date
from app.privacy import register
from app.privacy.blueprint import bp
from app.privacy.export import data_of_resident, my_personal_data, resident_for_request, resident_personal_data
from app.privacy.purposes import DATA_KINDS, LEGAL_BASES, PURPOSES
from app.privacy.rows import FIELD_TITLES


@bp.route("/register")
@login_required
def register_page():
    authz.ensure(authz.has_permission(current_user, "privacy.officer"))
    tables = sorted(register.load().values(), key=lambda entry: (not entry.personal, str(entry.title)))
    return render_template(
        "privacy/register.html",
        tables=tables,
        kinds=DATA_KINDS,
        purposes=PURPOSES,
        bases=LEGAL_BASES,
        retention=register.RETENTION,
        sensitive=sum(1 for entry in tables for field in entry.personal.values() if field.kind == "sensitive"),
    )


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def shown(value) -> str:
    """An exported value as the printable page shows it: dates and times in the reader's
    language, yes/no, lists and ratings joined."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {shown(item)}" for key, item in value.items())
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        return format_datetime(datetime.fromisoformat(value), "short")
    if isinstance(value, str) and _ISO_DAY.match(value):
        return format_date(date.fromisoformat(value))
    return str(value)


def _download(data: dict, filename: str) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(data: dict, *, heading: str, download_url: str, back=None):
    response = Response(
        render_template(
            "privacy/personal_data.html",
            data=data,
            heading=heading,
            download_url=download_url,
            back=back,
            field_titles=FIELD_TITLES,
            shown=shown,
            # Each table's keys, in the order its rows first give them.
            columns={
                name: list(dict.fromkeys(k for item in t["rows"] for k in item)) for name, t in data["tables"].items()
            },
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/me")
@login_required
def my_data():
    return _page(
        my_personal_data(current_user),
        heading=_("My data: %(name)s", name=current_user.full_name),
        download_url="privacy.my_data_json",
    )


@bp.route("/me.json")
@login_required
def my_data_json():
    return _download(my_personal_data(current_user), f"my-data-{current_user.id}.json")


@bp.route("/residents/<int:resident_id>")
@login_required
def resident_data(resident_id: int):
    resident = resident_for_request(current_user, resident_id)
    return _page(
        data_of_resident(resident),
        heading=_("Personal data of %(name)s", name=resident.full_name),
        download_url="privacy.resident_data_json",
        back=resident,
    )


@bp.route("/residents/<int:resident_id>.json")
@login_required
def resident_data_json(resident_id: int):
    return _download(resident_personal_data(current_user, resident_id), f"resident-{resident_id}.json")
