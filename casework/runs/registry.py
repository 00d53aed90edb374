"""The jobs the engine knows. Each app registers its jobs in its AppConfig.ready()."""
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable


class Skip(Exception):
    """Raised by a job's `process` to record an item as skipped, with the reason officers will read."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Job:
    """A scheduled job.

    - `plan(business_date)` lists the subjects to work on (stable strings such as "client:123").
    - `prepare(run, subjects)` (optional) loads what a chunk's items need in a few queries.
    - `process(run, item, prepared)` does one item and returns what it did, or raises Skip.
    - `process_group(run, items, prepared)` (optional) does a whole group of items set-based (bulk
      writes) and returns {item pk: outcome text or a Skip}. If it raises, its savepoint rolls back
      and the engine does the group again item by item with `process`, so one bad item still fails
      alone. An item missing from the answer is done by `process` too.
    - `group_size` (optional) items per transaction for this job; default RUN_ITEMS_PER_TRANSACTION.
    - `finish(run)` (optional) runs once when every item is done, e.g. to build the print batch.
    - `schedule` is the default crontab (Europe/London) for django-celery-beat; None: on demand only.
    - `names_clients` False only for a job whose items and outcomes name no client (the provider
      payment run): its run page and item export are open to finance administrators too. Any run
      with letters names clients whatever this says (see casework.runs.access).
    - `working_days_only` True for a job whose business date must be a working day (the provider
      payment run, whose date is the Bacs input day): beat's run on a non-working day is for the
      next working day (casework.calendar.next_working_day).
    """

    code: str
    name: str
    description: str
    plan: Callable[[date], Iterable[str]]
    process: Callable[..., str]
    prepare: Callable[..., dict] | None = None
    finish: Callable[..., None] | None = None
    chunk_size: int = 50
    process_group: Callable[..., dict] | None = None
    group_size: int | None = None
    schedule: dict[str, str] | None = field(default=None)
    names_clients: bool = True
    working_days_only: bool = False


JOBS: dict[str, Job] = {}


def register_job(job: Job) -> Job:
    JOBS[job.code] = job
    return job


def get_job(code: str) -> Job:
    try:
        return JOBS[code]
    except KeyError:
        raise UnknownJob(code) from None


class UnknownJob(KeyError):
    def __init__(self, code: str):
        super().__init__(code)
        self.message = f"There is no job called '{code}'. Jobs: {', '.join(sorted(JOBS)) or 'none'}"

    def __str__(self) -> str:
        return self.message


def job_choices() -> list[tuple[str, str]]:
    return sorted(((code, job.name) for code, job in JOBS.items()), key=lambda c: c[1])


def prepared_value(prepared: dict, subject: str) -> Any:
    return prepared.get(subject)
