"""Pages for payments, payment files, the suspense queue and refunds. Thin: parse, call one service."""
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import MONEY, Column, export_response, personal_export_response, requested_format
from casework.models import Client, ControlAction, ControlRequest
from casework.money import format_pounds
from casework.roles import READERS, Role, has_any_role
from casework.selectors import client_balance
from casework.services.controls import limits_for
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import selectors
from ..constants import PaymentMethod, SuspenseStatus
from ..models import Invoice, Payment, PaymentImport, SuspensePayment
from ..payment_forms import (
    PaymentForm,
    PaymentImportForm,
    ReallocateForm,
    ReasonForm,
    RefundForm,
    SuspenseMatchForm,
    SuspenseReturnForm,
    default_received_on,
)
from ..payment_forms import IMPORT_SOURCES
from ..payment_import import ImportRejected, file_sha256
from ..services import payments as services

#: Who may record payments, import payment files and work the suspense queue.
PAYMENT_RECORDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Who may reverse a payment.
PAYMENT_REVERSERS = frozenset({Role.TEAM_LEADER})
#: Who may refund a client's credit: within their REFUND limit at once, above it a team leader approves.
REFUNDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Who may move a payment from one invoice to another (those who allocate payments when recording them).
PAYMENT_REALLOCATORS = PAYMENT_RECORDERS
#: Who may download a stored payment file (it holds the bank's or cash office's data as received).
IMPORT_FILE_READERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER, Role.AUDITOR})
PAGE_SIZE = 50
IMPORT_SOURCE_LABELS = dict(IMPORT_SOURCES)

PAYMENT_COLUMNS = [
    Column("Received", lambda p: p.received_on),
    Column("Client reference", lambda p: p.client.reference),
    Column("Client", lambda p: p.client.full_name),
    Column("Amount", lambda p: p.amount, kind=MONEY),
    Column("Method", lambda p: p.get_method_display()),
    Column("Reference", lambda p: p.reference),
    Column("Allocated", lambda p: p.allocated, kind=MONEY),
    Column("Import", lambda p: p.import_batch_id),
]
IMPORT_COLUMNS = [
    Column("Imported", lambda b: b.imported_at),
    Column("Imported by", lambda b: b.imported_by.get_full_name() or b.imported_by.username),
    Column("File name", lambda b: b.original_name),
    Column("Source", lambda b: IMPORT_SOURCE_LABELS.get(b.source, b.source)),
    Column("Rows", lambda b: b.rows),
    Column("Total", lambda b: b.total, kind=MONEY),
    Column("Matched rows", lambda b: b.matched_rows),
    Column("Matched amount", lambda b: b.matched_amount, kind=MONEY),
    Column("Suspense rows", lambda b: b.suspense_rows),
    Column("Suspense amount", lambda b: b.suspense_amount, kind=MONEY),
    Column("Still in suspense", lambda b: b.suspense_waiting),
    Column("SHA-256", lambda b: b.sha256),
]
SUSPENSE_COLUMNS = [
    Column("Received", lambda s: s.received_on),
    Column("Amount", lambda s: s.amount, kind=MONEY),
    Column("Method", lambda s: s.get_method_display()),
    Column("Reference", lambda s: s.reference),
    Column("Payer", lambda s: s.payer),
    Column("Import", lambda s: s.import_batch_id),
    Column("Row", lambda s: s.row_number),
    Column("Status", lambda s: s.get_status_display()),
]


def _form_page(request, form, title: str, back_url: str, summary: list | None = None, **extra):
    context = {"form": form, "title": title, "back_url": back_url, "summary": summary or [], **extra}
    return render(request, "casework/form_page.html", context)


def _page(request, queryset: QuerySet):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _date_param(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, "").strip())
    except ValueError:
        return None


@role_required(PAYMENT_RECORDERS)
def payment_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = PaymentForm(request.POST or None, initial=default_received_on(), invoices=selectors.unpaid_invoices(client))
    payment = handle(request, form, lambda d: services.payment_record(
        client=client, amount=d["amount"], method=d["method"], received_on=d["received_on"],
        reference=d["reference"], actor=request.user, allocate_to=form.allocations() or None))
    if payment:
        messages.success(request, f"Payment of {format_pounds(payment.amount)} recorded")
        return redirect("debt:payment_detail", pk=payment.pk)
    log_record_views(request, client)
    return _form_page(request, form, f"Record a payment from {client.full_name}",
                      reverse("casework:client_detail", args=[client.pk]),
                      [("Client", f"{client.full_name} ({client.reference})"),
                       ("Balance", format_pounds(client_balance(client)))])


def _filtered_payments(request) -> QuerySet:
    payments = selectors.with_allocated(Payment.objects.select_related("client")).order_by("-received_on", "-id")
    if start := _date_param(request, "from"):
        payments = payments.filter(received_on__gte=start)
    if end := _date_param(request, "to"):
        payments = payments.filter(received_on__lte=end)
    if request.GET.get("method") in PaymentMethod.values:
        payments = payments.filter(method=request.GET["method"])
    if reference := request.GET.get("client", "").strip():
        payments = payments.filter(client__reference__iexact=reference)
    return payments


@role_required(READERS)
def payment_list(request):
    payments = _filtered_payments(request)
    if fmt := requested_format(request):
        return personal_export_response(request, payments, PAYMENT_COLUMNS, "payments", fmt)
    page = _page(request, payments)
    log_record_views(request, page)
    return render(request, "debt/payments/payment_list.html", {
        "page_obj": page, "methods": PaymentMethod.choices,
        "selected": {k: request.GET.get(k, "") for k in ("from", "to", "method", "client")},
        "can_record": has_any_role(request.user, PAYMENT_RECORDERS)})


@role_required(READERS)
def payment_detail(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("client", "ledger_entry", "import_batch"), pk=pk)
    log_record_views(request, payment)
    return render(request, "debt/payments/payment_detail.html", {
        "payment": payment, "allocations": payment.allocations.select_related("invoice", "created_by"),
        "unallocated": selectors.payment_unallocated(payment), "reversed": selectors.payment_is_reversed(payment),
        "can_reverse": has_any_role(request.user, PAYMENT_REVERSERS),
        "can_reallocate": has_any_role(request.user, PAYMENT_REALLOCATORS)})


@role_required(PAYMENT_REALLOCATORS)
def payment_reallocate(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("client", "ledger_entry"), pk=pk)
    back = reverse("debt:payment_detail", args=[payment.pk])
    if selectors.payment_is_reversed(payment):
        messages.error(request, f"Payment {payment.reference} has been reversed: it cannot be moved")
        return redirect(back)
    allocated = selectors.payment_allocated_by_invoice(payment)
    sources = Invoice.objects.filter(pk__in=list(allocated)).order_by("due_date", "number")
    form = ReallocateForm(request.POST or None, payment_invoices=[(inv, allocated[inv.pk]) for inv in sources],
                          unallocated=selectors.payment_unallocated(payment),
                          targets=selectors.unpaid_invoices(payment.client))
    moved = handle(request, form, lambda d: services.payment_reallocate(
        payment=payment, invoice=d["invoice"], amount=d["amount"], actor=request.user, reason=d["reason"],
        from_invoice=d["from_invoice"]))
    if moved:
        messages.success(request, f"{format_pounds(form.cleaned_data['amount'])} of payment {payment.reference} "
                                  f"moved to {form.cleaned_data['invoice'].number}")
        return redirect(back)
    log_record_views(request, payment)
    return _form_page(request, form, f"Move payment {payment.reference} to another invoice", back,
                      [*_payment_summary(payment), ("Not allocated (credit)",
                                                     format_pounds(selectors.payment_unallocated(payment)))])


def _imports() -> QuerySet:
    """Payment files with how many rows were matched to a client on import (became payments) and
    how many went to suspense (and how many of those still wait), with their amounts: grouped
    subqueries, one row per file."""
    money = DecimalField(max_digits=13, decimal_places=2)
    from_suspense = SuspensePayment.objects.filter(matched_payment__isnull=False).values("matched_payment")
    matched = Payment.objects.filter(import_batch=OuterRef("pk")).exclude(pk__in=from_suspense)
    suspense = SuspensePayment.objects.filter(import_batch=OuterRef("pk"))

    def per_file(rows: QuerySet, value, output):
        summed = rows.order_by().values("import_batch").annotate(v=value).values("v")
        return Coalesce(Subquery(summed, output_field=output), Value(0), output_field=output)

    return PaymentImport.objects.select_related("imported_by").annotate(
        matched_rows=per_file(matched, Count("id"), IntegerField()),
        matched_amount=per_file(matched, Sum("amount"), money),
        suspense_rows=per_file(suspense, Count("id"), IntegerField()),
        suspense_amount=per_file(suspense, Sum("amount"), money),
        suspense_waiting=per_file(suspense.filter(status=SuspenseStatus.UNMATCHED), Count("id"), IntegerField()),
    ).order_by("-imported_at", "-id")


@role_required(READERS)
def import_list(request):
    batches = _imports()
    if request.GET.get("source") in IMPORT_SOURCE_LABELS:
        batches = batches.filter(source=request.GET["source"])
    if fmt := requested_format(request):
        return export_response(batches, IMPORT_COLUMNS, "payment-imports", fmt)
    page = _page(request, batches)
    for batch in page.object_list:
        batch.source_label = IMPORT_SOURCE_LABELS.get(batch.source, batch.source)
    return render(request, "debt/payments/import_list.html", {
        "page_obj": page, "sources": IMPORT_SOURCES, "selected": request.GET.get("source", ""),
        "can_download": has_any_role(request.user, IMPORT_FILE_READERS),
        "can_import": has_any_role(request.user, PAYMENT_RECORDERS)})


@role_required(IMPORT_FILE_READERS)
def import_file(request, pk: int):
    """The payment file as it was imported, read through the storage API, if its bytes still
    match the SHA-256 recorded at import."""
    batch = get_object_or_404(PaymentImport, pk=pk)
    try:
        with batch.file.open("rb") as handle_:
            content = handle_.read()
    except FileNotFoundError:
        raise Http404("The payment file is missing from storage") from None
    if file_sha256(content) != batch.sha256:
        return render(request, "debt/payments/import_file_changed.html", {"batch": batch}, status=409)
    # The file's rows name the clients who paid: those its rows were matched to, on import or later.
    log_record_views(request, Payment.objects.filter(import_batch=batch).values_list("client_id", flat=True),
                     SuspensePayment.objects.filter(import_batch=batch, matched_payment__isnull=False)
                     .values_list("matched_payment__client_id", flat=True))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    name = batch.original_name.replace('"', "").replace("\r", "").replace("\n", "") or "payments.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(PAYMENT_REVERSERS)
def payment_reverse(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("client", "ledger_entry"), pk=pk)
    form = ReasonForm(request.POST or None)
    reversed_ = handle(request, form, lambda d: services.payment_reverse(payment=payment, reason=d["reason"],
                                                                         actor=request.user))
    if reversed_:
        messages.success(request, f"Payment {payment.reference} reversed")
        return redirect("debt:payment_detail", pk=payment.pk)
    log_record_views(request, payment)
    return _form_page(request, form, f"Reverse payment {payment.reference}",
                      reverse("debt:payment_detail", args=[payment.pk]), _payment_summary(payment))


def _payment_summary(payment: Payment) -> list:
    return [("Client", f"{payment.client.full_name} ({payment.client.reference})"),
            ("Amount", format_pounds(payment.amount)), ("Method", payment.get_method_display()),
            ("Received", f"{payment.received_on:%-d %B %Y}")]


@role_required(PAYMENT_RECORDERS)
def payment_import(request):
    form = PaymentImportForm(request.POST or None, request.FILES or None)

    def run(data: dict):
        try:
            return services.payment_import(file=data["file"], source=data["source"], actor=request.user)
        except ImportRejected as exc:  # nothing was written; each problem is its own line in the summary
            for problem in exc.problems:
                form.add_error("file", problem)
            return None

    batch = handle(request, form, run)
    if batch:
        suspense = batch.suspense.count()
        paid = batch.rows - suspense
        messages.success(request, f"{paid} payment{'' if paid == 1 else 's'} imported, {suspense} to suspense")
        return redirect("debt:suspense_list" if suspense else "debt:payment_list")
    return _form_page(request, form, "Import a payment file", reverse("debt:payment_list"), multipart=True)


def _filtered_suspense(request) -> QuerySet:
    status = request.GET.get("status", SuspenseStatus.UNMATCHED)
    rows = SuspensePayment.objects.all()
    if status in SuspenseStatus.values:
        rows = rows.filter(status=status)
    if query := request.GET.get("q", "").strip():
        rows = rows.filter(reference__icontains=query) | rows.filter(payer__icontains=query)
    return rows.order_by("received_on", "id")


@role_required(READERS)
def suspense_list(request):
    rows = _filtered_suspense(request)
    if fmt := requested_format(request):
        return export_response(rows, SUSPENSE_COLUMNS, "suspense", fmt)
    return render(request, "debt/payments/suspense_list.html", {
        "page_obj": _page(request, rows), "statuses": SuspenseStatus.choices,
        "selected": {"status": request.GET.get("status", SuspenseStatus.UNMATCHED), "q": request.GET.get("q", "")},
        "can_match": has_any_role(request.user, PAYMENT_RECORDERS)})


def _suspense_summary(row: SuspensePayment) -> list:
    return [("Amount", format_pounds(row.amount)), ("Method", row.get_method_display()),
            ("Received", f"{row.received_on:%-d %B %Y}"), ("Reference", row.reference),
            ("Payer", row.payer or "Not given")]


@role_required(PAYMENT_RECORDERS)
def suspense_match(request, pk: int):
    row = get_object_or_404(SuspensePayment, pk=pk)
    form = SuspenseMatchForm(request.POST or None)
    payment = handle(request, form, lambda d: services.suspense_match(
        suspense=row, client=d["client_reference"], actor=request.user, note=d["note"]))
    if payment:
        messages.success(request, f"Payment of {format_pounds(payment.amount)} recorded for {payment.client.full_name}")
        return redirect("debt:payment_detail", pk=payment.pk)
    return _form_page(request, form, "Match a payment to a client", reverse("debt:suspense_list"),
                      _suspense_summary(row))


@role_required(PAYMENT_RECORDERS)
def suspense_return(request, pk: int):
    row = get_object_or_404(SuspensePayment, pk=pk)
    form = SuspenseReturnForm(request.POST or None)
    if handle(request, form, lambda d: services.suspense_return(suspense=row, actor=request.user, note=d["note"])):
        messages.success(request, f"Payment {row.reference} marked as returned to the payer")
        return redirect("debt:suspense_list")
    return _form_page(request, form, "Return a payment to the payer", reverse("debt:suspense_list"),
                      _suspense_summary(row))


@role_required(REFUNDERS)
def refund_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = RefundForm(request.POST or None)
    entry = handle(request, form, lambda d: services.refund_issue(client=client, actor=request.user, **d))
    if isinstance(entry, ControlRequest):
        messages.success(request, f"Refund of {format_pounds(entry.amount)} sent for approval as {entry.reference}: "
                                  "nothing is paid until a team leader approves it")
        return redirect("casework:control_request_detail", pk=entry.pk)
    if entry:
        messages.success(request, f"Refund of {format_pounds(entry.amount)} posted")
        return redirect("casework:client_statement", pk=client.pk)
    log_record_views(request, client)
    return _form_page(request, form, f"Refund {client.full_name}", reverse("casework:client_detail", args=[client.pk]),
                      [("Client", f"{client.full_name} ({client.reference})"),
                       ("In credit", format_pounds(max(-client_balance(client), 0))),
                       *([("Waiting for approval", format_pounds(waiting))]
                         if (waiting := services.refunds_waiting(client)) else []),
                       ("Who decides", _refund_decider(request.user))])


def _refund_decider(user) -> str:
    limits = limits_for(user, ControlAction.REFUND)
    if limits.alone is None:
        return "A team leader: your refund is sent for approval, and nothing is paid until it is approved"
    period = f" for one client in {limits.period_days} days" if limits.period_days else ""
    return (f"You may refund up to {format_pounds(limits.alone)}{period} yourself; a larger refund is sent to a "
            "team leader for approval")
