"""The base of every form: WTForms' own messages ("This field is required.", "Not a valid date
value." …) in the person's language.

WTForms ships no Vietnamese or Bengali catalog, so its messages are named below to be extracted
into ours and looked up there. Every form of the site derives from AppForm (with CSRF) or, for a
GET form or a row inside another form, from SubForm."""

from __future__ import annotations

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, ValidationError

from app.exceptions import Invalid


class FormTranslations:
    """gettext and ngettext for WTForms, from the catalog of the language in force."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


FORM_TRANSLATIONS = FormTranslations()


class TranslatedMeta:
    def get_translations(self, form):
        return FORM_TRANSLATIONS


class AppForm(FlaskForm):
    class Meta(TranslatedMeta, FlaskForm.Meta):
        pass


class SubForm(Form):
    class Meta(TranslatedMeta):
        pass


def rule(check):
    """A field validator from an operation's rule: `check(form, value)` raises Invalid, which
    shows on the field together with every other error of the form, not in a second round once
    the others are fixed. The operation checks the same rule again (it is also the API's door).
    An empty field is left to the field's own validators."""

    def validate(form, field):
        if field.data is None or field.errors:
            return
        try:
            check(form, field.data)
        except Invalid as error:
            raise ValidationError(error.message) from None

    return validate


#: WTForms' messages, as WTForms writes them (so they land in our catalogs).
WTFORMS_MESSAGES = (
    _l("Invalid field name '%s'."),
    _l("Field must be equal to %(other_name)s."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1
    ),
    lazy_ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    _l("Invalid Choice: could not coerce."),
    _l("Choices cannot be None."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1
    ),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)
