"""`flask reports rebuild`: recount the dashboards' summary tables."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from app.extensions import db
from app.reports import recount

reports_cli = AppGroup("reports", help="Dashboards' summary tables.")


@reports_cli.command("rebuild")
def rebuild_command():
    """Recount every summary table from the underlying data (after a bulk load or an upgrade)."""
    recount.rebuild()
    db.session.commit()
    click.echo(_("Summary tables rebuilt."))


@reports_cli.command("check")
def check_command():
    """Compare every summary table with a recount from scratch; exit 1 when one differs."""
    found = recount.check_drift()
    db.session.commit()
    for name, count in found.items():
        click.echo(ngettext("%(table)s: %(num)d row differs", "%(table)s: %(num)d rows differ", count, table=name))
    if any(found.values()):
        raise SystemExit(1)
