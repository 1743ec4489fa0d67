"""`flask reports rebuild`: recount the dashboards' summary tables."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.extensions import db
from app.reports import recount

reports_cli = AppGroup("reports", help="Dashboards' summary tables.")


@reports_cli.command("rebuild")
def rebuild_command():
    """Recount every summary table from the underlying data (after a bulk load or an upgrade)."""
    recount.rebuild()
    db.session.commit()
    click.echo(_("Summary tables rebuilt."))
