"""Which runs name clients, and the record-view log written when their files are downloaded.

A run names clients when its job does (every job but the provider payment run) or when it produced
letters: its page, its item export and its print batch (the letters' PDF and manifest) are then for
the roles that may read client records (casework.roles.READERS) only. Finance administrators see
the list of runs and the runs that name no client.

Each download of a file that names clients (the batch PDF, its manifest, the item export) is logged
as a view of each client's record, as opening the client's page is.
"""
from casework.models import Letter, RunItem
from casework.roles import READERS, has_any_role

from .registry import JOBS

#: Who may open a run that names clients, and download its print batch and item export.
CLIENT_RUN_READERS = READERS

CLIENT_SUBJECT = "client:"


def run_names_clients(run) -> bool:
    job = JOBS.get(run.job)
    if job is None or job.names_clients:
        return True
    return Letter.objects.filter(run_item__run=run).exists()


def may_read_run(user, run) -> bool:
    """Whether the user may see the run's items: anyone admitted to runs for a run naming no client."""
    return has_any_role(user, CLIENT_RUN_READERS) or not run_names_clients(run)


def batch_client_ids(run) -> list[int]:
    """The clients whose letters are in the run's print batch (an erased client's letters are not)."""
    return sorted(set(Letter.objects.filter(run_item__run=run).exclude(file="").values_list("client_id", flat=True)))


def item_client_ids(run) -> list[int]:
    """The clients the run's items name: items about a client ("client:123") and items that made a letter."""
    ids = set(Letter.objects.filter(run_item__run=run).values_list("client_id", flat=True))
    for subject in RunItem.objects.filter(run=run, subject__startswith=CLIENT_SUBJECT).values_list("subject", flat=True):
        key = subject[len(CLIENT_SUBJECT):]
        if key.isdigit():
            ids.add(int(key))
    return sorted(ids)


def runs_readable_by(user, runs) -> set[int]:
    """Of `runs` (a page of the run list), the ids this user may open: all for a client reader,
    otherwise those whose job names no client and which made no letter (two queries in all)."""
    runs = list(runs)
    if has_any_role(user, CLIENT_RUN_READERS):
        return {run.pk for run in runs}
    with_letters = set(Letter.objects.filter(run_item__run__in=runs).values_list("run_item__run_id", flat=True))
    return {run.pk for run in runs if run.pk not in with_letters
            and (job := JOBS.get(run.job)) is not None and not job.names_clients}
