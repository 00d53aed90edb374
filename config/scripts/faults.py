#!/usr/bin/env python
"""Fault injection: workers killed, Redis stopped, PostgreSQL stopped, on servers of its own.

    .venv/bin/python config/scripts/faults.py [--kills 20] [--redis-trials 20] [--redis-pause 60]
        [--pg-trials 20] [--jobs billing recovery ...] [--only kill redis pg] [--seed 2026]

Starts its own PostgreSQL (initdb into a temporary directory, loopback port 55432) and its own
redis-server (loopback port 56379), never touching any other server, and stops both at the end,
also on Ctrl-C or an error. Every wait is bounded; the whole script gives up after --budget seconds.

1. Workers killed: a template database is migrated and seeded with the demo data once. For each
   job, a copy of it (CREATE DATABASE ... TEMPLATE) runs the job undisturbed on a real Celery
   worker to give the reference fingerprint (the count of every table's rows, the sums of their
   money columns and a hash of their rows by natural key: client reference, amounts, dates and
   states, never ids or numbers drawn from sequences). A second undisturbed run checks the
   fingerprint is stable. Then --kills times: a fresh copy, a worker, the run started, the worker
   (and its pool process) killed with SIGKILL at a random moment while it works, a fresh worker
   started, with Celery beat running the runs watchdog; the run must finish on its own (the chunk
   is redelivered: acks_late, reject on worker lost; or the watchdog queues it again) with the
   reference fingerprint.
2. Redis stopped (--redis-pause seconds) during a run of the statements job: half the trials stop
   it while the worker is part way through, half just before the run is started (the start must
   fail clearly, with the run planned and nothing done). While Redis is away nothing may be
   half-written (every done item has its letter and no other item has one) and no item may fail;
   when Redis is back (empty: the queue is lost with it) the run must finish by itself: Celery beat
   runs the runs watchdog every 2 s (RUN_WATCHDOG_SECONDS), which queues the pending chunks of a
   run idle for --stall-seconds (RUN_STALL_SECONDS) again, and the run must reach the reference
   fingerprint. Only if it has not finished within a bounded wait is it resumed by hand
   (`manage.py run_job`), and counted so.
3. PostgreSQL stopped (pg_ctl stop -m immediate) during a web request to gunicorn: a payment form
   is posted and the database stopped at a random moment while the request runs; gunicorn keeps its
   connections between requests as production does (CONN_MAX_AGE, with health checks), and each
   trial counts that one was open when the database stopped. Every answer
   must be a redirect (recorded) or the service's own error page (no traceback); a page asked for
   while the database is away must be that error page; the payment must be recorded whole
   (payment, ledger entry, timeline entries) or not at all; the first request after the database
   is back must succeed. A payment committed just before the stop whose answer is Django's plain
   "Bad Request (400)" (the session could not be saved afterwards) is counted on its own.

Prints the counts and exits non-zero if anything differed. tests/test_faults.py runs a short
version in CI.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
HOST = "127.0.0.1"  # loopback only
TEMPLATE_DB = "faults_template"
TRIAL_DB = "faults_trial"
JOBS = ["billing", "recovery", "statements", "dpa_accrual", "dpa_statements", "dp-payments"]
REDIS_JOB = "statements"
LETTER_JOBS = {"statements", "dpa_statements"}  # one letter per done item: checked while Redis is away
APPS = ("casework", "debt", "deferred_payments", "direct_payments", "provider_payments")
# Row states of the runs engine itself are compared separately (by subject and status).
ENGINE_MODELS = {"casework.Run", "casework.RunItem", "casework.RunEvent"}


class Budget(Exception):
    pass


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def port_to_use(port: int, what: str) -> int:
    """port if nothing holds it on loopback, else one the kernel finds free. The default ports lie in
    Linux's ephemeral range (32768-60999): any client socket on the machine (a test's database
    connection, a browser's) may hold one for a while, and a server cannot then bind it."""
    import socket

    if port:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                probe.bind((HOST, port))
                return port
            except OSError:
                log(f"port {port} for {what} is in use on {HOST}")
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        free = probe.getsockname()[1]
    log(f"{what} on port {free}, which the kernel found free")
    return free


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


# Servers of our own ----------------------------------------------------------------------------

class OwnPostgres:
    """A throwaway cluster in a temporary directory, trust authentication, loopback only."""

    def __init__(self, port: int, workdir: Path):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins:
            raise SystemExit("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = bins[-1].parent
        self.port = port
        self.dir = workdir / "pg"
        self.data = self.dir / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args, timeout=120):
        return subprocess.run([*self.as_user, *map(str, args)], check=True, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def init(self):
        self.dir.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def start(self):
        # fsync off: these tests stop the server, never the machine, so nothing waits on the disk.
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "server.log", "-w", "-t", "60", "-o",
                  f"-p {self.port} -c listen_addresses={HOST} -k {self.dir} -c fsync=off -c max_connections=200",
                  "start")

    def stop(self, mode: str = "fast"):
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def url(self, name: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{name}"

    def admin(self, *statements: str):
        import psycopg

        with psycopg.connect(host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True,
                             connect_timeout=10) as conn:
            for sql in statements:
                conn.execute(sql)


class OwnRedis:
    def __init__(self, port: int, workdir: Path):
        self.port = port
        self.pidfile = workdir / "redis.pid"
        self.logfile = workdir / "redis.log"

    def start(self):
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
                        "--daemonize", "yes", "--pidfile", str(self.pidfile), "--logfile", str(self.logfile)],
                       check=True, timeout=30)
        wait_for(self.ping, 20, "redis-server to answer")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(host=HOST, port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def stop(self):
        """Stop our server: by the pid in its own pid file, and wait until it has gone."""
        if not self.pidfile.exists():
            return
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not _alive(pid), 20, "redis-server to stop")
        except (ValueError, ProcessLookupError):
            pass
        self.pidfile.unlink(missing_ok=True)

    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child counts as gone
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


# The harness ------------------------------------------------------------------------------------

class Harness:
    def __init__(self, args, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.pg = OwnPostgres(port_to_use(args.pg_port, "PostgreSQL"), workdir)
        self.redis = OwnRedis(port_to_use(args.redis_port, "Redis"), workdir)
        self.procs: list[subprocess.Popen] = []
        self.deadline = time.monotonic() + args.budget
        self.rng = random.Random(args.seed)
        self.results: dict = {}
        self.failures: list[str] = []

    def check_budget(self):
        if time.monotonic() > self.deadline:
            raise Budget(f"gave up: the run took longer than --budget {self.args.budget} s")

    def env(self, db: str = TRIAL_DB, broker: bool = True) -> dict:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "CARELEDGER_TEST_DATABASE_URL": self.pg.url(db),
               "CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_UNACKED_RESTORE_INTERVAL": "1",
               "CELERY_UNACKED_RESTORE_THROTTLE": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost",
               # kombu's restore lock lapses in 5 s (not 300): a worker killed holding it stalls no one long.
               "CELERY_UNACKED_MUTEX_EXPIRE": "5",
               # The runs watchdog (beat, in the Redis trials): checks every 2 s, resumes a run idle this long.
               "RUN_WATCHDOG_SECONDS": "2", "RUN_STALL_SECONDS": str(self.args.stall_seconds)}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if broker:
            env["CARELEDGER_TEST_CELERY_BROKER_URL"] = self.redis.url()
        else:
            env.pop("CARELEDGER_TEST_CELERY_BROKER_URL", None)
        return env

    # setting up

    def setup(self):
        log(f"own PostgreSQL on {HOST}:{self.pg.port}, own Redis on {HOST}:{self.redis.port}, in {self.workdir}")
        reuse = (self.pg.data / "PG_VERSION").exists()
        if reuse:
            self.pg.start()
        else:
            self.pg.init()
        self.redis.start()
        if reuse and (self.workdir / "template-ready").exists():
            self.manage(TEMPLATE_DB, "migrate", "-v0")  # the code may have moved on since it was seeded
        else:
            self.seed_template()
        os.environ.update(self.env())
        import django

        django.setup()
        from config.celery import app  # noqa: F401 - the tasks go to our own broker

    def seed_template(self):
        self.pg.admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE_DB}")
        started = time.monotonic()
        self.manage(TEMPLATE_DB, "migrate", "-v0")
        self.manage(TEMPLATE_DB, "seed_demo")
        log(f"template database migrated and seeded with the demo data in {time.monotonic() - started:.0f} s")
        (self.workdir / "template-ready").write_text(time.strftime("%F %T"))

    def manage(self, db: str, *command: str):
        done = subprocess.run([PYTHON, "manage.py", *command, "--settings=config.settings.test"], cwd=ROOT,
                              env=self.env(db, broker=False), timeout=900, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode:
            raise SystemExit(f"manage.py {command[0]} failed:\n{done.stderr[-3000:]}")

    def reseed(self):
        from django.db import connections

        connections.close_all()
        self.pg.admin(f"DROP DATABASE IF EXISTS {TRIAL_DB} WITH (FORCE)",
                      f"CREATE DATABASE {TRIAL_DB} TEMPLATE {TEMPLATE_DB}")
        import redis

        redis.Redis.from_url(self.redis.url()).flushdb()

    def start_worker(self, name: str) -> subprocess.Popen:
        logfile = (self.workdir / "worker.log").open("ab")
        proc = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "--concurrency=1", "--prefetch-multiplier=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h", "--loglevel=WARNING"],
            cwd=ROOT, env=self.env(), start_new_session=True, stdout=logfile, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start_beat(self) -> subprocess.Popen:
        """Celery beat with the settings' schedule only (the runs watchdog), as in production."""
        logfile = (self.workdir / "beat.log").open("ab")
        schedule = self.workdir / "beat-schedule"
        for stale in self.workdir.glob("beat-schedule*"):
            stale.unlink()
        proc = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "beat", "--scheduler", "celery.beat:PersistentScheduler",
             "-s", str(schedule), "--loglevel=WARNING"],
            cwd=ROOT, env=self.env(), start_new_session=True, stdout=logfile, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_proc(self, proc: subprocess.Popen | None, sig=signal.SIGTERM):
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass

    def teardown(self):
        for proc in self.procs:
            self.stop_proc(proc)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may never have been set up
            pass
        self.redis.stop()
        if self.pg.data.exists() and self.pg.running():
            self.pg.stop("fast")

    # runs

    def business_date(self, job: str) -> date:
        """The first date from tomorrow on whose plan has work for the job (the demo data has run
        today's statements and billing)."""
        from django.utils import timezone

        from casework.runs.registry import get_job

        self.reseed()
        if self.args.date:
            return self.args.date
        today = timezone.localdate()
        for days in (1, 7, 29, 30, 31, 35, 60):
            if list(get_job(job).plan(today + timedelta(days=days))):
                return today + timedelta(days=days)
        raise SystemExit(f"the demo data gives the {job} job nothing to do")

    def run_state(self, run_pk: int):
        from casework.models import Run

        return Run.objects.get(pk=run_pk)

    def wait_finished(self, run_pk: int, timeout: float) -> bool:
        from casework.models import RunStatus

        try:
            wait_for(lambda: self.run_state(run_pk).status != RunStatus.RUNNING, timeout, "the run to finish", 0.3)
            return True
        except TimeoutError:
            return False

    def picked_up(self, run_pk: int) -> bool:
        """A worker has taken a chunk (its message is unacknowledged) or the run has moved on."""
        import redis

        from casework.models import ItemStatus, RunItem, RunStatus

        if redis.Redis.from_url(self.redis.url()).hlen("unacked"):
            return True
        return (self.run_state(run_pk).status != RunStatus.RUNNING
                or RunItem.objects.filter(run_id=run_pk).exclude(status=ItemStatus.PENDING).exists())

    def reference(self, job: str, on: date) -> tuple[dict, float]:
        """Run the job undisturbed on a fresh copy; its fingerprint and the worker's working time."""
        from casework.runs.services import run_start

        self.reseed()
        worker = self.start_worker("reference")
        try:
            run = run_start(job=job, business_date=on, trigger="faults")
            wait_for(lambda: self.picked_up(run.pk), 180, "a worker to take the first chunk", 0.05)
            began = time.monotonic()
            if not self.wait_finished(run.pk, 600):
                raise SystemExit(f"{job}: the undisturbed run did not finish in 600 s; see {self.workdir}/worker.log")
            took = time.monotonic() - began
        finally:
            self.stop_proc(worker)
        return fingerprint(run.pk), took

    # 1. workers killed

    def kills(self):
        from casework.models import RunStatus
        from casework.runs.services import run_start

        per_job = {}
        self.results["kills"] = {"totals": {}, "jobs": per_job}
        for job in self.args.jobs:
            self.check_budget()
            on = self.business_date(job)
            ref, took = self.reference(job, on)
            again, _ = self.reference(job, on)
            stable = again == ref
            items = ref["engine"]["items"]
            log(f"{job} on {on}: reference run of {items} items, {took:.1f} s of work; fingerprint stable: {stable}")
            if not stable:
                self.failures.append(f"{job}: two undisturbed runs gave different fingerprints: {diff(ref, again)}")
            row = {"date": str(on), "items": items, "reference_seconds": round(took, 1), "stable": stable,
                   "runs": 0, "kills": 0, "killed_mid_run": 0, "identical": 0, "differing": 0,
                   "resumed_by_watchdog": 0, "resumed_by_hand": 0,
                   "reference": ref["summary"]}
            per_job[job] = row
            for trial in range(self.args.kills):
                self.check_budget()
                self.reseed()
                first = self.start_worker(f"victim{trial}")
                beat = self.start_beat()  # the runs watchdog, as in production
                second = None
                try:
                    run = run_start(job=job, business_date=on, trigger="faults")
                    wait_for(lambda: self.picked_up(run.pk), 180, "a worker to take the first chunk", 0.05)
                    pause = self.rng.uniform(0, took)
                    began = time.monotonic()
                    # The next worker starts while the first works (as a second worker would be running),
                    # so it is ready to take the chunk back when the first dies.
                    second = self.start_worker(f"rescuer{trial}")
                    time.sleep(max(0.0, pause - (time.monotonic() - began)))
                    mid_run = self.run_state(run.pk).status == RunStatus.RUNNING
                    os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool process
                    first.wait(10)
                    row["kills"] += 1
                    row["killed_mid_run"] += mid_run
                    if not self.wait_finished(run.pk, max(120, 6 * took)):
                        # The engine's own way back, as an operator would: start the job for the date again.
                        row["resumed_by_hand"] += 1
                        run_start(job=job, business_date=on, trigger="faults")
                        self.wait_finished(run.pk, max(120, 6 * took))
                finally:
                    self.stop_proc(first, signal.SIGKILL)
                    self.stop_proc(second)
                    self.stop_proc(beat)
                from casework.models import RunEvent

                row["resumed_by_watchdog"] += RunEvent.objects.filter(
                    run_id=run.pk, action="run.resumed", reason__startswith="Resumed automatically").exists()
                row["runs"] += 1
                got = fingerprint(run.pk)
                if got == ref:
                    row["identical"] += 1
                else:
                    row["differing"] += 1
                    self.failures.append(f"{job} trial {trial}: {diff(ref, got)}")
                log(f"  {job} trial {trial + 1}/{self.args.kills}: killed {'mid-run' if mid_run else 'after the end'}, "
                    f"{'identical' if got == ref else 'DIFFERENT'}")
        log(f"workers killed: {json.dumps(self.kill_totals())}")

    def kill_totals(self) -> dict:
        keys = ("runs", "kills", "killed_mid_run", "identical", "differing", "resumed_by_watchdog", "resumed_by_hand")
        jobs = self.results.get("kills", {}).get("jobs", {})
        totals = {key: sum(row[key] for row in jobs.values()) for key in keys}
        if "kills" in self.results:
            self.results["kills"]["totals"] = totals
        return totals

    # 2. Redis stopped

    def redis_pauses(self):
        from kombu.exceptions import OperationalError

        from django.db.models import Exists, OuterRef, Q

        from casework.models import ItemStatus, Letter, RunItem, RunStatus
        from casework.runs.services import run_start

        job = self.args.redis_job
        on = self.business_date(job)
        ref, took = self.reference(job, on)
        row = {"job": job, "date": str(on), "items": ref["engine"]["items"], "pause_seconds": self.args.redis_pause,
               "trials": 0, "stopped_mid_run": 0, "stopped_before_start": 0, "start_refused_clearly": 0,
               "half_written": 0, "failed_items": 0, "finished_on_their_own": 0, "resumed_by_watchdog": 0,
               "resumed_by_hand": 0, "identical": 0, "differing": 0, "seconds_to_finish_after_redis_back": []}
        self.results["redis"] = row
        for trial in range(self.args.redis_trials):
            self.check_budget()
            self.reseed()
            worker = self.start_worker(f"redis{trial}")
            beat = self.start_beat()
            before_start = trial % 2 == 1
            run_pk = None
            try:
                if before_start:
                    self.redis.stop()
                    row["stopped_before_start"] += 1
                    try:
                        run_pk = run_start(job=job, business_date=on, trigger="faults").pk
                    except OperationalError as exc:
                        row["start_refused_clearly"] += 1
                        row["start_error"] = f"{type(exc).__name__}: {exc}"[:200]
                    from casework.models import Run

                    run_pk = Run.objects.get(job=job, business_date=on).pk
                else:
                    run_pk = run_start(job=job, business_date=on, trigger="faults").pk
                    wait_for(lambda: self.picked_up(run_pk), 180, "a worker to take the first chunk", 0.05)
                    time.sleep(self.rng.uniform(0, took * 0.8))
                    self.redis.stop()
                    row["stopped_mid_run"] += 1
                # While Redis is away: nothing half-written, nothing failed, the run not falsely finished.
                end = time.monotonic() + self.args.redis_pause
                while time.monotonic() < end and job in LETTER_JOBS:
                    # One statement, so one snapshot: a done item without its letter, or a letter for an
                    # item not done. (Two queries would see a group commit between them as a mismatch.)
                    lettered = Exists(Letter.objects.filter(run_item=OuterRef("pk")))
                    mismatch = (RunItem.objects.filter(run_id=run_pk).annotate(lettered=lettered)
                                .filter(Q(status=ItemStatus.DONE, lettered=False)
                                        | (~Q(status=ItemStatus.DONE) & Q(lettered=True))).exists())
                    if mismatch:
                        row["half_written"] += 1
                        self.failures.append(f"redis trial {trial}: done items and letters differ while Redis was away")
                        break
                    time.sleep(min(2.0, max(0.0, end - time.monotonic())))
                time.sleep(max(0.0, end - time.monotonic()))
                if RunItem.objects.filter(run_id=run_pk, status=ItemStatus.FAILED).exists():
                    row["failed_items"] += 1
                    self.failures.append(f"redis trial {trial}: items failed while Redis was away")
                self.redis.start()
                back = time.monotonic()
                # Redis came back empty: the queued chunks are gone. Beat's watchdog must notice the
                # run has stopped moving and queue its pending chunks again, with no one's help.
                if self.wait_finished(run_pk, max(120, 6 * took) + self.args.stall_seconds):
                    row["finished_on_their_own"] += 1
                    row["seconds_to_finish_after_redis_back"].append(round(time.monotonic() - back, 1))
                else:
                    run_start(job=job, business_date=on, trigger="faults")  # by hand: queue the pending chunks
                    row["resumed_by_hand"] += 1
                    self.wait_finished(run_pk, max(180, 6 * took))
                from casework.models import RunEvent

                row["resumed_by_watchdog"] += RunEvent.objects.filter(
                    run_id=run_pk, action="run.resumed", reason__startswith="Resumed automatically").exists()
            finally:
                if not self.redis.ping():
                    self.redis.start()
                self.stop_proc(beat)
                self.stop_proc(worker)
            row["trials"] += 1
            got = fingerprint(run_pk)
            same = got == ref and self.run_state(run_pk).status == RunStatus.COMPLETED
            row["identical" if same else "differing"] += 1
            if not same:
                self.failures.append(f"redis trial {trial}: {diff(ref, got)}")
            log(f"  redis trial {trial + 1}/{self.args.redis_trials}: stopped "
                f"{'before the start' if before_start else 'mid-run'} for {self.args.redis_pause} s, "
                f"{'identical' if same else 'DIFFERENT'}")
        self.results["redis"] = row
        log(f"redis stopped: {json.dumps(row)}")

    # 3. PostgreSQL stopped during a web request

    def pg_stops(self):
        import requests

        from casework.models import Client
        from config.loadtest.sessions import signed_in_session
        from django.contrib.auth import get_user_model

        self.reseed()
        user = get_user_model().objects.get(username="income")
        session_key = signed_in_session(user)
        client = Client.objects.filter(accounts__isnull=False).order_by("pk").first()
        web, base = self.start_web()
        http = requests.Session()
        http.cookies.set("sessionid", session_key)
        form_url = f"{base}/income/clients/{client.pk}/payments/new/"
        page_url = form_url  # a page that reads the client, its invoices and the session
        row = {"trials": 0, "answered_redirect_and_recorded": 0, "answered_error_page_not_recorded": 0,
               "answered_error_page_but_recorded": 0, "answered_bad_request_but_recorded": 0, "other_answers": 0, "tracebacks_shown": 0,
               "pages_while_down_error_page": 0, "pages_while_down_other": 0, "half_written": 0,
               "first_request_after_restart_ok": 0, "web_connection_kept_before_stop": 0}
        self.results["pg"] = row
        timings = []
        for warm in range(3):  # how long a payment takes to post, undisturbed
            started = time.monotonic()
            answer = self._post_payment(http, form_url, f"WARM-{warm}")
            timings.append(time.monotonic() - started)
            if answer.status_code != 302:
                raise SystemExit(f"posting a payment did not work undisturbed: {answer.status_code}")
        post_time = sorted(timings)[1]
        whole_rows = self._payment_rows("WARM-0")  # payment, ledger entry, timeline entries of one payment
        if whole_rows[0] != 1:
            raise SystemExit(f"a payment posted undisturbed was not recorded: {whole_rows}")
        log(f"posting a payment takes {post_time * 1000:.0f} ms undisturbed and writes rows {whole_rows}")
        for trial in range(self.args.pg_trials):
            self.check_budget()
            reference = f"FAULT-{trial:03d}"
            form = http.get(form_url, timeout=30)
            token = _csrf(form.text)
            # gunicorn keeps the connection the form used (CONN_MAX_AGE); the stop breaks it.
            kept = self._web_connections() > 0
            row["web_connection_kept_before_stop"] += kept
            if not kept:
                self.failures.append(f"pg trial {trial}: gunicorn held no database connection when PostgreSQL stopped")
            answers = {}
            poster = threading.Thread(target=lambda: answers.update(
                post=self._post_payment(http, form_url, reference, token=token, fetch=False)))
            poster.start()
            time.sleep(self.rng.uniform(0, post_time))
            self.pg.stop("immediate")
            poster.join(90)
            post = answers.get("post")
            while_down = _get(http, page_url)
            self.pg.start()
            after = _get(http, page_url)
            row["trials"] += 1
            recorded = self._payment_rows(reference)
            whole = recorded in ((0, 0, 0), whole_rows)
            row["half_written"] += not whole
            if not whole:
                self.failures.append(f"pg trial {trial}: payment {reference} half-written: {recorded}")
            for answer in (post, while_down):
                if answer is not None and ("Traceback" in answer.text or 'File "/' in answer.text):
                    row["tracebacks_shown"] += 1
            if post is not None and post.status_code == 302 and recorded == whole_rows:
                row["answered_redirect_and_recorded"] += 1
            elif post is not None and _error_page(post) and recorded == (0, 0, 0):
                row["answered_error_page_not_recorded"] += 1
            elif post is not None and _error_page(post) and recorded == whole_rows:
                row["answered_error_page_but_recorded"] += 1
            elif post is not None and post.status_code == 400 and recorded == whole_rows:
                # Committed, then the session could not be saved (SESSION_SAVE_EVERY_REQUEST): Django's
                # SessionInterrupted gives its plain "Bad Request (400)". Whole, but a misleading answer.
                row["answered_bad_request_but_recorded"] += 1
                log(f"  pg trial {trial + 1}: the payment was recorded but the answer was Django's 400 page")
            else:
                row["other_answers"] += 1
                self.failures.append(f"pg trial {trial}: the payment post answered "
                                     f"{post.status_code if post is not None else 'nothing'}, rows {recorded}")
            if while_down is not None and _error_page(while_down):
                row["pages_while_down_error_page"] += 1
            else:
                row["pages_while_down_other"] += 1
                self.failures.append(f"pg trial {trial}: a page while the database was away answered "
                                     f"{while_down.status_code if while_down is not None else 'nothing'}")
            if after is not None and after.status_code == 200:
                row["first_request_after_restart_ok"] += 1
            else:
                self.failures.append(f"pg trial {trial}: the first page after the restart answered "
                                     f"{after.status_code if after is not None else 'nothing'}")
            log(f"  pg trial {trial + 1}/{self.args.pg_trials}: post {post.status_code if post is not None else '-'} "
                f"rows {recorded}, while down {while_down.status_code if while_down is not None else '-'}, "
                f"after {after.status_code if after is not None else '-'}")
        self.stop_proc(web)
        self.results["pg"] = row
        log(f"postgresql stopped: {json.dumps(row)}")

    def start_web(self, attempts: int = 3):
        """gunicorn on the web port (or a free one), answering /health/: (process, base URL).

        Production's gunicorn settings (threads) and database connections: kept for 60 s between
        requests (base.py's CONN_MAX_AGE, which the test settings leave at 0 unless told) and checked
        before reuse (CONN_HEALTH_CHECKS), so that a connection broken by the restart is tried. A
        gunicorn that exits before answering (its port taken between the check and the bind) is
        started again on another port; its log goes into the failure otherwise."""
        import requests

        logpath = self.workdir / "gunicorn.log"
        port = self.args.web_port
        for attempt in range(1, attempts + 1):
            port = port_to_use(port, "gunicorn")
            with logpath.open("ab") as logfile:
                web = subprocess.Popen(
                    [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application",
                     "--graceful-timeout", "5"],
                    cwd=ROOT, env={**self.env(broker=False), "GUNICORN_BIND": f"{HOST}:{port}",
                                   "GUNICORN_WORKERS": "2", "GUNICORN_ACCESS_LOG": "/dev/null", "CONN_MAX_AGE": "60"},
                    start_new_session=True, stdout=logfile, stderr=subprocess.STDOUT)
            self.procs.append(web)
            base = f"http://{HOST}:{port}"
            started = time.monotonic()
            probe = requests.Session()
            while time.monotonic() - started < 180 and web.poll() is None:
                try:
                    probe.get(f"{base}/health/", timeout=10)
                    log(f"gunicorn answering on {base} after {time.monotonic() - started:.1f} s")
                    return web, base
                except requests.RequestException:
                    time.sleep(0.3)
            self.stop_proc(web)
            tail = logpath.read_text(errors="replace")[-1500:]
            log(f"gunicorn on port {port} did not answer (attempt {attempt} of {attempts}; "
                f"exit code {web.returncode}); its log ends:\n{tail}")
            port = 0 if "in use" in tail or "Can't connect" in tail else port
        raise TimeoutError(f"gunicorn did not answer on {attempts} attempts; log in {logpath}")

    def _post_payment(self, http, url: str, reference: str, token: str | None = None, fetch: bool = True):
        if fetch:
            token = _csrf(http.get(url, timeout=30).text)
        today = date.today()
        data = {"csrfmiddlewaretoken": token, "amount": "10.00", "method": "cheque", "received_on_0": today.day,
                "received_on_1": today.month, "received_on_2": today.year, "reference": reference}
        try:
            return http.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=60)
        except Exception:  # noqa: BLE001 - a dropped connection is recorded as no answer
            return None

    def _web_connections(self) -> int:
        """Sessions open on the trial database other than this script's: gunicorn's kept connections
        (no worker runs in these trials)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
            return cursor.fetchone()[0]

    def _payment_rows(self, reference: str) -> tuple[int, int, int]:
        from django.db import connections

        from casework.models import LedgerEntry, TimelineEntry
        from debt.models import Payment

        connections.close_all()
        return (Payment.objects.filter(reference=reference).count(),
                LedgerEntry.objects.filter(reference=reference).count(),
                TimelineEntry.objects.filter(summary__contains=f"({reference})").count())


def _get(http, url: str):
    try:
        return http.get(url, timeout=60, allow_redirects=False)
    except Exception:  # noqa: BLE001
        return None


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("no CSRF token on the payment form (is the session signed in?)")
    return match.group(1)


def _error_page(answer) -> bool:
    """The service's own error page (500; 400 when Django refused the request after the view ran)."""
    return answer.status_code in (400, 500, 503) and "Sorry, there is a problem with the service" in answer.text


# Fingerprints ------------------------------------------------------------------------------------

def fingerprint(run_pk: int) -> dict:
    """Every table of the casework apps, by natural key: counts, money sums and a hash of the rows.

    A row is described by its client's reference (for rows tied to a client or a client's account),
    its money, dates, flags and states; never by ids, timestamps or numbers drawn from sequences,
    which legitimately differ when a killed transaction is done again."""
    from django.apps import apps
    from django.db import DatabaseError, connections, models
    from django.db.models import Count

    from casework.models import Account, Client, Run, RunItem

    connections.close_all()
    existing = set(connections["default"].introspection.table_names())
    tables, summary = {}, {}
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in APPS or meta.label in ENGINE_MODELS or meta.object_name.startswith("Historical"):
            continue
        if meta.db_table not in existing:  # a model whose migration is not written yet
            continue
        names, money = [], []
        for field in meta.concrete_fields:
            if field.primary_key or isinstance(field, models.DateTimeField):
                continue
            if isinstance(field, models.ForeignKey):
                if field.related_model is Client:
                    names.append(f"{field.name}__reference")
                elif field.related_model is Account:
                    names += [f"{field.name}__client__reference", f"{field.name}__kind"]
                continue
            if isinstance(field, models.DecimalField):
                names.append(field.name)
                money.append(field.name)
            elif isinstance(field, (models.DateField, models.BooleanField)):
                names.append(field.name)
            elif isinstance(field, models.CharField) and field.choices:
                names.append(field.name)
            elif field.name in ("letter_count",):
                names.append(field.name)
        try:
            rows = sorted(model._base_manager.order_by().values_list(*names), key=repr) if names else []
            count = model._base_manager.order_by().count()
        except DatabaseError:  # a model ahead of its migration: the same in every run, so left out
            connections.close_all()
            continue
        sums = {name: str(sum((r[names.index(name)] or 0) for r in rows)) for name in money}
        tables[meta.label] = {"count": count, "sums": sums,
                              "rows": hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}
        if count:
            summary[meta.label] = count
    run = Run.objects.get(pk=run_pk)
    statuses = dict(RunItem.objects.filter(run=run).values_list("status").annotate(n=Count("id")))
    subjects = sorted(RunItem.objects.filter(run=run).values_list("subject", "status"))
    engine = {"status": run.status, "items": sum(statuses.values()), "statuses": statuses,
              "subjects": hashlib.sha256(repr(subjects).encode()).hexdigest()[:16]}
    return {"tables": tables, "engine": engine, "summary": {"status": run.status, **statuses, **_headline(tables)}}


def _headline(tables: dict) -> dict:
    keep = ("casework.LedgerEntry", "casework.Letter", "casework.TimelineEntry", "debt.Invoice", "debt.Payment")
    return {label: tables[label]["count"] for label in keep if label in tables}


def diff(ref: dict, got: dict) -> str:
    out = []
    if ref["engine"] != got["engine"]:
        out.append(f"engine {ref['engine']} != {got['engine']}")
    for label, want in ref["tables"].items():
        have = got["tables"].get(label)
        if have != want:
            out.append(f"{label} {want} != {have}")
    return "; ".join(out)[:2000] or "the same"


# Entry point ---------------------------------------------------------------------------------------

def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="killed-worker runs per job (default 20)")
    parser.add_argument("--jobs", nargs="+", default=JOBS, help=f"jobs to kill workers in (default: {' '.join(JOBS)})")
    parser.add_argument("--redis-trials", type=int, default=20, help="runs with Redis stopped (default 20)")
    parser.add_argument("--redis-pause", type=float, default=60, help="seconds Redis stays stopped (default 60)")
    parser.add_argument("--pg-trials", type=int, default=20, help="web requests with PostgreSQL stopped (default 20)")
    parser.add_argument("--only", nargs="+", choices=["kill", "redis", "pg"], default=["kill", "redis", "pg"])
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the moments of the faults")
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--redis-port", type=int, default=56379)
    parser.add_argument("--web-port", type=int, default=58000)
    parser.add_argument("--budget", type=float, default=4 * 3600, help="give up after this many seconds")
    parser.add_argument("--json", help="also write the counts to this file")
    parser.add_argument("--workdir", help="keep the cluster and its seeded template here and use them again "
                                          "(default: a temporary directory, deleted after a clean run)")
    parser.add_argument("--date", type=date.fromisoformat,
                        help="business date for every job (default: the first date from tomorrow with work for it)")
    parser.add_argument("--stall-seconds", type=int, default=10,
                        help="RUN_STALL_SECONDS for the workers: the watchdog resumes a run idle this long (default 10)")
    parser.add_argument("--redis-job", default=REDIS_JOB, help=f"job run while Redis stops (default {REDIS_JOB})")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    if args.workdir:  # kept between runs: the seeded template is used again (delete it after a code change)
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="careledger-faults-"))
    os.chmod(workdir, 0o755)
    harness = Harness(args, workdir)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        harness.setup()
        if "kill" in args.only and args.kills:
            harness.kills()
        if "redis" in args.only and args.redis_trials:
            harness.redis_pauses()
        if "pg" in args.only and args.pg_trials:
            harness.pg_stops()
    except (Budget, TimeoutError, KeyboardInterrupt) as exc:
        harness.failures.append(f"stopped early: {exc!r}")
    finally:
        harness.teardown()
    harness.kill_totals()
    harness.results["seconds"] = round(time.monotonic() - started, 1)
    harness.results["failures"] = harness.failures
    print(json.dumps(harness.results, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(harness.results, indent=2, default=str))
    if harness.failures:
        log(f"{len(harness.failures)} problem(s); logs kept in {workdir}")
        return 1
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    sys.exit(main())
