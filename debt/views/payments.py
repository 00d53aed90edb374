"""Pages for payments, payment files, the suspense queue and refunds. Thin: parse, call one service."""
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import Column, export_response, requested_format
from casework.models import Client
from casework.money import format_pounds
from casework.roles import READERS, Role, has_any_role
from casework.selectors import client_balance
from casework.views.access import role_required
from casework.views.forms import handle

from .. import selectors
from ..constants import PaymentMethod, SuspenseStatus
from ..models import Payment, SuspensePayment
from ..payment_forms import (
    PaymentForm,
    PaymentImportForm,
    ReasonForm,
    RefundForm,
    SuspenseMatchForm,
    SuspenseReturnForm,
    default_received_on,
)
from ..payment_import import ImportRejected
from ..services import payments as services

#: Who may record payments, import payment files and work the suspense queue.
PAYMENT_RECORDERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Who may reverse a payment or refund a credit.
PAYMENT_REVERSERS = frozenset({Role.TEAM_LEADER})
PAGE_SIZE = 50

PAYMENT_COLUMNS = [
    Column("Received", lambda p: p.received_on),
    Column("Client reference", lambda p: p.client.reference),
    Column("Client", lambda p: p.client.full_name),
    Column("Amount", lambda p: p.amount),
    Column("Method", lambda p: p.get_method_display()),
    Column("Reference", lambda p: p.reference),
    Column("Allocated", lambda p: p.allocated),
    Column("Import", lambda p: p.import_batch_id),
]
SUSPENSE_COLUMNS = [
    Column("Received", lambda s: s.received_on),
    Column("Amount", lambda s: s.amount),
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
        return export_response(payments, PAYMENT_COLUMNS, "payments", fmt)
    return render(request, "debt/payments/payment_list.html", {
        "page_obj": _page(request, payments), "methods": PaymentMethod.choices,
        "selected": {k: request.GET.get(k, "") for k in ("from", "to", "method", "client")},
        "can_record": has_any_role(request.user, PAYMENT_RECORDERS)})


@role_required(READERS)
def payment_detail(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("client", "ledger_entry", "import_batch"), pk=pk)
    return render(request, "debt/payments/payment_detail.html", {
        "payment": payment, "allocations": payment.allocations.select_related("invoice", "created_by"),
        "unallocated": selectors.payment_unallocated(payment), "reversed": selectors.payment_is_reversed(payment),
        "can_reverse": has_any_role(request.user, PAYMENT_REVERSERS)})


@role_required(PAYMENT_REVERSERS)
def payment_reverse(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("client", "ledger_entry"), pk=pk)
    form = ReasonForm(request.POST or None)
    reversed_ = handle(request, form, lambda d: services.payment_reverse(payment=payment, reason=d["reason"],
                                                                         actor=request.user))
    if reversed_:
        messages.success(request, f"Payment {payment.reference} reversed")
        return redirect("debt:payment_detail", pk=payment.pk)
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


@role_required(PAYMENT_REVERSERS)
def refund_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = RefundForm(request.POST or None)
    entry = handle(request, form, lambda d: services.refund_issue(client=client, actor=request.user, **d))
    if entry:
        messages.success(request, f"Refund of {format_pounds(entry.amount)} posted")
        return redirect("casework:client_statement", pk=client.pk)
    return _form_page(request, form, f"Refund {client.full_name}", reverse("casework:client_detail", args=[client.pk]),
                      [("Client", f"{client.full_name} ({client.reference})"),
                       ("In credit", format_pounds(max(-client_balance(client), 0)))])
