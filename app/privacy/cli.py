"""`flask privacy reapply`: erase again, after a backup is restored, everyone in the erasure
ledger; `flask privacy retention`: apply the retention periods now and print what was removed."""

import click
from flask.cli import AppGroup

from app.extensions import db
from app.privacy import erasure, retention

privacy_cli = AppGroup("privacy", help="Personal data: erasure and retention.")


@privacy_cli.command("reapply")
def reapply_command():
    """Erase again every person of the erasure ledger (run after restoring a backup)."""
    count = erasure.reapply()
    db.session.commit()
    click.echo(f"Erasures applied again: {count}.")


@privacy_cli.command("retention")
def retention_command():
    """Apply the retention periods now and print what was removed."""
    report = retention.apply_retention()
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo(f"Total: {report.total}.")
