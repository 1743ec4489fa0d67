"""Course assignments (managers) and in-person classes (tech-team members)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from app import authz
from app.auth.models import User
from app.exceptions import DomainError, Invalid, NotAllowed
from app.extensions import db
from app.learning import assignments as assignment_ops
from app.learning import classes as class_ops
from app.learning.assignment_forms import AssignmentForm, TrainingClassForm
from app.learning.blueprint import bp
from app.learning.models import AUDIENCE_TITLES, AUDIENCES, Assignment, Course, TrainingClass
from app.learning.operations import active_courses, get_course
from app.units.models import Unit
from app.users.operations import assignable_units


def _show_error(form, error: DomainError) -> int:
    """Put the operation's message beside its field (or flash it); return the page's status."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
    return 403 if isinstance(error, NotAllowed) else 400


def _unit_from(code: str | None) -> Unit | None:
    if not code:
        return None
    return db.session.scalar(select(Unit).where(Unit.code == code))


def _unit_label(unit: Unit) -> str:
    return f"{'— ' * (unit.level - 1)}{unit.display_name}"


# --- assignments ---------------------------------------------------------------------------


@bp.route("/assignments/", methods=["GET", "POST"])
@login_required
def assignments():
    authz.ensure(authz.has_permission(current_user, "assignments.manage"))
    form = AssignmentForm()
    form.course.choices = [SelectChoice("", _("Choose a course"))] + [
        SelectChoice(course.slug, course.title) for course in active_courses()
    ]
    form.unit.choices = [
        SelectChoice(unit.code, _unit_label(unit)) for unit in assignment_ops.assignable_units(current_user)
    ]
    form.role.choices = [SelectChoice(role, str(AUDIENCE_TITLES[role])) for role in AUDIENCES]
    status = 200
    if form.validate_on_submit():
        try:
            assignment = assignment_ops.create_assignment(
                current_user,
                course=get_course(form.course.data),
                unit=_unit_from(form.unit.data),
                role=form.role.data,
                due_on=form.due_on.data,
                note=form.note.data,
            )
        except DomainError as error:
            db.session.rollback()
            status = _show_error(form, error)
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
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    authz.ensure(authz.may(current_user, "assignments.manage", assignment.unit))
    today = assignment_ops.local_today()
    rows = assignment_ops.assignee_statuses(assignment, today)
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


def _new_residents_from(form) -> list[class_ops.NewResident]:
    """The filled-in rows (a row without a name is an unused row)."""
    residents = []
    for entry in form.new_residents:
        row = entry.form
        if not (row.full_name.data or "").strip():
            continue
        residents.append(
            class_ops.NewResident(
                full_name=row.full_name.data,
                village=_unit_from(row.village.data),
                birth_year=row.birth_year.data,
                phone=row.phone.data,
                consent_given=bool(row.consent.data),
            )
        )
    return residents


def _show_class_error(form, error: DomainError) -> int:
    if isinstance(error, class_ops.ResidentRowError):
        # Rows are numbered among the filled-in ones; find the matching entry on the form.
        filled = [e for e in form.new_residents if (e.form.full_name.data or "").strip()]
        entry = filled[error.details.get("row", 0)] if filled else None
        field = getattr(entry.form, error.field, None) if entry is not None and error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
            return 400
    return _show_error(form, error)


@bp.route("/classes/new", methods=["GET", "POST"])
@login_required
def new_class():
    authz.ensure(authz.has_permission(current_user, "classes.record"))
    courses = active_courses()
    form = TrainingClassForm()
    slug = form.course.data if request.method == "POST" else request.args.get("course", "")
    course = get_course(slug) if slug else None
    if request.method == "GET":
        form.held_on.data = assignment_ops.local_today()
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
            # Recording the class checks every attendee's unit.
            chosen = list(
                db.session.scalars(
                    select(User).where(User.id.in_(form.attendees.data or [])).options(joinedload(User.unit))
                )
            )
            try:
                if len(chosen) != len(set(form.attendees.data or [])):
                    raise Invalid(_("Some of the people chosen do not exist."), field="attendees")
                recorded = class_ops.record_training_class(
                    current_user,
                    course=course,
                    module_keys=form.modules.data or [],
                    held_on=form.held_on.data,
                    place=form.place.data,
                    attendees=chosen,
                    new_residents=_new_residents_from(form),
                )
            except DomainError as error:
                db.session.rollback()
                status = _show_class_error(form, error)
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
    modules = {module.key: module for module in course.modules}
    return render_template(
        "learning/class.html",
        training_class=training_class,
        course=course,
        modules=[modules[key] for key in training_class.module_keys if key in modules],
        attendees=class_ops.class_attendees(training_class),
        new_accounts=list(new_accounts),
        new_ids={account.user.id for account in new_accounts},
    )


@bp.route("/classes/<int:class_id>")
@login_required
def training_class(class_id: int):
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None:
        abort(404)
    authz.ensure(class_ops.may_view_class(current_user, training_class))
    return _render_class(training_class)
