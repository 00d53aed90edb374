#!/usr/bin/env bash
# Command 1: the embedded Careledger demo on this machine.
#
#   bash config/scripts/demo.sh
#
# Creates .venv if missing, installs the project into it, installs WeasyPrint's
# system libraries (as root, when missing), migrates the SQLite database under
# var/, seeds the demo logins and serves on http://127.0.0.1:8000/.
# Safe to re-run. Overrides: PORT (default 8000), HOST (default 127.0.0.1),
# PYTHON (the interpreter that creates .venv, default python3), DATABASE_URL.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
WEASYPRINT_LIBS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 libglib2.0-0 fonts-liberation)

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Debian packages from the list that are not installed (none printed when dpkg is absent).
missing_debs() {
    command -v dpkg >/dev/null 2>&1 || return 0
    local pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$pkg"
    done
}

# Install the packages that are missing: as root through apt, otherwise print the command.
ensure_debs() {
    local missing
    mapfile -t missing < <(missing_debs "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    if is_root && command -v apt-get >/dev/null 2>&1; then
        say "Installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        warn "missing system packages; PDF letters need them. Install with:"
        warn "  sudo apt-get install -y ${missing[*]}"
    fi
}

ensure_venv() {
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || die "Careledger needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)."
    if [ -x "$PY" ] && "$PY" -c 'import sys' 2>/dev/null; then
        return 0
    fi
    if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
        if is_root && command -v apt-get >/dev/null 2>&1; then
            say "Installing python3-venv"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq python3-venv >/dev/null
        else
            die "Python's venv module is missing. Install it with: sudo apt-get install -y python3-venv"
        fi
    fi
    say "Creating $VENV"
    # --clear replaces a broken .venv (for example one copied from another machine).
    "$PYTHON" -m venv --clear "$VENV"
}

ensure_venv
say "Installing Careledger and its dependencies into .venv"
"$PY" -m pip install --quiet --disable-pip-version-check -e .
ensure_debs "${WEASYPRINT_LIBS[@]}"

export DJANGO_SETTINGS_MODULE=config.settings.local
say "Migrating the database"
"$PY" manage.py migrate --noinput
say "Seeding the demo data"
"$PY" manage.py seed_demo

cat <<BANNER

  Careledger demo
  ---------------
  Open http://$HOST:$PORT/ and sign in with one of the demo logins above.
  Press Ctrl+C to stop.

BANNER
exec "$PY" manage.py runserver "$HOST:$PORT" --noreload
