#!/usr/bin/env bash
# Command 2: the full test suite against PostgreSQL and Redis on loopback.
#
#   bash config/scripts/test.sh [pytest arguments]
#
# Installs the test dependencies into .venv, Debian's Chromium and ChromeDriver
# (as root, when missing; a browser is never downloaded), axe-core through npm,
# starts PostgreSQL and Redis if they are not answering, runs Django's checks
# (including the production deployment check) and then pytest. Exits with
# pytest's exit code.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
WEASYPRINT_LIBS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 libglib2.0-0 fonts-liberation)
BROWSER_DEBS=(chromium chromium-driver)

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

missing_debs() {
    command -v dpkg >/dev/null 2>&1 || return 0
    local pkg
    for pkg in "$@"; do
        dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$pkg"
    done
}

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
        warn "missing system packages; browser and PDF tests need them. Install with:"
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
    "$PYTHON" -m venv --clear "$VENV"
}

ensure_axe_core() {
    local frontend="$ROOT/config/frontend"
    [ -d "$frontend/node_modules/axe-core" ] && return 0
    if [ ! -f "$frontend/package.json" ]; then
        warn "config/frontend/package.json not found; skipping axe-core."
        return 0
    fi
    command -v npm >/dev/null 2>&1 || ensure_debs npm
    command -v npm >/dev/null 2>&1 || die "npm is needed for axe-core (sudo apt-get install -y npm)."
    say "Installing front-end test packages (axe-core)"
    if [ -f "$frontend/package-lock.json" ]; then
        (cd "$frontend" && npm ci --no-audit --no-fund --loglevel=error)
    else
        (cd "$frontend" && npm install --no-audit --no-fund --loglevel=error)
    fi
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_services() {
    command -v pg_isready >/dev/null 2>&1 || die "pg_isready not found: PostgreSQL 15 (client and server) is needed."
    command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found: Redis is needed."
    if ! postgres_up; then
        local version
        version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)"
        [ -n "$version" ] || die "PostgreSQL is not answering on 127.0.0.1:5432 and no cluster is in /etc/postgresql."
        say "Starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || warn "could not start PostgreSQL (run this script as root, or start it yourself)."
    fi
    if ! redis_up; then
        say "Starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null \
            || warn "could not start Redis."
    fi
    local waited=0
    until postgres_up && redis_up; do
        if [ "$waited" -ge 60 ]; then
            postgres_up || warn "PostgreSQL is not answering on 127.0.0.1:5432."
            redis_up || warn "Redis is not answering on 127.0.0.1:6379."
            die "services did not come up within 60 seconds."
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

ensure_venv
say "Installing Careledger with its test dependencies into .venv"
"$PY" -m pip install --quiet --disable-pip-version-check -e '.[test]'
ensure_debs "${BROWSER_DEBS[@]}" "${WEASYPRINT_LIBS[@]}"
ensure_axe_core
ensure_services

export DJANGO_SETTINGS_MODULE=config.settings.test
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -z "${CARELEDGER_TEST_DATABASE_URL:-}" ] && command -v psql >/dev/null 2>&1; then
    # The checks below connect to the (empty) development database; pytest makes its own.
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'careledger'" | grep -q 1 \
        || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE careledger" >/dev/null
fi

say "Django system checks"
"$PY" manage.py check
"$PY" manage.py makemigrations --check --dry-run

say "Production deployment check"
# Production also checks the council's details (careledger.E020-E022), which are data: the check
# runs against a scratch database migrated and loaded with the example details, then dropped.
deploy_key="$("$PY" -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(60)))')"
deploy_db="careledger_deploy_check_$$"
deploy_url="postgres://postgres@127.0.0.1:5432/$deploy_db"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $deploy_db" >/dev/null
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $deploy_db" >/dev/null
trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $deploy_db" >/dev/null 2>&1 || true' EXIT
deploy() { SECRET_KEY="$deploy_key" DATABASE_URL="$deploy_url" "$PY" manage.py "$@" --settings=config.settings.production; }
deploy migrate --verbosity 0
deploy council_details --from-file config/council_details.example.json
deploy check --deploy --fail-level WARNING
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $deploy_db" >/dev/null
trap - EXIT

say "pytest $*"
# Playwright's sync API runs an event loop beside the live server; Django must allow ORM calls
# there. Set for the test run only: the deployment check above refuses it, rightly.
DJANGO_ALLOW_ASYNC_UNSAFE=true exec "$PY" -m pytest "$@"
