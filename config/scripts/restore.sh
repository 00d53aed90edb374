#!/usr/bin/env bash
# Restore a Careledger backup made by backup.sh into a NEW, empty database.
#
#   bash config/scripts/restore.sh BACKUP.dump TARGET_DATABASE_URL [MEDIA_DIR]
#
# - Checks BACKUP.dump against BACKUP.dump.sha256 when that file is present (refuses on mismatch).
# - Creates the target database (it must not exist yet: a restore never overwrites live data),
#   then runs pg_restore in one transaction with --exit-on-error: either everything is restored,
#   or nothing is and the empty database is dropped again.
# - With MEDIA_DIR, unpacks BACKUP.dump.media.tar.gz (checked against its .sha256) into it; the
#   directory must be empty or absent.
# - Stops by itself: each step is given RESTORE_TIMEOUT seconds (default 3600).
# Exit status: 0 on success; 1 on a failed check or restore; 2 on bad arguments.
set -euo pipefail

usage() { echo "usage: $0 BACKUP.dump TARGET_DATABASE_URL [MEDIA_DIR]" >&2; exit 2; }
[ "$#" -ge 2 ] && [ "$#" -le 3 ] || usage
dump="$1"
url="$2"
media="${3:-}"
timeout_s="${RESTORE_TIMEOUT:-3600}"

[ -f "$dump" ] || { echo "error: $dump not found" >&2; exit 2; }
case "$url" in postgres://*|postgresql://*) ;; *) echo "error: TARGET_DATABASE_URL must be a postgres:// URL" >&2; exit 2 ;; esac

check() {  # check FILE: compare with FILE.sha256 when it exists
    local file="$1"
    [ -f "$file.sha256" ] || { echo "warning: no $file.sha256; the archive is not checked" >&2; return 0; }
    local want got
    want="$(cut -d' ' -f1 "$file.sha256")"
    got="$(sha256sum "$file" | cut -d' ' -f1)"
    [ "$want" = "$got" ] || { echo "error: $file does not match its SHA-256 ($got, expected $want)" >&2; exit 1; }
}
check "$dump"

dbname="${url##*/}"
dbname="${dbname%%\?*}"
server="${url%/*}/postgres"
[ -n "$dbname" ] || { echo "error: TARGET_DATABASE_URL names no database" >&2; exit 2; }
exists="$(psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '${dbname//\'/\'\'}'")"
[ "$exists" != "1" ] || { echo "error: database $dbname already exists; restore into a new database" >&2; exit 1; }

start=$(date +%s.%N)
psql "$server" -qc "CREATE DATABASE \"${dbname//\"/\"\"}\"" >/dev/null
if ! timeout "$timeout_s" pg_restore --no-owner --no-privileges --exit-on-error --single-transaction -d "$url" "$dump"; then
    psql "$server" -qc "DROP DATABASE IF EXISTS \"${dbname//\"/\"\"}\"" >/dev/null || true
    echo "error: restore failed; the new database was dropped" >&2
    exit 1
fi

if [ -n "$media" ]; then
    archive="$dump.media.tar.gz"
    [ -f "$archive" ] || { echo "error: $archive not found" >&2; exit 1; }
    check "$archive"
    mkdir -p "$media"
    [ -z "$(ls -A "$media")" ] || { echo "error: media directory $media is not empty" >&2; exit 1; }
    timeout "$timeout_s" tar -C "$media" -xzf "$archive"
fi
end=$(date +%s.%N)
printf 'restore: %s into %s in %.2f s\n' "$dump" "$dbname" "$(echo "$end - $start" | bc)"
