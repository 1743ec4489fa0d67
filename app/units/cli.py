import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from app.audit.operations import record
from app.extensions import db
from app.units.operations import UnitImportError, import_units, unit_problems
from app.users.operations import ROLE_LEVELS, misplaced_accounts

units_cli = AppGroup("units", help="Administrative units.")


@units_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_file: Path):
    """Import or update units from CSV_FILE (code,name,kind,parent_code,population)."""
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        click.echo(_("%(file)s: not UTF-8 text; save the file as CSV UTF-8.", file=csv_file), err=True)
        sys.exit(1)
    try:
        result = import_units(text)
    except UnitImportError as error:
        db.session.rollback()
        click.echo(f"{csv_file}: {error.message}", err=True)
        for problem in error.problems:
            click.echo(f"  {csv_file}:{problem.line}: {problem.message}", err=True)
        sys.exit(1)
    record(
        "units_imported",
        details={"file": csv_file.name, "created": result.created, "updated": result.updated},
    )
    db.session.commit()
    counts = {"created": result.created, "updated": result.updated}
    click.echo(_("%(file)s: %(created)d created, %(updated)d updated.", file=csv_file, **counts))


@units_cli.command("check")
def check_command():
    """Report units whose code or path breaks the rules, and accounts whose role does not fit
    their unit's level. Changes nothing; exits with 1 when there is anything to fix."""
    problems = unit_problems()
    for user in misplaced_accounts():
        levels = " or ".join(str(level) for level in ROLE_LEVELS[user.role])
        problems.append(
            f"account {user.username!r}: a {user.role} belongs at unit level {levels}, "
            f"but {user.unit.code!r} is a {user.unit.kind} (level {user.unit.level})"
        )
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(ngettext("%(num)d problem found.", "%(num)d problems found.", len(problems)), err=True)
        sys.exit(1)
    click.echo(_("No problems found."))
