#!/usr/bin/env bash
# Restore a backup of Kỹ năng số into a new, empty PostgreSQL database, check it, and erase
# again the people erased since the backup. See deploy/backup.md.
#
#   deploy/restore.sh DUMP TARGET_URL [LEDGER]
#
# DUMP        a file written by backup.sh (pg_dump --format=custom)
# TARGET_URL  postgresql+psycopg://user@host/newdb: an existing, empty database (createdb it)
# LEDGER      the newest erasure ledger you have (`flask privacy ledger-export`, written after the
#             dump): its rows the dump lacks are put back and every erasure is applied again.
#             Without it, only the erasures the dump holds are applied again.
# The app's other settings (APP_ENV, SECRET_KEY …) come from the environment, as for the app.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  sed -n '5,12p' "$0" >&2
  exit 2
fi
DUMP="$1"
TARGET_URL="$2"
LEDGER="${3:-}"
PG_URL="${TARGET_URL/postgresql+psycopg:/postgresql:}"
PG_URL="${PG_URL/postgresql+psycopg2:/postgresql:}"
[ -r "$DUMP" ] || { echo "$DUMP: cannot read it" >&2; exit 1; }
[ -z "$LEDGER" ] || [ -r "$LEDGER" ] || { echo "$LEDGER: cannot read it" >&2; exit 1; }

tables="$(psql "$PG_URL" -Atqc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
if [ "$tables" != "0" ]; then
  echo "the target database is not empty ($tables tables); restore into a new one (createdb)" >&2
  exit 1
fi

# All or nothing: one transaction, stopping at the first error. Ownership and grants are those of
# the restoring user.
pg_restore --no-owner --no-acl --exit-on-error --single-transaction --dbname="$PG_URL" "$DUMP"

export DATABASE_URL="$TARGET_URL"
# `flask db current` marks the revision "(head)" when it is the code's newest migration.
current="$(flask db current 2>/dev/null | grep -E '^[0-9A-Za-z_]+ ' || true)"
echo "migrations: database at ${current:-no revision}"
if [ -z "$current" ] || printf '%s\n' "$current" | grep -vq '(head)'; then
  echo "the restored database is not at the code's migration head: run \`flask db upgrade\` (or restore with the code of the backup's date)" >&2
  exit 1
fi

if [ -n "$LEDGER" ]; then
  flask privacy reapply --from "$LEDGER"
else
  flask privacy reapply
fi
echo "restored: $DUMP into $(printf '%s' "$PG_URL" | sed -E 's#//[^@/]*@#//#')"
