"""Forms of the outcome pages: residents, milestones, self-assessments, household import,
milestones after a group session, campaigns and walk lists, closing a ledger month."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.db import local_today
from app.forms import AppForm, rule
from app.outcomes.campaigns import check_campaign_dates
from app.outcomes.models import CONFIRMATION_TITLES, CONFIRMATIONS, RECORDED_STATUSES, WALK_STATUS_TITLES
from app.outcomes.operations import CONFIDENCE_STATEMENTS
from app.privacy.forms import ConsentFields, LegalBasisField

STAGE_TITLES = {
    "first_contact": _l("First contact"),
    "close": _l("Close of support"),
}


def confirmation_choices() -> list[SelectChoice]:
    return [SelectChoice(key, CONFIRMATION_TITLES[key]) for key in CONFIRMATIONS]


class ResidentForm(LegalBasisField, ConsentFields, AppForm):
    # The operation checks the village against the member's area.
    village = SelectField(
        _l("Village or residential group"),
        validators=[InputRequired(_l("Choose the resident's village or residential group."))],
        validate_choice=False,
    )
    full_name = StringField(
        _l("Full name"),
        validators=[InputRequired(_l("Enter the resident's full name.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    birth_year = IntegerField(
        _l("Year of birth (optional)"),
        validators=[Optional(), NumberRange(1900, 2100, _l("Enter a year such as 1958."))],
        render_kw={"inputmode": "numeric"},
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=32)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Add the resident"))

    def validate_birth_year(self, field):
        if field.data is not None and field.data > local_today().year:
            raise ValidationError(_l("The year of birth cannot be in the future."))


class MilestoneForm(AppForm):
    # Checked against the active milestones and the commune's members by the view.
    milestone = SelectField(
        _l("Milestone"), validators=[InputRequired(_l("Choose the milestone."))], validate_choice=False
    )
    on_date = DateField(_l("Date reached"), validators=[InputRequired(_l("Enter the date."))])
    confirmation = RadioField(
        _l("How was it confirmed?"),
        choices=confirmation_choices(),
        validators=[InputRequired(_l("Choose how it was confirmed."))],
    )
    helped_by = SelectField(_l("Who helped"), validate_choice=False)
    submit = SubmitField(_l("Record the milestone"))


class AssessmentForm(AppForm):
    """The confidence self-assessment; one 1–5 field per statement is added below."""

    stage = RadioField(
        _l("When"),
        choices=[SelectChoice(key, title) for key, title in STAGE_TITLES.items()],
        validators=[InputRequired(_l("Choose when the self-assessment was taken."))],
    )
    submit = SubmitField(_l("Record the self-assessment"))


for _key, _text in CONFIDENCE_STATEMENTS.items():
    setattr(
        AssessmentForm,
        _key,
        RadioField(
            _text,
            choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
            validators=[Optional()],
        ),
    )


class LinkAccountForm(AppForm):
    account = SelectField(_l("Account"), validators=[InputRequired(_l("Choose the account."))], validate_choice=False)
    submit = SubmitField(_l("Link the account"))


class HouseholdImportForm(LegalBasisField, ConsentFields, AppForm):
    # Shown to people who work province-wide; a commune manager imports for their own commune.
    commune = SelectField(_l("Commune or ward"), validate_choice=False)
    file = FileField(
        _l("Household list (.csv or .xlsx)"),
        validators=[
            FileRequired(_l("Choose a .csv or .xlsx file.")),
            FileAllowed(["csv", "xlsx"], _l("The file must be a .csv or .xlsx file.")),
        ],
    )
    submit = SubmitField(_l("Import"))


class GroupSessionMilestonesForm(AppForm):
    # The people are checked against the session's attendees by the operation.
    people = SelectMultipleField(_l("Who reached it"), validate_choice=False)
    milestone = SelectField(
        _l("Milestone"), validators=[InputRequired(_l("Choose the milestone."))], validate_choice=False
    )
    confirmation = SelectField(
        _l("How was it confirmed?"),
        choices=confirmation_choices(),
        validators=[InputRequired(_l("Choose how it was confirmed."))],
    )
    credit_learning = BooleanField(_l("Credit the matching lessons as completed with help"))
    submit = SubmitField(_l("Record for the people ticked"))


class CampaignForm(AppForm):
    # Villages and members are checked against the commune by create_campaign.
    name = StringField(
        _l("Name of the campaign"),
        validators=[InputRequired(_l("Give the campaign a name.")), Length(max=200)],
        description=_l("For example: e-ID activation, village 3, this month."),
    )
    milestone = SelectField(
        _l("Milestone to reach"),
        validators=[InputRequired(_l("Choose the milestone the campaign aims at."))],
        validate_choice=False,
    )
    villages = SelectMultipleField(
        _l("Villages"),
        validators=[InputRequired(_l("Choose one or more villages of this commune."))],
        validate_choice=False,
    )
    starts_on = DateField(_l("First day"), validators=[InputRequired(_l("Enter the first day of the campaign."))])
    ends_on = DateField(
        _l("Last day"),
        validators=[
            InputRequired(_l("Enter the last day of the campaign.")),
            rule(lambda form, day: form.starts_on.data and check_campaign_dates(form.starts_on.data, day)),
        ],
    )
    members = SelectMultipleField(
        _l("Members who walk the lists"),
        validators=[InputRequired(_l("Choose at least one member."))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Create the campaign and its walk lists"))


class WalkStatusForm(AppForm):
    # The operation checks the status again (validate_choice would give WTForms' generic message).
    status = RadioField(
        _l("What happened?"),
        choices=[SelectChoice(key, WALK_STATUS_TITLES[key]) for key in RECORDED_STATUSES],
        validators=[InputRequired(_l("Choose what happened at this household."))],
        validate_choice=False,
    )
    note = StringField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=300, message=_l("Keep the note under 300 characters."))],
    )
    submit = SubmitField(_l("Save"))


class CloseMonthForm(AppForm):
    month = HiddenField(validators=[InputRequired(_l("Say which month to close."))])
