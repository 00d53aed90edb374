#!/usr/bin/env bash
# Back up Careledger's PostgreSQL database (and, optionally, its stored files).
#
#   bash config/scripts/backup.sh DATABASE_URL OUTPUT.dump [MEDIA_DIR]
#
# - Writes a pg_dump custom-format archive (compressed; pg_restore can restore all or part of it)
#   to OUTPUT.dump, then OUTPUT.dump.sha256 with its SHA-256.
# - With MEDIA_DIR (the file system directory of the default storage: letters, documents,
#   exports), also writes OUTPUT.media.tar.gz and its .sha256. With cloud storage, back the bucket
#   up with the provider's versioning instead.
# - The dump is taken in one snapshot (pg_dump's own transaction): it is consistent while the
#   system runs. Owners and privileges are left out so the dump restores under any role.
# - Stops by itself: the dump is given BACKUP_TIMEOUT seconds (default 3600).
# Exit status: 0 on success; pg_dump's status (or 124 on timeout) otherwise; 2 on bad arguments.
set -euo pipefail

usage() { echo "usage: $0 DATABASE_URL OUTPUT.dump [MEDIA_DIR]" >&2; exit 2; }
[ "$#" -ge 2 ] && [ "$#" -le 3 ] || usage
url="$1"
out="$2"
media="${3:-}"
timeout_s="${BACKUP_TIMEOUT:-3600}"

case "$url" in postgres://*|postgresql://*) ;; *) echo "error: DATABASE_URL must be a postgres:// URL" >&2; exit 2 ;; esac
[ -z "$media" ] || [ -d "$media" ] || { echo "error: media directory $media does not exist" >&2; exit 2; }
mkdir -p "$(dirname "$out")"

tmp="$out.partial"
trap 'rm -f "$tmp" "$out.media.tar.gz.partial"' EXIT
start=$(date +%s.%N)
timeout "$timeout_s" pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$tmp" "$url"
mv "$tmp" "$out"
(cd "$(dirname "$out")" && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")

if [ -n "$media" ]; then
    timeout "$timeout_s" tar -C "$media" -czf "$out.media.tar.gz.partial" .
    mv "$out.media.tar.gz.partial" "$out.media.tar.gz"
    (cd "$(dirname "$out")" && sha256sum "$(basename "$out").media.tar.gz" > "$(basename "$out").media.tar.gz.sha256")
fi
end=$(date +%s.%N)
printf 'backup: %s (%s bytes) in %.2f s\n' "$out" "$(stat -c %s "$out")" "$(echo "$end - $start" | bc)"
