"""Course assignments (managers) and in-person classes (tech-team members)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import authz
from app.db import local_today
from app.extensions import db
from app.learning import assignments as assignment_ops
from app.learning import classes as class_ops
from app.learning.blueprint import bp
from app.learning.forms import AssignmentForm, TrainingClassForm
from app.learning.models import AUDIENCE_TITLES, AUDIENCES, Assignment, Course, TrainingClass
from app.learning.operations import active_courses, get_course
from app.privacy.access_log import record_read
from app.units.operations import get_unit_by_code
from app.users.operations import assignable_units
from app.views import FORM_ERRORS, get_or_404, refuse, unit_choices

# --- assignments ---------------------------------------------------------------------------


@bp.route("/assignments/", methods=["GET", "POST"])
@login_required
def assignments():
    assignment_ops.check_may_assign(current_user)
    form = AssignmentForm()
    form.course.choices = [SelectChoice("", _("Choose a course"))] + [
        SelectChoice(course.slug, course.title) for course in active_courses()
    ]
    form.unit.choices = unit_choices(assignment_ops.assignable_units(current_user))
    form.role.choices = [SelectChoice(role, str(AUDIENCE_TITLES[role])) for role in AUDIENCES]
    status = 200
    if form.validate_on_submit():
        try:
            assignment = assignment_ops.create_assignment(
                current_user,
                course=get_course(form.course.data),
                unit=get_unit_by_code(form.unit.data),
                role=form.role.data,
                due_on=form.due_on.data,
                note=form.note.data,
            )
        except FORM_ERRORS as error:
            refuse(form, error)
            # A refused assignment, a duplicate included, is the form shown again with 400.
            status = 400
        else:
            db.session.commit()
            flash(_("The course has been assigned."), "success")
            return redirect(url_for("learning.assignment", assignment_id=assignment.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "learning/assignments.html",
        form=form,
        summaries=assignment_ops.assignments_in_scope(current_user),
        audiences=AUDIENCE_TITLES,
    ), status


@bp.route("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    assignment = get_or_404(Assignment, assignment_id)
    authz.ensure(authz.may(current_user, "assignments.manage", assignment.unit))
    today = local_today()
    rows = assignment_ops.assignee_statuses(assignment, today)
    record_read(current_user, users=[row.user for row in rows], kind="list")
    counts = assignment_ops.assignment_counts([assignment.id], today).get(assignment.id, (0, 0, 0))
    return render_template(
        "learning/assignment.html",
        assignment=assignment,
        rows=rows,
        counts=dict(zip(("assigned", "completed", "overdue"), counts, strict=True)),
        limit=assignment_ops.ASSIGNEE_LIST_LIMIT,
        audiences=AUDIENCE_TITLES,
    )


# --- in-person classes ---------------------------------------------------------------------


def _filled_rows(form) -> list:
    """The new-resident rows filled in (a row without a name is an unused row)."""
    return [entry.form for entry in form.new_residents if (entry.form.full_name.data or "").strip()]


def _new_residents_from(form) -> list[class_ops.NewResident]:
    return [
        class_ops.NewResident(
            full_name=row.full_name.data,
            village=get_unit_by_code(row.village.data),
            birth_year=row.birth_year.data,
            phone=row.phone.data,
            consent_given=bool(row.consent.data),
        )
        for row in _filled_rows(form)
    ]


def _form_showing(form, error):
    """Where the error goes: the new-resident row it names (rows are numbered among the filled-in
    ones) when that row has the field, else the class form."""
    if isinstance(error, class_ops.ResidentRowError) and error.field:
        rows = _filled_rows(form)
        index = error.details.get("row", 0)
        if 0 <= index < len(rows) and hasattr(rows[index], error.field):
            return rows[index]
    return form


@bp.route("/classes/new", methods=["GET", "POST"])
@login_required
def new_class():
    class_ops.check_may_record_classes(current_user)
    courses = active_courses()
    form = TrainingClassForm()
    slug = form.course.data if request.method == "POST" else request.args.get("course", "")
    course = get_course(slug) if slug else None
    if request.method == "GET":
        form.held_on.data = local_today()
        if course is not None:
            form.course.data = course.slug
    villages = [SelectChoice("", _("Choose a village"))] + [
        SelectChoice(unit.code, unit.display_name + (f" ({unit.parent.display_name})" if unit.parent else ""))
        for unit in assignable_units(current_user, villages_only=True)
    ]
    for entry in form.new_residents:
        entry.form.village.choices = villages
    people = class_ops.attendee_choices(current_user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                recorded = class_ops.record_training_class(
                    current_user,
                    course=course,
                    module_keys=form.modules.data or [],
                    held_on=form.held_on.data,
                    place=form.place.data,
                    attendees=class_ops.attendees_by_id(form.attendees.data),
                    new_residents=_new_residents_from(form),
                )
            except (*FORM_ERRORS, class_ops.ResidentRowError) as error:
                status = refuse(_form_showing(form, error), error)
            else:
                db.session.commit()
                flash(_("The class has been recorded and the attendees credited."), "success")
                return _render_class(recorded.training_class, recorded.new_accounts)
    return render_template(
        "learning/class_form.html",
        form=form,
        courses=courses,
        course=course,
        people=people,
        people_limit=class_ops.ATTENDEE_CHOICES_LIMIT,
        chosen_people=set(form.attendees.data or []),
        chosen_modules=set(form.modules.data or []),
        recent=class_ops.recent_classes(current_user),
    ), status


def _render_class(training_class: TrainingClass, new_accounts=()):
    course = db.session.get(Course, training_class.course_id)
    attendees = class_ops.class_attendees(training_class)
    record_read(current_user, users=attendees, kind="list")
    modules = {module.key: module for module in course.modules}
    return render_template(
        "learning/class.html",
        training_class=training_class,
        course=course,
        modules=[modules[key] for key in training_class.module_keys if key in modules],
        attendees=attendees,
        new_accounts=list(new_accounts),
        new_ids={account.user.id for account in new_accounts},
    )


@bp.route("/classes/<int:class_id>")
@login_required
def training_class(class_id: int):
    training_class = get_or_404(TrainingClass, class_id)
    authz.ensure(class_ops.may_view_class(current_user, training_class))
    return _render_class(training_class)
