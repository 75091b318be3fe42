#!/usr/bin/env bash
# Back up the portal's PostgreSQL database in pg_dump's custom format (compressed, restorable
# table by table). Usage: DATABASE_URL=postgres://user@host:5432/rtuportal ops/backup.sh [FILE]
# FILE defaults to backups/rtuportal-<UTC timestamp>.dump. Prints the path of the dump.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must point to the PostgreSQL database to back up}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup: DATABASE_URL is not a PostgreSQL URL (got ${DATABASE_URL%%:*}://...)" >&2; exit 2 ;;
esac

file="${1:-backups/rtuportal-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
tmp="$file.partial"
# Written under a temporary name: a dump cut short never looks like a good backup.
pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --dbname="$DATABASE_URL" --file="$tmp"
pg_restore --list "$tmp" > /dev/null  # the archive can be read back
mv "$tmp" "$file"
echo "$file"
