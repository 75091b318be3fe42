#!/usr/bin/env bash
# Restore a dump made by ops/backup.sh into the database of DATABASE_URL, replacing what is
# there (pg_restore --clean), in one transaction: it all applies or nothing does.
# Usage: DATABASE_URL=postgres://user@host:5432/rtuportal ops/restore.sh FILE
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must point to the PostgreSQL database to restore into}"
file="${1:?usage: ops/restore.sh FILE}"
[ -r "$file" ] || { echo "restore: cannot read $file" >&2; exit 2; }
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "restore: DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
  --exit-on-error --dbname="$DATABASE_URL" "$file"
echo "restored $file"
