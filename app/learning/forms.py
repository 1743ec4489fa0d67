"""The learning pages' forms: course assignments and in-person classes."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import AppForm, SubForm, rule
from app.learning.assignments import check_due_date
from app.learning.classes import check_class_date

#: Rows for residents registered on the spot at a class.
NEW_RESIDENT_ROWS = 3


class AssignmentForm(AppForm):
    # Choices are checked by the operation, which says clearly what is wrong (unknown course or
    # unit, a unit outside the manager's area) instead of a generic "not a valid choice".
    course = SelectField(_l("Course"), validators=[InputRequired(_l("Choose a course."))], validate_choice=False)
    unit = SelectField(
        _l("Unit"),
        validators=[InputRequired(_l("Choose a unit."))],
        validate_choice=False,
        description=_l("Everyone with the chosen role in this unit and the units under it."),
    )
    role = SelectField(_l("For"), validators=[InputRequired(_l("Choose who the course is for."))])
    due_on = DateField(
        _l("Due date"),
        validators=[InputRequired(_l("Enter the due date.")), rule(lambda form, day: check_due_date(day))],
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Assign the course"))


class NewResidentRow(SubForm):
    """One resident registered on the spot (a plain Form: the class form carries the CSRF token)."""

    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional(), NumberRange(1900, 2100, _l("Enter a year such as 1960."))],
        render_kw={"inputmode": "numeric"},
    )
    village = SelectField(_l("Village or residential group"), validate_choice=False)
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    consent = BooleanField(
        _l(
            "The resident agrees that an account is created for them and that I record their name, "
            "birth year, village and phone for digital-skills support."
        )
    )


class TrainingClassForm(AppForm):
    course = HiddenField(validators=[InputRequired(_l("Choose a course."))])
    modules = SelectMultipleField(_l("Modules covered"), validate_choice=False)
    held_on = DateField(
        _l("Date of the class"),
        validators=[InputRequired(_l("Enter the date of the class.")), rule(lambda form, day: check_class_date(day))],
    )
    place = StringField(
        _l("Place"),
        validators=[InputRequired(_l("Enter where the class was held.")), Length(max=200)],
        description=_l("For example: the village cultural house."),
    )
    attendees = SelectMultipleField(_l("Attendees"), coerce=int, validate_choice=False)
    new_residents = FieldList(FormField(NewResidentRow), min_entries=NEW_RESIDENT_ROWS, max_entries=NEW_RESIDENT_ROWS)
    submit = SubmitField(_l("Record the class"))
