from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from app.forms import AppForm
from app.i18n import LANGUAGE_NAMES


def new_password_field() -> PasswordField:
    """A new password (judged by app.auth.passwords when submitted). A function, not a base
    class, so each form keeps its fields in the order they are written."""
    return PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=200)],
        description=_l("At least 8 characters. A short sentence is easy to remember."),
        render_kw={"autocomplete": "new-password"},
    )


def confirm_field() -> PasswordField:
    """The new password typed again."""
    return PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two new passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(AppForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = new_password_field()
    confirm = confirm_field()
    submit = SubmitField(_l("Change password"))


class PreferencesForm(AppForm):
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("Same as my browser"))]
        + [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()],
    )
    submit = SubmitField(_l("Save"))


#: The choices of each place in the channel order ("" leaves the place empty).
CHANNEL_CHOICES = [
    SelectChoice("", _l("(none)")),
    SelectChoice("zalo", _l("Zalo")),
    SelectChoice("sms", _l("SMS (text message)")),
    SelectChoice("email", _l("E-mail")),
    SelectChoice("in_app", _l("Only in this app")),
]


class ChannelsForm(AppForm):
    """The phone and the order of channels messages go by (app.auth.contact)."""

    phone = StringField(
        _l("Phone number"),
        validators=[Length(max=40)],
        description=_l("Needed for Zalo and SMS. For example 0912 345 678."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    first = SelectField(_l("First try"), choices=CHANNEL_CHOICES)
    second = SelectField(_l("Then"), choices=CHANNEL_CHOICES)
    third = SelectField(_l("Last"), choices=CHANNEL_CHOICES)
    submit = SubmitField(_l("Save how I am reached"))

    def channels(self) -> list[str]:
        return [value for value in (self.first.data, self.second.data, self.third.data) if value]


class EmptyForm(AppForm):
    """For buttons that only post (sign out, deactivate): carries the CSRF token."""


class RecoverForm(AppForm):
    login = StringField(
        _l("Username, phone number or e-mail"),
        validators=[DataRequired(_l("Enter your username, phone number or e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Send me a code"))


class RecoverCodeForm(AppForm):
    #: The username, phone or e-mail the code was asked for, kept from the first step.
    login = HiddenField(validators=[DataRequired(), Length(max=254)])
    code = StringField(
        _l("6-digit code"),
        validators=[DataRequired(_l("Enter the 6-digit code from the message.")), Length(max=20)],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "pattern": "[0-9 ]*",
            "maxlength": "7",
            "spellcheck": "false",
        },
    )
    new_password = new_password_field()
    confirm = confirm_field()
    submit = SubmitField(_l("Set the new password"))
