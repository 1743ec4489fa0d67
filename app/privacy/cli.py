"""`flask privacy reapply [--from FILE]`: erase again, after a backup is restored, everyone in the
erasure ledger (first adding the rows of FILE the restored database lacks); `flask privacy
ledger-export FILE`: write the ledger out, to keep beside each backup; `flask privacy retention`:
apply the retention periods now and print what was removed."""

import json

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.exceptions import Invalid
from app.extensions import db
from app.privacy import erasure, retention

privacy_cli = AppGroup("privacy", help="Personal data: erasure and retention.")


@privacy_cli.command("reapply")
@click.option(
    "--from",
    "ledger_file",
    type=click.File("r", encoding="utf-8"),
    help="A ledger written by ledger-export after the backup was taken.",
)
def reapply_command(ledger_file):
    """Erase again every person of the erasure ledger (run after restoring a backup)."""
    if ledger_file is not None:
        try:
            added = erasure.restore_ledger(json.load(ledger_file))
        except (ValueError, Invalid) as error:
            raise click.ClickException(
                _("%(file)s: not an erasure ledger (%(error)s)", file=ledger_file.name, error=error)
            ) from None
        click.echo(_("Ledger rows put back: %(count)d.", count=added))
    count = erasure.reapply()
    db.session.commit()
    click.echo(_("Erasures applied again: %(count)d.", count=count))


@privacy_cli.command("ledger-export")
@click.argument("ledger_file", type=click.File("w", encoding="utf-8"))
def ledger_export_command(ledger_file):
    """Write the erasure ledger (ids, dates and reasons; no names) as JSON, to keep with backups."""
    entries = erasure.ledger_entries()
    json.dump(entries, ledger_file, ensure_ascii=False, indent=1)
    click.echo(_("Ledger rows written: %(count)d.", count=len(entries)))


@privacy_cli.command("retention")
def retention_command():
    """Apply the retention periods now and print what was removed."""
    report = retention.apply_retention()
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo(_("Total: %(count)d.", count=report.total))
