"""Data protection pages: subject access export, retention review queue, erasure requests."""
from django.apps import apps as django_apps
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import Column, personal_export_response, requested_format
from casework.models import (
    Account,
    Client,
    ErasureRequest,
    ErasureStatus,
    RetentionReview,
    RetentionReviewStatus,
    SubjectAccessRequest,
)
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .erasure import erasure_decide, erasure_request
from .export import subject_access_export
from .forms import ErasureDecisionForm, ErasureRequestForm, RetainForm, SubjectAccessForm
from .retention import review_transition
from .roles import (
    ERASURE_APPROVERS,
    ERASURE_REQUESTERS,
    ERASURE_VIEWERS,
    RETENTION_DECIDERS,
    RETENTION_VIEWERS,
    SUBJECT_ACCESS_EXPORTERS,
)


def _client_url(client) -> str:
    return reverse("casework:client_detail", args=[client.pk])


@role_required(SUBJECT_ACCESS_EXPORTERS)
def subject_access_create(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    form = SubjectAccessForm(request.POST or None)
    sar = handle(request, form, lambda d: subject_access_export(client=client, actor=request.user, reason=d["reason"],
                                                                path=request.path))
    if sar:
        messages.success(request, f"Subject access export {sar.reference} produced")
        return redirect("casework:subject_access_detail", pk=sar.pk)
    previous = SubjectAccessRequest.objects.filter(client=client).select_related("requested_by")[:20]
    log_record_views(request, client)
    return render(request, "casework/privacy/subject_access_form.html", {
        "form": form, "client": client, "previous": previous, "back_url": _client_url(client)})


@role_required(SUBJECT_ACCESS_EXPORTERS)
def subject_access_detail(request, pk: int):
    sar = get_object_or_404(SubjectAccessRequest.objects.select_related("client", "requested_by"), pk=pk)
    log_record_views(request, sar.client_id)
    return render(request, "casework/privacy/subject_access_detail.html", {"sar": sar})


@role_required(SUBJECT_ACCESS_EXPORTERS)
def subject_access_download(request, pk: int):
    sar = get_object_or_404(SubjectAccessRequest.objects.select_related("client"), pk=pk)
    if not sar.file:
        raise Http404("This export's file has been deleted")
    log_record_views(request, sar.client_id)
    try:
        handle_ = sar.file.open("rb")
    except FileNotFoundError:
        raise Http404("The export's file is missing")
    response = FileResponse(handle_, content_type="application/zip", as_attachment=True,
                            filename=f"{sar.reference}.zip")
    response["X-Content-Type-Options"] = "nosniff"
    return response


REVIEW_COLUMNS = [
    Column("Client record", lambda r: r.client_id),
    Column("Reference", lambda r: r.client.reference),
    Column("Name", lambda r: r.client.full_name),
    Column("Marked on", lambda r: r.marked_on),
    Column("Retention ended", lambda r: r.retention_ended_on),
    Column("Why", lambda r: r.explanation),
    Column("Status", lambda r: r.get_status_display()),
    Column("Decided by", lambda r: r.decided_by.get_username() if r.decided_by_id else ""),
    Column("Note", lambda r: r.decision_note),
]


@role_required(RETENTION_VIEWERS)
def retention_queue(request):
    show = request.GET.get("status", RetentionReviewStatus.PENDING)
    if show not in RetentionReviewStatus.values:
        show = RetentionReviewStatus.PENDING
    reviews = RetentionReview.objects.filter(status=show).select_related("client", "decided_by")
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, reviews.iterator(), REVIEW_COLUMNS, "retention-review", fmt)
    shown = list(reviews[:500])
    log_record_views(request, shown)
    return render(request, "casework/privacy/retention_queue.html", {
        "reviews": shown, "show": show, "statuses": RetentionReviewStatus.choices,
        "can_decide": has_any_role(request.user, RETENTION_DECIDERS),
        "can_request": has_any_role(request.user, ERASURE_REQUESTERS)})


@role_required(RETENTION_DECIDERS)
def retention_keep(request, pk: int):
    review = get_object_or_404(RetentionReview.objects.select_related("client"), pk=pk)
    form = RetainForm(request.POST or None)
    if handle(request, form, lambda d: review_transition(review=review, to_status=RetentionReviewStatus.RETAINED,
                                                         actor=request.user, note=d["note"])):
        messages.success(request, f"{review.client.full_name}'s record is kept")
        return redirect("casework:retention_queue")
    log_record_views(request, review.client_id)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Keep {review.client.full_name}'s record", "back_url": reverse("casework:retention_queue"),
        "summary": [("Retention ended", f"{review.retention_ended_on:%d %B %Y}"), ("Why marked", review.explanation)]})


@role_required(ERASURE_REQUESTERS)
def erasure_create(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    form = ErasureRequestForm(request.POST or None)
    erasure = handle(request, form, lambda d: erasure_request(client=client, actor=request.user, reason=d["reason"]))
    if erasure:
        messages.success(request, f"Erasure {erasure.reference} requested: another team leader must approve it")
        return redirect("casework:erasure_detail", pk=erasure.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Request erasure of {client.full_name}'s personal data", "back_url": _client_url(client),
        "summary": [("Reference", client.reference),
                    ("What happens", "Another team leader must approve. Personal data is then removed; accounts, "
                                     "ledger entries and financial totals are kept, anonymised.")]})


ERASURE_COLUMNS = [
    Column("Request", lambda e: e.reference),
    Column("Client record", lambda e: e.client_id),
    Column("Status", lambda e: e.get_status_display()),
    Column("Requested by", lambda e: e.requested_by.get_username()),
    Column("Requested at", lambda e: e.requested_at),
    Column("Reason", lambda e: e.reason),
    Column("Decided by", lambda e: e.decided_by.get_username() if e.decided_by_id else ""),
    Column("Decided at", lambda e: e.decided_at),
]


@role_required(ERASURE_VIEWERS)
def erasure_list(request):
    requests = ErasureRequest.objects.select_related("client", "requested_by", "decided_by")
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, requests.iterator(), ERASURE_COLUMNS, "erasure-requests", fmt)
    shown = list(requests[:500])
    log_record_views(request, shown)
    return render(request, "casework/privacy/erasure_list.html", {"requests": shown})


@role_required(ERASURE_VIEWERS)
def erasure_detail(request, pk: int):
    erasure = get_object_or_404(ErasureRequest.objects.select_related("client", "requested_by", "decided_by"), pk=pk)
    can_decide = (erasure.status == ErasureStatus.REQUESTED and has_any_role(request.user, ERASURE_APPROVERS)
                  and erasure.requested_by_id != request.user.pk)
    form = ErasureDecisionForm(request.POST or None) if can_decide else None
    if form is not None and handle(request, form, lambda d: erasure_decide(
            erasure=erasure, actor=request.user, approve=d["decision"] == "approve", note=d["note"])):
        erasure.refresh_from_db()
        messages.success(request, f"{erasure.reference}: {erasure.get_status_display()}")
        return redirect("casework:erasure_detail", pk=erasure.pk)
    # Totals are kept by account id (older requests: by the account number of the day).
    numbers = dict(Account.objects.filter(pk__in=[int(k) for k in erasure.financial_totals if k.isdigit()])
                   .values_list("pk", "number"))
    totals = [(numbers.get(int(key), key) if key.isdigit() else key, t) for key, t in erasure.financial_totals.items()]
    erased = [(_erased_label(name), count) for name, count in erasure.erased.items()]
    log_record_views(request, erasure.client_id)
    return render(request, "casework/privacy/erasure_detail.html",
                  {"erasure": erasure, "form": form, "totals": totals, "erased": erased})


def _erased_label(name: str) -> str:
    """An erasure count's name on its page: ours, else an app step's model ("casework.affairscase")
    by its app's and model's names ("Casework: affairs cases, notes cleared"); such steps clear the
    free-text notes of the client's rows."""
    if name in ERASED_LABELS:
        return ERASED_LABELS[name]
    try:
        meta = django_apps.get_model(name)._meta
    except (LookupError, ValueError):
        return name.replace("_", " ").replace(".", ": ").capitalize()
    return f"{meta.app_config.verbose_name}: {meta.verbose_name_plural}, notes cleared"


#: What an erasure's counts are called on its page (app steps' model labels fall back to their name).
ERASED_LABELS = {
    "documents": "Documents (files deleted, names cleared)",
    "subject_access_exports": "Earlier subject access exports deleted",
    "timeline_entries": "Timeline entries redacted",
    "letters": "Letters (PDFs deleted, recipient cleared)",
    "tasks": "Task titles cleared",
    "cases": "Case titles and hold reasons cleared",
    "representatives": "Representatives' details cleared",
    "accounts_renumbered": "Accounts renumbered",
    "print_batches_remade": "Print batches made again without the client's letters",
    "client": "Client record anonymised",
    "files_deleted": "Files deleted from storage",
}
