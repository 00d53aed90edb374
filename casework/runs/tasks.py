"""Thin Celery tasks: take ids, call a service.

Chunk tasks are acknowledged late and rejected (so requeued) when their worker is lost: a chunk
whose worker dies is delivered again, and the row locks make sure no item is done twice.
"""
import socket
import threading

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from . import services


@shared_task(name="casework.runs.process_chunk", acks_late=True, reject_on_worker_lost=True)
def process_chunk(run_id: int, chunk: int) -> int:
    return services.run_chunk(run_id=run_id, chunk=chunk, worker=socket.gethostname())


@shared_task(name="casework.runs.start_scheduled_run")
def start_scheduled_run(job: str) -> int:
    """Beat's entry point: the business date is today in the council's time zone, rolled to the next
    working day for a job that runs on working days only."""
    return services.run_start(job=job, business_date=scheduled_business_date(job, timezone.localdate()),
                              trigger="schedule").pk


def scheduled_business_date(job: str, today):
    from casework.calendar import next_working_day

    from .registry import get_job

    return next_working_day(today) if get_job(job).working_days_only else today


@shared_task(name="casework.runs.watchdog", ignore_result=True)
def watchdog() -> list[int]:
    """Beat's check for runs that stopped moving (their queued chunks lost); see services.run_watchdog."""
    return services.run_watchdog()


def dispatch_chunk(run_id: int, chunk: int) -> None:
    """Send a chunk to the workers. With no broker (the embedded demo) it runs in this process, on
    a background thread where RUNS_IN_BACKGROUND_THREAD is set, so pages can show its progress."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        process_chunk.delay(run_id, chunk)
    elif getattr(settings, "RUNS_IN_BACKGROUND_THREAD", False):
        threading.Thread(target=_run_in_thread, args=(run_id, chunk), daemon=True).start()
    else:
        process_chunk.apply(args=(run_id, chunk))


_thread_lock = threading.Lock()


def _run_in_thread(run_id: int, chunk: int) -> None:
    # One chunk at a time: SQLite allows one writer.
    with _thread_lock:
        close_old_connections()
        try:
            process_chunk.apply(args=(run_id, chunk))
        finally:
            connection.close()
