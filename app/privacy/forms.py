"""Forms of the privacy pages, and the consent fields other forms carry (one unticked box per
purpose, how the consent was given, the paper form's reference)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from app.forms import AppForm
from app.privacy.purposes import CONSENT_CHANNELS, CONSENT_PURPOSES, LEGAL_BASES, PURPOSES, RECORD_BASES

#: What the person is asked, per purpose (the boxes are never ticked beforehand).
CONSENT_QUESTIONS = {
    "help_visits": _l("Agrees to receive help from the tech team: their request and visits are recorded."),
    "messages": _l("Agrees to receive reminders and messages."),
    "progress_sharing": _l("Agrees that their learning progress and milestones are shared with the commune."),
}

#: The consent operations' field names, as the forms with ConsentFields call them.
CONSENT_FIELDS = {"consents": "consent_help_visits", "channel": "consent_channel", "evidence": "consent_evidence"}


def channel_choices() -> list[SelectChoice]:
    return [SelectChoice(key, title) for key, title in CONSENT_CHANNELS.items()]


def basis_choices() -> list[SelectChoice]:
    return [SelectChoice(key, LEGAL_BASES[key]) for key in RECORD_BASES]


class ConsentFields:
    """Mixed into a AppForm: one unticked box per purpose, the channel and the evidence."""

    consent_help_visits = BooleanField(CONSENT_QUESTIONS["help_visits"], default=False)
    consent_messages = BooleanField(CONSENT_QUESTIONS["messages"], default=False)
    consent_progress_sharing = BooleanField(CONSENT_QUESTIONS["progress_sharing"], default=False)
    consent_channel = SelectField(
        _l("How the consent is given"), choices=channel_choices(), default="assisted", validate_choice=False
    )
    consent_evidence = StringField(
        _l("Paper form reference (when signed on paper)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )

    def consent_boxes(self):
        return [getattr(self, f"consent_{purpose}") for purpose in CONSENT_PURPOSES]

    def chosen_consents(self) -> list[tuple[str, str]]:
        """(purpose, channel) for every ticked box."""
        return [
            (purpose, self.consent_channel.data)
            for purpose in CONSENT_PURPOSES
            if getattr(self, f"consent_{purpose}").data
        ]


class LegalBasisField:
    """Mixed into a AppForm: the legal basis of a record, with no choice made beforehand."""

    # Checked by the operation (app.privacy.consents.check_consents), the API's rule too.
    legal_basis = RadioField(_l("Legal basis of this record"), choices=basis_choices(), validate_choice=False)


class GiveConsentForm(AppForm):
    purpose = SelectField(
        _l("Purpose"),
        choices=[SelectChoice(key, PURPOSES[key]) for key in CONSENT_PURPOSES],
        validate_choice=False,
    )
    channel = SelectField(_l("How the consent is given"), choices=channel_choices(), validate_choice=False)
    evidence = StringField(_l("Paper form reference (when signed on paper)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Record the consent"))
