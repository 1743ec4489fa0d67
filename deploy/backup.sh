#!/usr/bin/env bash
# Back up the PostgreSQL database of Kỹ năng số while it runs: a pg_dump in custom format and the
# erasure ledger beside it. See deploy/backup.md.
#
#   deploy/backup.sh [BACKUP_DIR]
#
# Reads the app's own settings from the environment (as the app and scheduler are started):
# DATABASE_URL (postgresql+psycopg://user@host/dbname), APP_ENV, SECRET_KEY … Writes
#   BACKUP_DIR/kns-<UTC time>.dump            pg_dump --format=custom (restore with restore.sh)
#   BACKUP_DIR/kns-<UTC time>.erasures.json   the erasure ledger at that moment
# and removes dumps older than KEEP_DAYS (default 14; 0 keeps everything).
# PG_DUMP_OPTIONS adds options to pg_dump (e.g. --snapshot=ID, --jobs needs the directory format).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL as for the app (postgresql+psycopg://user@host/dbname)}"
BACKUP_DIR="${1:-${BACKUP_DIR:-/var/backups/kynangso}}"
KEEP_DAYS="${KEEP_DAYS:-14}"
# libpq does not know SQLAlchemy's driver suffix.
PG_URL="${DATABASE_URL/postgresql+psycopg:/postgresql:}"
PG_URL="${PG_URL/postgresql+psycopg2:/postgresql:}"
case "$PG_URL" in
  postgresql://* | postgres://*) ;;
  *) echo "backup.sh backs up PostgreSQL; for SQLite use: flask db backup PATH" >&2; exit 2 ;;
esac

mkdir -p "$BACKUP_DIR"
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dump="$BACKUP_DIR/kns-$stamp.dump"
ledger="$BACKUP_DIR/kns-$stamp.erasures.json"
if [ -e "$dump" ] || [ -e "$ledger" ]; then
  echo "$dump already exists; not overwriting it" >&2
  exit 1
fi

# One consistent snapshot of the live database (readers and writers go on); written under a
# temporary name and renamed, so a *.dump file is always whole.
# shellcheck disable=SC2086
pg_dump --format=custom --compress=6 ${PG_DUMP_OPTIONS:-} --file="$dump.partial" "$PG_URL"
pg_restore --list "$dump.partial" >/dev/null   # the archive reads back
mv "$dump.partial" "$dump"

# The ledger of erasures: a later restore erases these people again (restore.sh). Keep the
# newest ledger too (cron it more often than the dump: see backup.md).
flask privacy ledger-export "$ledger.partial" >/dev/null
mv "$ledger.partial" "$ledger"

if [ "$KEEP_DAYS" -gt 0 ]; then
  find "$BACKUP_DIR" -maxdepth 1 -name 'kns-*' -type f -mtime "+$KEEP_DAYS" -delete
fi
echo "backup: $dump ($(du -h "$dump" | cut -f1)), ledger: $ledger"
