"""Forms of the tech teams' pages: teams, availability, help requests, triage, booking, the
visit page and group sessions.

Choices that depend on the person (units in their area, members of a commune) are filled in by
the view; the operations check them and say clearly what is wrong, so most selects here do not
validate their choice themselves.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
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
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.db import LOCAL_TZ
from app.forms import AppForm, SubForm, rule
from app.outcomes.models import CONFIRMATION_TITLES, CONFIRMATIONS
from app.outcomes.operations import active_milestones
from app.visits.models import SKILL_TITLES, SKILLS
from app.visits.teams import check_exception_date
from app.visits.time_rules import check_start_to_come

#: Visit lengths offered by the slot finder, in minutes.
DURATIONS = (30, 45, 60, 90)
#: Times offered for availability, every quarter of an hour.
TIME_STEP = 15


def skill_choices(*, blank=None) -> list[SelectChoice]:
    choices = [SelectChoice(key, SKILL_TITLES[key]) for key in SKILLS]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def time_choices(*, ends=False) -> list[SelectChoice]:
    """00:00 … 23:45 for a start, 00:15 … 24:00 for an end (24:00 is midnight at the end of
    the day)."""
    minutes = range(TIME_STEP, 24 * 60 + 1, TIME_STEP) if ends else range(0, 24 * 60, TIME_STEP)
    return [SelectChoice(f"{m // 60:02d}:{m % 60:02d}") for m in minutes]


def parse_time_choice(value: str | None) -> int | None:
    """Minutes after midnight for "HH:MM" (up to "24:00"), None if it is not such a time."""
    try:
        hours, minutes = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        return None
    return hours * 60 + minutes


#: Under free-text notes about a person: health is sensitive data the platform has no purpose for.
NO_HEALTH_DETAILS = _l(
    "Write only what the help needs. Do not write health details, illnesses or disabilities: "
    "they are sensitive personal data."
)


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes (rendered as a fieldset by the templates)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


#: The start of a visit or session to come, checked with the form's other fields.
START_TO_COME = rule(
    lambda form, at: form.date.data and check_start_to_come(datetime.combine(form.date.data, at, tzinfo=LOCAL_TZ))
)


# --- teams ---------------------------------------------------------------------------------


class TeamForm(AppForm):
    name = StringField(
        _l("Team name"),
        validators=[DataRequired(_l("Give the team a name.")), Length(max=200)],
        description=_l("For example: Tech team of Thôn 1A."),
    )
    unit = SelectField(
        _l("Commune or village"),
        validators=[InputRequired(_l("Choose the commune or village the team works in."))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Create the team"))


class MemberSkillsForm(AppForm):
    skills = CheckboxesField(_l("Kinds of help offered"), validate_choice=False)
    is_leader = BooleanField(_l("Team leader"))
    submit = SubmitField(_l("Save"))


class AddMemberForm(MemberSkillsForm):
    user = SelectField(
        _l("Tech-team member"),
        validators=[InputRequired(_l("Choose a tech-team member of this commune."))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Add to the team"))


# --- availability --------------------------------------------------------------------------


class WeeklyWindowForm(AppForm):
    weekday = SelectField(_l("Day of the week"), validate_choice=False)
    start = SelectField(_l("From"), default="18:00", validate_choice=False)
    end = SelectField(_l("Until"), default="20:00", validate_choice=False)
    submit = SubmitField(_l("Add these hours"))


class ExceptionForm(AppForm):
    on_date = DateField(
        _l("Date"), validators=[InputRequired(_l("Enter the date.")), rule(lambda form, day: check_exception_date(day))]
    )
    kind = RadioField(
        _l("What changes on that day"),
        choices=[
            SelectChoice("away_day", _l("Away all day")),
            SelectChoice("away_hours", _l("Away some hours")),
            SelectChoice("extra", _l("Extra hours")),
        ],
        default="away_day",
        validate_choice=False,
    )
    start = SelectField(
        _l("From"),
        default="08:00",
        validate_choice=False,
        description=_l("Only for some hours away or extra hours."),
    )
    end = SelectField(_l("Until"), default="12:00", validate_choice=False)
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save the date"))


# --- help requests -------------------------------------------------------------------------


class HelpRequestForm(AppForm):
    name = StringField(
        _l("Name of the person to help"),
        validators=[DataRequired(_l("Enter the name of the person to help.")), Length(max=200)],
    )
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=32)],
        description=_l("So that the team can call to agree on a time."),
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    unit = SelectField(
        _l("Village or residential group"),
        validators=[InputRequired(_l("Choose the village or commune where help is needed."))],
        validate_choice=False,
    )
    skill = SelectField(
        _l("What help is needed"),
        validators=[InputRequired(_l("Choose a kind of help from the list."))],
        validate_choice=False,
    )
    place = StringField(
        _l("Address or meeting point"),
        validators=[DataRequired(_l("Enter the address or meeting point.")), Length(max=300)],
        description=_l("For example: house number and lane, or the village cultural house."),
    )
    preferred_times = StringField(
        _l("Preferred times (optional)"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: weekday evenings after 18:00."),
    )
    note = TextAreaField(
        _l("What is the problem? (optional)"),
        validators=[Optional(), Length(max=2000)],
        description=NO_HEALTH_DETAILS,
    )
    consent = BooleanField(
        _l(
            "The person agrees that their name, phone, village and this request are recorded so "
            "that the tech team can contact them and help."
        )
    )
    submit = SubmitField(_l("Send the request"))


class RequestStatusForm(AppForm):
    status = HiddenField()


class TriageFilterForm(SubForm):
    """The filters of the triage list (a GET form: nothing changes)."""

    status = SelectField(_l("Status"), default="new", validate_choice=False)
    skill = SelectField(_l("Kind of help"), default="", validate_choice=False)


# --- slot finder and booking ---------------------------------------------------------------


class SlotSearchForm(SubForm):
    """Date range and length for the slot finder (a GET form)."""

    from_date = DateField(_l("From"), name="from", validators=[Optional()])
    days = IntegerField(
        _l("Number of days"),
        default=7,
        validators=[Optional(), NumberRange(1, 31, _l("Choose from 1 to 31 days."))],
        render_kw={"inputmode": "numeric"},
    )
    duration = SelectField(
        _l("Length of the visit"),
        choices=[SelectChoice(str(m), _l("%(n)d minutes", n=m)) for m in DURATIONS],
        default="60",
        validate_choice=False,
    )


class SlotFinderForm(SlotSearchForm):
    unit = SelectField(_l("Commune or village"), validate_choice=False)
    skill = SelectField(_l("Kind of help"), validate_choice=False)


class BookSlotForm(AppForm):
    member_id = HiddenField()
    start = HiddenField()
    duration = HiddenField()


class OverrideFields:
    """Setting a member's hours, travel time and daily limit aside, for those who may (the
    operation checks who and asks for the reason)."""

    override = BooleanField(_l("Book even outside the member's hours, travel time or daily limit"))
    override_reason = StringField(
        _l("Why (needed when the usual hours are set aside)"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: the resident can only be visited at this time."),
    )


class BookTimeForm(OverrideFields, AppForm):
    """Booking a time of one's choosing rather than one of the slots offered."""

    # The operation checks the member against the commune's teams and the kind of help.
    member = SelectField(
        _l("Tech-team member"),
        validators=[InputRequired(_l("Choose a tech-team member of this commune."))],
        validate_choice=False,
    )
    date = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time.")), START_TO_COME])
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=60,
        validators=[InputRequired(_l("Enter the duration in minutes."))],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Book this time"))


# --- the visit page and group sessions -----------------------------------------------------


def milestone_choices() -> list[SelectChoice]:
    return [SelectChoice(milestone.key, milestone.name) for milestone in active_milestones()]


class RescheduleForm(OverrideFields, AppForm):
    date = DateField(_l("New date"), validators=[InputRequired(_l("Enter the date."))])
    time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time.")), START_TO_COME])
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        validators=[InputRequired(_l("Enter the duration in minutes."))],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Move the visit"))


class CancelVisitForm(AppForm):
    reason = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Say why the visit is cancelled.")), Length(max=300)],
        description=_l("For example: the resident is ill, or the team member cannot come."),
    )
    submit = SubmitField(_l("Cancel the visit"))


class CancelRequestForm(AppForm):
    # The operation checks the length and says clearly what is wrong.
    reason = StringField(
        _l("Reason (optional)"),
        description=_l("For example: my grandson helped me already."),
    )
    submit = SubmitField(_l("Cancel my request"))


class TimeWishForm(AppForm):
    """The resident's wish for another time; the operation checks it (one of the two is needed)."""

    wish = StringField(
        _l("When would suit you better?"),
        description=_l("For example: Saturday morning, or after 5 pm on weekdays."),
    )
    on_date = DateField(_l("A date that suits you (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Ask for another time"))


class ContactPromiseForm(AppForm):
    contact_promise_days = IntegerField(
        _l("The team calls within (working days)"),
        validators=[InputRequired(_l("Enter a number of working days."))],
        description=_l("Residents who ask for help are told when to expect the call. Weekends do not count."),
    )
    submit = SubmitField(_l("Save the promise"))


class WorkPhoneForm(AppForm):
    work_phone = StringField(
        _l("Work phone for residents"),
        description=_l("Shown to the residents you are booked to visit. Leave empty to show none."),
    )
    submit = SubmitField(_l("Save the work phone"))


class CompleteVisitForm(AppForm):
    # The operation checks the skills and says clearly what is wrong.
    skills_done = SelectMultipleField(_l("What you helped with"), validate_choice=False)
    outcome = RadioField(
        _l("Outcome"),
        choices=[
            SelectChoice("resolved", _l("Resolved")),
            SelectChoice("follow_up", _l("Follow-up needed")),
        ],
        validators=[InputRequired(_l("Say whether the problem was resolved."))],
    )
    minutes_spent = IntegerField(
        _l("Time spent in minutes"),
        validators=[
            InputRequired(_l("Enter the time spent in minutes.")),
            NumberRange(1, 24 * 60, _l("Enter the time spent in minutes.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    notes = TextAreaField(
        _l("Notes (optional)"), validators=[Optional(), Length(max=4000)], description=NO_HEALTH_DETAILS
    )
    rating = RadioField(
        _l("The resident's rating (optional)"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        validators=[Optional()],
        description=_l("Ask the resident: from 1 (not helpful) to 5 (very helpful)."),
    )
    follow_up_reason = StringField(
        _l("What still needs to be done (if a follow-up is needed)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("For example: activating the account needs a trip to the police office."),
    )
    follow_up_due = DateField(
        _l("Follow up by (optional)"),
        validators=[Optional()],
        description=_l("Leave empty for one week from today."),
    )
    # The operation checks the milestone keys and says clearly what is wrong.
    milestones = SelectMultipleField(_l("Milestones reached during the visit"), validate_choice=False)
    milestone_confirmation = SelectField(
        _l("How were they confirmed?"),
        choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(k, CONFIRMATION_TITLES[k]) for k in CONFIRMATIONS],
        default="",
    )
    credit_learning = BooleanField(_l("Credit the matching lessons as completed with help"))
    submit = SubmitField(_l("Record the outcome"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.milestones.choices = milestone_choices()

    def validate_milestone_confirmation(self, field):
        if self.milestones.data and not field.data:
            raise ValidationError(_l("Choose how the milestones were confirmed."))


class GroupSessionForm(AppForm):
    title = StringField(
        _l("Title"),
        validators=[InputRequired(_l("Give the session a title.")), Length(max=200)],
        description=_l("For example: Sunday morning help with the e-ID app."),
    )
    # The operation checks the unit and the host against the planner's area.
    unit = SelectField(
        _l("Village or commune"),
        validators=[InputRequired(_l("Choose the village or commune."))],
        validate_choice=False,
    )
    place = StringField(
        _l("Place"),
        validators=[InputRequired(_l("Enter the place.")), Length(max=300)],
        description=_l("For example: the village cultural house."),
    )
    date = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time.")), START_TO_COME])
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        default=120,
        validators=[InputRequired(_l("Enter the duration in minutes."))],
        render_kw={"inputmode": "numeric"},
    )
    skills = SelectMultipleField(_l("Kinds of help"), validate_choice=False)
    capacity = IntegerField(
        _l("Number of places"),
        default=20,
        validators=[InputRequired(_l("Enter the number of places."))],
        render_kw={"inputmode": "numeric"},
    )
    host = SelectField(_l("Host"), validators=[InputRequired(_l("Choose the host."))], validate_choice=False)
    submit = SubmitField(_l("Plan the session"))


class SignUpResidentForm(AppForm):
    person = SelectField(_l("Resident"), validators=[InputRequired(_l("Choose a resident."))], validate_choice=False)
    submit = SubmitField(_l("Sign up"))


class NoticeAddressForm(AppForm):
    """A member's choice of home addresses in their calendar feed and e-mails about visits."""

    with_address = BooleanField(_l("Show the home address of my visits in my calendar and e-mails"))
