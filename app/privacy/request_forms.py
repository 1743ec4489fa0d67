"""The forms of a person's requests, corrections and restriction of processing."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from app.forms import AppForm
from app.phones import local_format
from app.privacy.models import REQUEST_KIND_CHOICES, REQUEST_KIND_TITLES, REQUEST_OUTCOME_TITLES
from app.privacy.requests import MAX_TEXT


class PersonRequestForm(AppForm):
    kind = SelectField(
        _l("What do you ask for?"), choices=[SelectChoice(key, title) for key, title in REQUEST_KIND_CHOICES.items()]
    )
    details = TextAreaField(
        _l("Details (optional)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("For a correction, say what is wrong; for a consent, which one."),
    )
    submit = SubmitField(_l("Send the request"))


class ResidentRequestForm(PersonRequestForm):
    """A request staff record for a resident."""

    kind = SelectField(
        _l("What does the person ask for?"),
        choices=[SelectChoice(key, title) for key, title in REQUEST_KIND_TITLES.items()],
    )


class CloseRequestForm(AppForm):
    outcome = SelectField(
        _l("Outcome"), choices=[SelectChoice(key, title) for key, title in REQUEST_OUTCOME_TITLES.items()]
    )
    note = TextAreaField(_l("What was done, or why it is refused"), validators=[Optional(), Length(max=MAX_TEXT)])
    submit = SubmitField(_l("Close the request"))


class AccountCorrectionForm(AppForm):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    phone = StringField(_l("Phone (optional)"), validators=[Length(max=32)])
    email = StringField(_l("E-mail (optional)"), validators=[Length(max=254)])
    birth_year = StringField(
        _l("Birth year (optional)"), validators=[Length(max=4)], render_kw={"inputmode": "numeric"}
    )
    submit = SubmitField(_l("Save the corrections"))

    @staticmethod
    def stored_values(person) -> dict:
        return {
            "full_name": person.full_name,
            "phone": local_format(person.phone),
            "email": person.email or "",
            "birth_year": str(person.birth_year or ""),
        }


class ResidentCorrectionForm(AppForm):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    birth_year = StringField(
        _l("Birth year (optional)"), validators=[Length(max=4)], render_kw={"inputmode": "numeric"}
    )
    phone = StringField(_l("Phone (optional)"), validators=[Length(max=32)])
    submit = SubmitField(_l("Save the corrections"))

    @staticmethod
    def stored_values(resident) -> dict:
        return {
            "full_name": resident.full_name,
            "birth_year": str(resident.birth_year or ""),
            "phone": local_format(resident.phone),
        }
