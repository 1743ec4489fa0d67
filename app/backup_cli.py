"""`flask db backup PATH`: an online copy of a SQLite database, for small installations.

It uses SQLite's backup API (the same as the `.backup` command of the sqlite3 shell): the copy is
one consistent snapshot, taken while the app keeps serving (in WAL mode writers go on while it
reads). It is written beside PATH under a temporary name and then linked into place, so PATH is
either absent or a whole backup, and an existing file is never overwritten.

PostgreSQL installations back up with `pg_dump` (deploy/backup.sh, described in deploy/backup.md).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import click
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_migrate.cli import db as db_cli_group

from app.extensions import db


class BackupError(Exception):
    """The backup cannot be made; the message says why."""


def sqlite_backup(database: str | Path, target: str | Path) -> int:
    """Copy the SQLite database file `database` to `target` (which must not exist) while other
    connections go on using it. Returns the size of the copy in bytes."""
    source_path, target = Path(database), Path(target)
    if not source_path.is_file():
        raise BackupError(f"{source_path}: no such database file")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} already exists; choose a new name (a backup never overwrites a file)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    descriptor, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(descriptor)
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        try:
            copy = sqlite3.connect(partial)
            try:
                with copy:
                    source.backup(copy)
                # A copy that stands alone: one file, no -wal beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
                problem = copy.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                copy.close()
        finally:
            source.close()
        if problem != "ok":
            raise BackupError(f"the copy failed its check: {problem}")
        try:
            os.link(partial, target)  # fails if the name was taken meanwhile: never overwrites
        except FileExistsError:
            raise BackupError(f"{target} already exists; choose a new name") from None
    finally:
        Path(partial).unlink(missing_ok=True)
    return target.stat().st_size


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path):
    """Copy the SQLite database to TARGET while the app runs (refuses an existing file).
    PostgreSQL: use pg_dump (deploy/backup.sh)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            _(
                "`flask db backup` copies a SQLite database; this one is %(kind)s: "
                "use pg_dump (deploy/backup.sh, see deploy/backup.md).",
                kind=url.get_backend_name(),
            )
        )
    if url.database in (None, "", ":memory:"):
        raise click.ClickException(_("This SQLite database lives in memory; there is no file to back up."))
    try:
        size = sqlite_backup(url.database, target)
    except (BackupError, sqlite3.Error, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Backup written: %(file)s (%(size)s bytes).", file=target, size=format_decimal(size)))


def register() -> None:
    """Add `backup` to Flask-Migrate's `flask db` group."""
    db_cli_group.add_command(backup_command)
