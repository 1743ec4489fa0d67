"""Forms of the visit page and the group-session pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
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
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.outcomes.models import CONFIRMATION_TITLES, CONFIRMATIONS
from app.visits.models import SKILL_TITLES, SKILLS


def skill_choices() -> list[SelectChoice]:
    return [SelectChoice(key, SKILL_TITLES[key]) for key in SKILLS]


def milestone_choices() -> list[SelectChoice]:
    from app.outcomes.operations import active_milestones

    return [SelectChoice(milestone.key, milestone.name) for milestone in active_milestones()]


class RescheduleForm(FlaskForm):
    date = DateField(_l("New date"), validators=[InputRequired(_l("Enter the date."))])
    time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time."))])
    duration_minutes = IntegerField(
        _l("Duration in minutes"),
        validators=[InputRequired(_l("Enter the duration in minutes."))],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Move the visit"))


class CancelVisitForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Say why the visit is cancelled.")), Length(max=300)],
        description=_l("For example: the resident is ill, or the team member cannot come."),
    )
    submit = SubmitField(_l("Cancel the visit"))


class CompleteVisitForm(FlaskForm):
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
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), Length(max=4000)])
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


class GroupSessionForm(FlaskForm):
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
    time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the start time."))])
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


class SignUpResidentForm(FlaskForm):
    person = SelectField(_l("Resident"), validators=[InputRequired(_l("Choose a resident."))], validate_choice=False)
    submit = SubmitField(_l("Sign up"))
