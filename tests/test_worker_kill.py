"""A real Celery worker on Redis, killed with SIGKILL in the middle of a chunk: another worker picks
the chunk up again and finishes the run, and no letter is produced twice."""
import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from casework.models import ItemStatus, Letter, Run, RunItem, RunStatus
from casework.runs import services as runs

from .factories import ClientFactory, LedgerEntryFactory

ROOT = Path(__file__).resolve().parent.parent
BROKER = os.environ.get("CARELEDGER_TEST_WORKER_BROKER_URL", "redis://127.0.0.1:6379/14")
CELERY = str(Path(sys.executable).with_name("celery"))
LOG = ROOT / "var" / "test-worker.log"


def start_worker(name: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CARELEDGER_TEST_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CARELEDGER_TEST_CELERY_BROKER_URL": BROKER,
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        # The first worker may be killed while it holds the restore lock: let the lock lapse in
        # seconds, not kombu's five minutes, so the second worker gets the message back in time.
        "CELERY_UNACKED_MUTEX_EXPIRE": "5",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [CELERY, "-A", "config", "worker", "--concurrency=1", "--prefetch-multiplier=1", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h", "--loglevel=WARNING"],
        cwd=ROOT, env=env, start_new_session=True, stdout=LOG.open("ab"), stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float, what: str):
    """Poll until true; on time-out show the workers' log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    log = LOG.read_text(errors="replace")[-3000:] if LOG.exists() else "(no worker log)"
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log}")


@pytest.fixture
def broker():
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {BROKER}: the test command starts it")
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text("")
    yield Celery("kill-test", broker=BROKER)
    redis.Redis.from_url(BROKER).flushdb()


@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_worker_is_killed_is_finished_by_another_worker_with_no_duplicate(broker, monkeypatch):
    for _ in range(40):
        LedgerEntryFactory(account__client=ClientFactory(), amount=Decimal("42.00"))
    monkeypatch.setattr("casework.runs.tasks.dispatch_chunk", lambda run_id, chunk: None)
    run = runs.run_start(job="statements", business_date=date.today(), trigger="test")
    assert run.status == RunStatus.RUNNING and run.chunks >= 2

    first = start_worker("first")
    second = None
    try:
        for chunk in range(run.chunks):
            broker.send_task("casework.runs.process_chunk", args=[run.pk, chunk])
        done = lambda: RunItem.objects.filter(run=run, status=ItemStatus.DONE).count()  # noqa: E731
        wait_for(lambda: done() >= 3, 120, "the first worker to do a few items")  # start-up on a busy machine
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool process, mid-chunk
        first.wait(10)
        killed_at = done()
        assert killed_at < 40, "the first worker finished everything before it could be killed"

        second = start_worker("second")
        wait_for(lambda: Run.objects.get(pk=run.pk).status != RunStatus.RUNNING, 180, "the second worker to finish")
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(20)

    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert RunItem.objects.filter(run=run, status=ItemStatus.DONE).count() == 40
    letters = Letter.objects.filter(run_item__run=run)
    assert letters.count() == 40
    assert letters.values("client").distinct().count() == 40
    assert run.print_batch.letter_count == 40
