from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework.exports import Column, export_response, requested_format
from casework.forms import GovForm, _date
from casework.models import Client, ItemStatus, Letter, PrintBatchStatus, Run, RunItem
from casework.roles import READERS, Role, has_any_role
from casework.runs import services
from casework.runs.access import (CLIENT_RUN_READERS, batch_client_ids, item_client_ids, may_read_run,
                                  runs_readable_by)
from casework.services.clients import client_records_viewed
from casework.runs.print_batch import print_batch_transition
from casework.runs.registry import JOBS, job_choices

from .access import role_required
from .forms import handle

#: Who may list runs and follow their progress; a run that names clients (its page, item export and
#: print batch) is for CLIENT_RUN_READERS only (casework.runs.access).
RUN_VIEWERS = READERS | {Role.FINANCE_ADMINISTRATOR}
RUN_OPERATORS = frozenset({Role.TEAM_LEADER})

RUN_COLUMNS = [
    Column("Run", lambda r: r.pk),
    Column("Job", lambda r: JOBS[r.job].name if r.job in JOBS else r.job),
    Column("Business date", lambda r: r.business_date),
    Column("Status", lambda r: r.get_status_display()),
    Column("Started by", lambda r: r.started_by.username if r.started_by else r.trigger),
    Column("Started", lambda r: r.started_at),
    Column("Finished", lambda r: r.finished_at),
]


class StartRunForm(GovForm):
    submit_label = "Start run"
    job = forms.ChoiceField(choices=job_choices, widget=forms.RadioSelect)
    business_date = _date("Business date", help_text="Usually today. A date that already has a run resumes it.")


class ReasonForm(GovForm):
    reason = forms.CharField(max_length=300)


def _run(pk: int) -> Run:
    return get_object_or_404(Run.objects.select_related("started_by"), pk=pk)


@role_required(RUN_VIEWERS)
def run_list(request):
    runs = Run.objects.select_related("started_by")
    fmt = requested_format(request)
    if fmt:
        return export_response(runs, RUN_COLUMNS, "runs", fmt)
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    readable = runs_readable_by(request.user, page)
    for run in page:
        run.readable = run.pk in readable
    return render(request, "casework/runs/list.html", {
        "page_obj": page, "jobs": JOBS, "can_start": has_any_role(request.user, RUN_OPERATORS)})


@role_required(RUN_OPERATORS)
def run_start(request):
    form = StartRunForm(request.POST or None, initial={"business_date": timezone.localdate()})
    run = handle(request, form, lambda d: services.run_start(job=d["job"], business_date=d["business_date"],
                                                             trigger="web", actor=request.user))
    if run:
        messages.success(request, f"Run {run.pk} for {run.business_date:%d %B %Y} is {run.get_status_display().lower()}")
        return redirect("casework:run_detail", pk=run.pk)
    return render(request, "casework/form_page.html", {"form": form, "title": "Start a run", "back_url": "casework:run_list"})


@role_required(RUN_VIEWERS)
def run_detail(request, pk: int):
    run = _run(pk)
    if not may_read_run(request.user, run):
        raise PermissionDenied("This run names clients: your role does not give access to client records")
    failed = list(RunItem.objects.filter(run=run, status=ItemStatus.FAILED)[:100])
    skipped = list(RunItem.objects.filter(run=run, status=ItemStatus.SKIPPED)[:100])
    _attach_clients(failed + skipped)
    fmt = requested_format(request)
    if fmt:
        items = RunItem.objects.filter(run=run)
        client_records_viewed(clients_or_ids=item_client_ids(run), user=request.user, path=request.get_full_path())
        columns = [Column("Subject", lambda i: i.subject), Column("Status", lambda i: i.get_status_display()),
                   Column("Outcome", lambda i: i.outcome), Column("Attempts", lambda i: i.attempts),
                   Column("Finished", lambda i: i.finished_at)]
        return export_response(items, columns, f"run-{run.pk}-items", fmt)
    context = {
        "run": run,
        "job": JOBS.get(run.job),
        "counts": services.run_counts(run),
        "failed": failed,
        "skipped": skipped,
        "letters": Letter.objects.filter(run_item__run=run).order_by("postcode", "id")[:50],
        "batch": getattr(run, "print_batch", None),
        "events": run.events.select_related("actor")[:50],
        "can_operate": has_any_role(request.user, RUN_OPERATORS),
    }
    return render(request, "casework/runs/detail.html", context)


def _attach_clients(items: list[RunItem]) -> None:
    """Items about a client ("client:123") show the client's name and a link, in one query."""
    ids = {int(i.subject.split(":", 1)[1]) for i in items if i.subject.startswith("client:")}
    clients = Client.objects.in_bulk(ids)
    for item in items:
        kind, _, key = item.subject.partition(":")
        item.client = clients.get(int(key)) if kind == "client" and key.isdigit() else None


@role_required(RUN_VIEWERS)
def run_progress(request, pk: int):
    """The progress panel alone, polled by htmx while the run is active."""
    run = _run(pk)
    return render(request, "casework/runs/includes/progress.html",
                  {"run": run, "counts": services.run_counts(run), "refresh_hint": True})


def _action(request, pk: int, action, success: str):
    run = _run(pk)
    try:
        action(run)
        messages.success(request, success)
    except services.DomainError as exc:
        messages.error(request, exc.message)
    return redirect("casework:run_detail", pk=run.pk)


@role_required(RUN_OPERATORS)
@require_POST
def run_retry(request, pk: int):
    return _action(request, pk, lambda run: services.run_retry_failed(run=run, actor=request.user), "Failed items queued again")


@role_required(RUN_OPERATORS)
@require_POST
def run_resume(request, pk: int):
    return _action(request, pk, lambda run: services.run_resume(run=run, actor=request.user), "Pending chunks queued again")


@role_required(RUN_OPERATORS)
def run_cancel(request, pk: int):
    run = _run(pk)
    form = ReasonForm(request.POST or None)
    form.submit_label = "Cancel run"
    if handle(request, form, lambda d: services.run_cancel(run=run, actor=request.user, reason=d["reason"])):
        messages.success(request, "Run cancelled")
        return redirect("casework:run_detail", pk=run.pk)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Cancel run {run.pk}",
                                                        "back_url": f"/runs/{run.pk}/"})


def _batch(run: Run):
    batch = getattr(run, "print_batch", None)
    if batch is None:
        raise Http404("This run has no print batch")
    return batch


@role_required(RUN_OPERATORS)
def batch_hold(request, pk: int):
    run = _run(pk)
    batch = _batch(run)
    form = ReasonForm(request.POST or None)
    form.submit_label = "Hold batch"
    if handle(request, form, lambda d: print_batch_transition(batch=batch, to_status=PrintBatchStatus.HELD,
                                                              actor=request.user, reason=d["reason"])):
        messages.success(request, "Print batch held: it cannot be released until the hold is lifted")
        return redirect("casework:run_detail", pk=run.pk)
    return render(request, "casework/form_page.html", {"form": form, "title": f"Hold the print batch of run {run.pk}",
                                                        "back_url": f"/runs/{run.pk}/"})


@role_required(RUN_OPERATORS)
@require_POST
def batch_unhold(request, pk: int):
    run = _run(pk)
    return _action(request, pk, lambda r: print_batch_transition(batch=_batch(run), to_status=PrintBatchStatus.READY,
                                                                 actor=request.user, reason="Hold lifted"), "Hold lifted")


@role_required(RUN_OPERATORS)
@require_POST
def batch_release(request, pk: int):
    run = _run(pk)
    return _action(request, pk, lambda r: print_batch_transition(batch=_batch(run), to_status=PrintBatchStatus.RELEASED,
                                                                 actor=request.user), "Batch released to print")


@role_required(CLIENT_RUN_READERS)
def batch_file(request, pk: int, kind: str):
    """The print batch's PDF or manifest: letters to clients, so each download is logged as a view
    of every client whose letter it holds."""
    if kind not in ("pdf", "manifest"):
        raise Http404("No such file")
    run = _run(pk)
    batch = _batch(run)
    field = batch.pdf if kind == "pdf" else batch.manifest
    if not field:
        raise Http404("This batch has no letters left")
    client_records_viewed(clients_or_ids=batch_client_ids(run), user=request.user, path=request.get_full_path())
    content_type = "application/pdf" if kind == "pdf" else "text/csv"
    return FileResponse(field.open("rb"), content_type=content_type, as_attachment=True,
                        filename=field.name.rsplit("/", 1)[-1])
