"""`flask courses validate` and `flask courses sync`: check the course folders, bring the database
in line with them."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.extensions import db
from app.learning.content import sync_courses, validate_courses
from config import BASE_DIR

COURSES_DIR = BASE_DIR / "courses"
courses_cli = AppGroup("courses", help="Course content in courses/.")


@courses_cli.command("validate")
def validate_command():
    """Check every course folder; print each problem with its file and place."""
    specs, problems = validate_courses(COURSES_DIR)
    for problem in problems:
        click.echo(str(problem), err=not problem.warning)
    errors = [problem for problem in problems if not problem.warning]
    click.echo(
        _(
            "Courses valid: %(courses)d; errors: %(errors)d; warnings: %(warnings)d.",
            courses=len(specs),
            errors=len(errors),
            warnings=len(problems) - len(errors),
        )
    )
    if errors:
        sys.exit(1)


@courses_cli.command("sync")
@click.option("--force", is_flag=True, help="Rewrite courses even if their files did not change.")
def sync_command(force: bool):
    """Load the course folders into the database, keeping learners' progress."""
    _specs, problems = validate_courses(COURSES_DIR)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        for problem in errors:
            click.echo(str(problem), err=True)
        click.echo(_("Nothing was synced; fix the problems above."), err=True)
        sys.exit(1)
    result = sync_courses(COURSES_DIR, force=force)
    db.session.commit()
    click.echo(
        _(
            "Created: %(created)s; updated: %(updated)s; unchanged: %(unchanged)d; retired: %(retired)s",
            created=", ".join(result.created) or "-",
            updated=", ".join(result.updated) or "-",
            unchanged=len(result.unchanged),
            retired=", ".join(result.retired) or "-",
        )
    )
