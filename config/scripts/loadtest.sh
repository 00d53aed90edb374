#!/usr/bin/env bash
# Load test: a working day at a large county against gunicorn, while a nightly-sized run executes.
#
#   bash config/scripts/loadtest.sh [RUN_TIME] [OUT_DIR]        e.g. bash config/scripts/loadtest.sh 3m var/loadtest
#
# Starts its own PostgreSQL (initdb in a temporary directory, 127.0.0.1:${LOAD_PG_PORT:-55442}) and its
# own redis-server (127.0.0.1:${LOAD_REDIS_PORT:-56389}), never any other server; migrates and seeds
# a county (manage.py seed --clients ${LOAD_CLIENTS:-50000}), adds 150 officers and 10 team leaders
# (config/loadtest/prepare.py), starts gunicorn with production's config/gunicorn.conf.py
# (${LOAD_GUNICORN_WORKERS:-3} workers of ${LOAD_GUNICORN_THREADS:-4} threads), a Celery worker and the statements run for tomorrow (a letter to
# every client with a balance: the largest nightly run), then runs Locust headless for RUN_TIME with
# ${LOAD_USERS:-160} users (150 officers, 10 team leaders; config/loadtest/locustfile.py) and writes
# Locust's CSV statistics, the run's progress and the load average to OUT_DIR. Everything it started
# is stopped at the end, also on failure or Ctrl-C. Locust comes from the `load` extra
# (pip install -e '.[load]'); LOCUST names another locust executable. LOAD_BILLED=1 bills the county
# first (one period and its first reminders), so that clients' pages hold invoices.
set -euo pipefail

RUN_TIME=${1:-3m}
OUT=$(realpath -m "${2:-var/loadtest}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
LOCUST=${LOCUST:-$BIN/locust}
PG_PORT=${LOAD_PG_PORT:-55442}
REDIS_PORT=${LOAD_REDIS_PORT:-56389}
WEB_PORT=${LOAD_WEB_PORT:-58010}
HOST=127.0.0.1
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/careledger-load-XXXXXX)
chmod 755 "$WORK"
mkdir -p "$OUT"
AS_PG=()
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); chown postgres "$WORK"; fi
[ -x "$LOCUST" ] || { echo "locust not found at $LOCUST: pip install -e '.[load]' or set LOCUST" >&2; exit 2; }

PIDS=()
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do timeout 30 tail --pid="$pid" -f /dev/null 2>/dev/null; done
    [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null
    [ -d "$WORK/data" ] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w -t 60 stop >/dev/null 2>&1
    rm -rf "$WORK"
    [ -d "${WORKER_CGROUP:-}" ] && { cat "$WORKER_CGROUP/cgroup.procs" 2>/dev/null | while read -r pid; do
        echo "$pid" >/sys/fs/cgroup/cpu/cgroup.procs; done; rmdir "$WORKER_CGROUP"; }
}
trap cleanup EXIT INT TERM

say() { echo "[$(date +%H:%M:%S)] $*"; }

say "own PostgreSQL on $HOST:$PG_PORT and Redis on $HOST:$REDIS_PORT in $WORK"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/data" -A trust -U postgres --no-sync >/dev/null
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=$HOST -k $WORK -c max_connections=200 -c shared_buffers=256MB" start >/dev/null
redis-server --port "$REDIS_PORT" --bind "$HOST" --save "" --appendonly no --daemonize yes \
    --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"

export DJANGO_SETTINGS_MODULE=config.settings.test
# The test settings read their services from CARELEDGER_TEST_* only (config/settings/test.py).
export CARELEDGER_TEST_DATABASE_URL="postgres://postgres@$HOST:$PG_PORT/careledger_load"
export CARELEDGER_TEST_CELERY_BROKER_URL="redis://$HOST:$REDIS_PORT/0"
export CARELEDGER_TEST_CACHE_URL="redis://$HOST:$REDIS_PORT/1"  # as docker-compose.yml: one cache for every web process
export ALLOWED_HOSTS="$HOST,localhost"
# Each web thread keeps its database connection between pages, as production does (base.py's
# default); the test settings the load test runs on would otherwise connect afresh for every page.
export CONN_MAX_AGE=${LOAD_CONN_MAX_AGE:-60}
unset DJANGO_ALLOW_ASYNC_UNSAFE
cd "$ROOT"
"${AS_PG[@]}" psql -h "$HOST" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE careledger_load" postgres
say "migrating"
timeout 900 "$PY" manage.py migrate -v0
timeout 300 "$PY" config/loadtest/prepare.py staff
say "seeding ${LOAD_CLIENTS:-50000} clients"
timeout 1800 "$PY" manage.py seed --clients "${LOAD_CLIENTS:-50000}" | tail -3
# LOAD_BILLED=1: a billed county. `manage.py bench recovery` (docs/benchmarks.md) gives every seeded
# client a home care charge, bills one period (invoices and their letters, the PDF step replaced by a
# ready PDF), sends the first reminders and times two pages; the clients' pages then hold invoices,
# amounts due and recovery stages, and payments are allocated to invoices. Its report: OUT/billed.txt.
if [ "${LOAD_BILLED:-0}" = 1 ]; then
    say "billing a period and sending the first reminders (LOAD_BILLED=1)"
    CARELEDGER_TEST_CELERY_BROKER_URL= timeout 3600 "$PY" manage.py bench recovery --clients "${LOAD_CLIENTS:-50000}" --sample 1 2>&1 \
        | grep -v "celery.app.trace" > "$OUT/billed.txt"
fi
timeout 600 "$PY" config/loadtest/prepare.py sessions "$OUT/people.json"
# A council's database has been vacuumed and analysed; a freshly seeded one has not, and autovacuum
# would otherwise analyse the new tables in the middle of the measurement (bad plans until it does).
"${AS_PG[@]}" psql -h "$HOST" -p "$PG_PORT" -U postgres -qc "VACUUM (ANALYZE)" careledger_load

say "starting gunicorn, a Celery worker and tomorrow's statements run"
GUNICORN_WORKERS=${LOAD_GUNICORN_WORKERS:-3} GUNICORN_THREADS=${LOAD_GUNICORN_THREADS:-4} GUNICORN_BIND="$HOST:$WEB_PORT" \
    GUNICORN_ACCESS_LOG=/dev/null setsid "$BIN/gunicorn" -c config/gunicorn.conf.py config.wsgi:application \
    --error-logfile "$OUT/gunicorn.log" &
PIDS+=($!)
# The worker under SCHED_IDLE (chrt --idle 0, as in docker-compose.yml; LOAD_WORKER_IDLE=0 leaves it
# out) and at nice LOAD_WORKER_NICE (default 10): on a machine shared with the web, people's pages
# come first and the nightly run takes the rest. Under SCHED_IDLE a waking page thread or database
# backend takes the CPU from the worker at once; with nice alone it may wait for the worker's slice,
# once per query. LOAD_WORKER_IDLE=0 LOAD_WORKER_NICE=0 measures both at the same priority.
WORKER_POLICY=()
if [ "${LOAD_WORKER_IDLE:-1}" = 1 ]; then WORKER_POLICY=(chrt --idle 0); fi
setsid "${WORKER_POLICY[@]}" nice -n "${LOAD_WORKER_NICE:-10}" "$BIN/celery" -A config worker --concurrency=1 --loglevel=WARNING -n load@%h \
    >"$OUT/worker.log" 2>&1 &
PIDS+=($!)
# Linux's autogroup scheduling shares the CPU between sessions first and applies nice only within
# a session: the worker, in a session of its own (setsid), would get as much CPU as all of gunicorn
# whatever its nice. Its session takes the same nice.
if [ -w "/proc/$!/autogroup" ]; then echo "${LOAD_WORKER_NICE:-10}" >"/proc/$!/autogroup"; fi
# LOAD_WORKER_CPUS (e.g. 1): the most CPU the worker may take, in cores, as docker-compose.yml's
# `cpus:` caps it (a CFS quota: here a cgroup of the worker's session; needs root and cgroup v1's cpu
# controller). Unset: no cap.
WORKER_CGROUP=/sys/fs/cgroup/cpu/careledger-load-worker-$$
if [ -n "${LOAD_WORKER_CPUS:-}" ] && mkdir "$WORKER_CGROUP" 2>/dev/null; then
    echo 100000 >"$WORKER_CGROUP/cpu.cfs_period_us"
    QUOTA=$(python3 -c "print(int(float('$LOAD_WORKER_CPUS') * 100000))")
    echo "$QUOTA" >"$WORKER_CGROUP/cpu.cfs_quota_us"
    WORKER_SESSION=$!  # its processes are moved in once the run has started (the pool's are forked by then)
fi
for _ in $(seq 60); do curl -fs "http://$HOST:$WEB_PORT/health/" >/dev/null && break; sleep 1; done
TOMORROW=$(date -d tomorrow +%F)
timeout 120 "$PY" manage.py run_job statements --date "$TOMORROW" | tee "$OUT/run-start.txt"
if [ -n "${WORKER_SESSION:-}" ]; then
    for pid in $(pgrep -s "$WORKER_SESSION"); do echo "$pid" >"$WORKER_CGROUP/cgroup.procs" 2>/dev/null; done
    say "worker capped at $LOAD_WORKER_CPUS core(s): $(wc -l <"$WORKER_CGROUP/cgroup.procs") process(es) of $(pgrep -s "$WORKER_SESSION" | wc -l)"
fi

say "locust: ${LOAD_USERS:-160} users for $RUN_TIME"
uptime | tee "$OUT/uptime-before.txt"
# The machine's speed now (it varies between runs on shared hardware): a fixed Python loop, timed.
"$PY" -c "import time; t = time.process_time(); sum(i * i for i in range(3_000_000))
print(f'speed check: a fixed Python loop took {(time.process_time() - t) * 1000:.0f} ms of CPU')" | tee "$OUT/speed.txt"
python3 config/loadtest/cpu.py snapshot "$OUT/cpu-before.json"
( sleep 60; uptime > "$OUT/uptime-during.txt" ) &
LOADTEST_PEOPLE="$OUT/people.json" timeout 3600 "$LOCUST" -f config/loadtest/locustfile.py --headless \
    --host "http://$HOST:$WEB_PORT" -u "${LOAD_USERS:-160}" -r "${LOAD_SPAWN_RATE:-10}" --run-time "$RUN_TIME" \
    --stop-timeout 10 --csv "$OUT/stats" --only-summary 2>&1 | tee "$OUT/locust.txt" || true
uptime | tee "$OUT/uptime-after.txt"
python3 config/loadtest/cpu.py snapshot "$OUT/cpu-after.json"
python3 config/loadtest/cpu.py compare "$OUT/cpu-before.json" "$OUT/cpu-after.json" | tee "$OUT/cpu.md"
timeout 120 "$PY" -c "
import django; django.setup()
from casework.models import Run
from casework.runs.services import run_counts
run = Run.objects.get(job='statements', business_date='$TOMORROW')
print('statements run', run.pk, run.get_status_display(), run_counts(run))" | tee "$OUT/run-end.txt"
say "statistics in $OUT/stats_stats.csv"
