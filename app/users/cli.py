import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.auth.models import ROLE_TITLES, ROLES
from app.exceptions import Invalid
from app.extensions import db
from app.units.operations import get_unit_by_code
from app.users.operations import create_user_by_operator

users_cli = AppGroup("users", help="Accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--unit", "unit_code", required=True, help="Code of the person's unit.")
@click.password_option()
def create_command(username, full_name, role, unit_code, password):
    """Create an account (the first admin of a new installation, for example). Speaks the
    installation's default language."""
    unit = get_unit_by_code(unit_code)
    if unit is None:
        click.echo(_("No unit with code %(code)s; import units first (flask units import).", code=unit_code), err=True)
        sys.exit(1)
    try:
        user = create_user_by_operator(username=username, full_name=full_name, role=role, unit=unit, password=password)
    except Invalid as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        sys.exit(1)
    db.session.commit()
    title = ROLE_TITLES[role]
    click.echo(_("Created %(username)s (%(role)s) in %(unit)s.", username=user.username, role=title, unit=unit.name))
