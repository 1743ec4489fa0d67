from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import AppForm
from app.phones import local_format
from app.privacy.forms import ConsentFields


class UserForm(AppForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter a username.")), Length(max=64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")), Length(max=200)])
    email = StringField(_l("E-mail (optional)"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    role = SelectField(_l("Role"), validators=[InputRequired(_l("Choose a role."))])
    unit = SelectField(_l("Unit"), validators=[InputRequired(_l("Choose a unit."))])
    password = PasswordField(
        _l("Password (optional)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave empty to print a one-time password that must be changed at first sign-in."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save"))


class EditUserForm(UserForm):
    username = None
    password = None

    @staticmethod
    def stored_values(person) -> dict:
        """What the form shows before any change. Given as `data`, not `obj`: WTForms would take
        the unit from `obj` (a Unit, matching no choice) over any keyword, and the page would then
        offer the first unit of the list instead of the person's."""
        return {
            "full_name": person.full_name,
            "email": person.email or "",
            "phone": local_format(person.phone),
            "role": person.role,
            "unit": person.unit.code,
        }


class AssistedAccountForm(ConsentFields, AppForm):
    full_name = StringField(
        _l("Resident's full name"),
        validators=[DataRequired(_l("Enter the resident's full name.")), Length(max=200)],
    )
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional(), NumberRange(1900, 2100, _l("Enter a year such as 1960."))],
        render_kw={"inputmode": "numeric"},
    )
    village = SelectField(_l("Village or residential group"), validators=[InputRequired(_l("Choose a village."))])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    consent = BooleanField(
        _l(
            "The resident agrees that an account is created for them and that I record their name, "
            "birth year, village and phone for digital-skills support."
        )
    )
    submit = SubmitField(_l("Create account and print slip"))
