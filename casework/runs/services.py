"""Runs: start (or resume), work chunk by chunk, finish once.

1. `run_start` creates the run and all its items in one transaction (unique on job and business
   date; unique on run and subject), or finds the existing run; then queues a task per chunk that
   still has pending items. Starting again never redoes a finished item.
2. `run_chunk` (a Celery task's body) works through the chunk's pending items, each in its own
   savepoint, a few items to a transaction under row locks taken with SKIP LOCKED, and marks the
   items done in the same transaction as their effects. A worker killed mid-item loses only that uncommitted transaction;
   the redelivered chunk (acks_late, reject on worker lost) or a resume finishes it, once.
3. `run_finish` runs when no item is pending, under a lock on the run, exactly once: it sets the
   final status and calls the job's `finish` (the print batch).
"""
import logging
import traceback
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from casework.models import ItemStatus, Run, RunEvent, RunItem, RunStatus
from casework.services.errors import DomainError

from .registry import Skip, get_job

log = logging.getLogger(__name__)


def _event(run: Run, action: str, actor=None, old: str = "", new: str = "", reason: str = "") -> None:
    RunEvent.objects.create(run=run, action=action, old_value=old, new_value=new, reason=reason[:300], actor=actor)


def run_transition(*, run: Run, to_status: str, actor=None, reason: str = "") -> Run:
    """The one way a run changes status: checks the move and records it."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status == to_status:
            return run
        if not run.can_transition_to(to_status):
            raise DomainError(f"Run {run.pk} cannot move from {run.get_status_display().lower()} to "
                              f"{RunStatus(to_status).label.lower()}")
        old = run.status
        run.status = to_status
        fields = ["status"]
        if to_status == RunStatus.RUNNING and run.started_at is None:
            run.started_at = timezone.now()
            fields.append("started_at")
        if to_status in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_ERRORS, RunStatus.FAILED, RunStatus.CANCELLED):
            run.finished_at = timezone.now()
            fields.append("finished_at")
        elif to_status == RunStatus.RUNNING:
            run.finished_at = None
            fields.append("finished_at")
        if to_status == RunStatus.FAILED:
            run.error = reason
            fields.append("error")
        run.save(update_fields=fields)
        _event(run, "run.status", actor, old, to_status, reason)
        return run


def run_start(*, job: str, business_date: date, trigger: str, actor=None) -> Run:
    """Start the job for the business date, or resume the run that already exists for it."""
    spec = get_job(job)
    try:
        with transaction.atomic():
            run = Run.objects.create(job=job, business_date=business_date, trigger=trigger, started_by=actor,
                                     chunk_size=spec.chunk_size)
            subjects = list(dict.fromkeys(spec.plan(business_date)))
            RunItem.objects.bulk_create(
                [RunItem(run=run, subject=s, chunk=i // spec.chunk_size) for i, s in enumerate(subjects)],
                batch_size=5000,
            )
            run.chunks = (len(subjects) + spec.chunk_size - 1) // spec.chunk_size
            run.save(update_fields=["chunks"])
            _event(run, "run.planned", actor, new=str(len(subjects)), reason=f"Started by {trigger}")
            run_transition(run=run, to_status=RunStatus.RUNNING, actor=actor)
    except IntegrityError:
        # The run for this job and date exists (started earlier, or by another process just now).
        run = Run.objects.get(job=job, business_date=business_date)
        if run.status == RunStatus.FAILED:
            run_transition(run=run, to_status=RunStatus.RUNNING, actor=actor, reason="Resumed")
    run = Run.objects.get(pk=run.pk)
    if run.status == RunStatus.RUNNING:
        enqueue_pending(run)
    return run


def enqueue_pending(run: Run) -> list[int]:
    """Queue a task for every chunk that still has pending items (after commit). Safe to repeat:
    an item already done is skipped by whichever task reaches it second."""
    from .tasks import dispatch_chunk

    chunks = sorted(set(RunItem.objects.filter(run=run, status=ItemStatus.PENDING).values_list("chunk", flat=True)))
    if not chunks:
        transaction.on_commit(lambda: run_finish(run_id=run.pk))
    for chunk in chunks:
        transaction.on_commit(lambda c=chunk: dispatch_chunk(run.pk, c))
    return chunks


def run_chunk(*, run_id: int, chunk: int, worker: str = "") -> int:
    """Do the chunk's pending items; returns how many this call did. Then finish the run if due."""
    run = Run.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return 0
    spec = get_job(run.job)
    pending = list(RunItem.objects.filter(run=run, chunk=chunk, status=ItemStatus.PENDING).values_list("pk", "subject"))
    if not pending:
        run_finish(run_id=run_id)
        return 0
    prepared = spec.prepare(run, [subject for _, subject in pending]) if spec.prepare else {}
    done = 0
    group = spec.group_size or settings.RUN_ITEMS_PER_TRANSACTION
    for start in range(0, len(pending), group):
        done += _run_group(run, spec, [pk for pk, _ in pending[start:start + group]], prepared)
    run_finish(run_id=run_id)
    return done


def _run_group(run: Run, spec, pks: list[int], prepared: dict) -> int:
    """A few items in one transaction: locked together (SKIP LOCKED: items another worker holds are
    left to it), each done inside its own savepoint so a failing item rolls back only itself, and
    all marked done in the transaction that holds their effects. A worker killed here loses the
    whole uncommitted group, which stays pending and is done again, once, by whoever resumes it."""
    with transaction.atomic():
        items = list(RunItem.objects.select_for_update(skip_locked=True)
                     .filter(pk__in=pks, status=ItemStatus.PENDING).order_by("pk"))
        answered = _process_group(run, spec, items, prepared)
        for item in items:
            item.attempts += 1
            if item.pk in answered:
                outcome = answered[item.pk]
                if isinstance(outcome, Skip):
                    item.status, item.outcome = ItemStatus.SKIPPED, outcome.reason[:300]
                else:
                    item.status, item.outcome = ItemStatus.DONE, (outcome or "Done")[:300]
                item.finished_at = timezone.now()
                continue
            try:
                with transaction.atomic():
                    item.outcome = (spec.process(run, item, prepared) or "Done")[:300]
                item.status = ItemStatus.DONE
            except Skip as skip:
                item.status, item.outcome = ItemStatus.SKIPPED, skip.reason[:300]
            except Exception as exc:  # noqa: BLE001 - one bad item must not stop the run
                log.exception("Run %s item %s failed", run.pk, item.subject)
                item.status, item.outcome = ItemStatus.FAILED, f"{type(exc).__name__}: {exc}"[:300]
                item.error = traceback.format_exc()[-4000:]
            item.finished_at = timezone.now()
        _save_outcomes(items)
    return len(items)


def _process_group(run: Run, spec, items: list[RunItem], prepared: dict) -> dict:
    """The job's set-based step for the whole group, in a savepoint; {} (so every item is done one
    by one) when the job has none or when it fails."""
    if not spec.process_group or not items:
        return {}
    try:
        with transaction.atomic():
            return spec.process_group(run, items, prepared) or {}
    except Exception:  # noqa: BLE001 - fall back to one savepoint per item, which isolates the bad one
        log.warning("Run %s: group of %d items failed set-based; doing them one by one", run.pk, len(items),
                    exc_info=True)
        return {}


def _save_outcomes(items: list[RunItem]) -> None:
    """Record the group's outcomes in one statement on PostgreSQL (bulk_update's CASE expressions
    cost more Python than the items' own work); one UPDATE per item elsewhere."""
    if not items:
        return
    fields = ["status", "outcome", "error", "attempts", "finished_at"]
    if connection.vendor != "postgresql":
        RunItem.objects.bulk_update(items, fields)
        return
    rows = ", ".join(["(%s, %s, %s, %s, %s::integer, %s::timestamptz)"] * len(items))
    params = [value for i in items for value in (i.pk, i.status, i.outcome, i.error, i.attempts, i.finished_at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {RunItem._meta.db_table} AS t SET status = v.status, outcome = v.outcome, error = v.error, "
            f"attempts = v.attempts, finished_at = v.finished_at "
            f"FROM (VALUES {rows}) AS v(id, status, outcome, error, attempts, finished_at) WHERE t.id = v.id",
            params,
        )


def run_finish(*, run_id: int) -> Run:
    """Set the final status and call the job's finish step, once, when nothing is pending."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or RunItem.objects.filter(run=run, status=ItemStatus.PENDING).exists():
            return run
        spec = get_job(run.job)
        if spec.finish:
            spec.finish(run)
        failed = RunItem.objects.filter(run=run, status=ItemStatus.FAILED).exists()
        final = RunStatus.COMPLETED_WITH_ERRORS if failed else RunStatus.COMPLETED
        return run_transition(run=run, to_status=final)


def run_retry_failed(*, run: Run, actor) -> int:
    """Put the failed items back to pending and work them again."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.COMPLETED_WITH_ERRORS:
            raise DomainError("Only a run that completed with errors has failed items to retry")
        count = RunItem.objects.filter(run=run, status=ItemStatus.FAILED).update(status=ItemStatus.PENDING, error="")
        _event(run, "run.retry", actor, new=str(count), reason=f"{count} failed item(s) retried")
        run_transition(run=run, to_status=RunStatus.RUNNING, actor=actor, reason="Retrying failed items")
        enqueue_pending(run)
    return count


def run_resume(*, run: Run, actor, reason: str = "") -> Run:
    """Queue the pending chunks of a running or failed run again (after a lost worker or broker)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.FAILED:
            run_transition(run=run, to_status=RunStatus.RUNNING, actor=actor, reason="Resumed")
        elif run.status != RunStatus.RUNNING:
            raise DomainError("Only a running or failed run can be resumed")
        _event(run, "run.resumed", actor, reason=reason)
        enqueue_pending(run)
    return Run.objects.get(pk=run.pk)


def last_progress(run: Run):
    """When the run last moved: its start, an item finishing, or a status change or resume."""
    moments = [run.started_at or run.created_at,
               RunItem.objects.filter(run=run).aggregate(at=Max("finished_at"))["at"],
               RunEvent.objects.filter(run=run).aggregate(at=Max("at"))["at"]]
    return max(moment for moment in moments if moment is not None)


def run_watchdog(*, now=None) -> list[int]:
    """Resume every running run with pending items that has not moved for RUN_STALL_SECONDS.

    Beat calls this every RUN_WATCHDOG_SECONDS. It brings a run back by itself after its queued
    chunks were lost (Redis restarted empty, a start made while Redis was down, a message dropped):
    the pending chunks are queued again, once per stall period. Queuing a chunk that a live worker
    still holds costs nothing but a second look: its items are locked (SKIP LOCKED) or already done."""
    now = now or timezone.now()
    stall = timedelta(seconds=settings.RUN_STALL_SECONDS)
    resumed = []
    running = Run.objects.filter(status=RunStatus.RUNNING, items__status=ItemStatus.PENDING).distinct()
    for run in running:
        quiet = now - last_progress(run)
        if quiet < stall:
            continue
        minutes = int(quiet.total_seconds() // 60)
        quiet_for = f"{minutes} minute(s)" if minutes else f"{int(quiet.total_seconds())} seconds"
        try:
            run_resume(run=run, actor=None, reason=f"Resumed automatically: nothing done for {quiet_for}")
        except DomainError:
            continue  # finished or cancelled meanwhile
        log.warning("Run %s (%s %s) resumed after %s without progress", run.pk, run.job, run.business_date, quiet_for)
        resumed.append(run.pk)
    return resumed


def run_cancel(*, run: Run, actor, reason: str) -> Run:
    if not reason.strip():
        raise DomainError("Give a reason for cancelling the run", field="reason")
    return run_transition(run=run, to_status=RunStatus.CANCELLED, actor=actor, reason=reason)


def run_counts(run: Run) -> dict[str, int]:
    """Planned, done, skipped, failed and pending, from the items themselves."""
    rows = dict(RunItem.objects.filter(run=run).values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = {status: rows.get(status, 0) for status in ItemStatus.values}
    counts["planned"] = sum(rows.values())
    counts["finished"] = counts["planned"] - counts[ItemStatus.PENDING]
    counts["percent"] = round(100 * counts["finished"] / counts["planned"]) if counts["planned"] else 100
    return counts
