"""Billing pages: assessed charges, invoices and credit notes, and the billing preview."""
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.models import Client, ControlAction, ControlRequest
from casework.money import format_pounds
from casework.roles import READERS, Role, has_any_role
from casework.services import DomainError
from casework.services.controls import limits_for
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import selectors
from ..forms import ChargeForm, ChargeImportForm, CreditNoteForm, InvoiceFilterForm, SuppressForm
from ..models import AssessedCharge, Invoice
from ..services import billing as services

BILLING_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Who may ask for a credit note. It is a team leader's decision: an officer's (or one above the
#: team leader's CREDIT_NOTE limit) goes to someone else for approval.
CREDITORS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
PAGE_SIZE = 25
INVOICE_COLUMNS = [
    Column("Number", lambda i: i.number), Column("Client reference", lambda i: i.client.reference),
    Column("Client", lambda i: i.client.full_name), Column("Period start", lambda i: i.period_start),
    Column("Period end", lambda i: i.period_end), Column("Issued", lambda i: i.issue_date),
    Column("Due", lambda i: i.due_date), Column("Total", lambda i: i.total, kind=MONEY),
    Column("Corrects", lambda i: i.corrects.number if i.corrects_id else ""), Column("Reason", lambda i: i.reason),
]
PREVIEW_COLUMNS = [
    Column("Client reference", lambda r: r[0].reference), Column("Client", lambda r: r[0].full_name),
    Column("Kind", lambda r: r[1].kind), Column("Service", lambda r: r[1].service_name),
    Column("From", lambda r: r[1].date_from), Column("To", lambda r: r[1].date_to), Column("Days", lambda r: r[1].days),
    Column("Weekly rate", lambda r: r[1].weekly_rate, kind=MONEY), Column("Cap", lambda r: r[1].cap, kind=MONEY),
    Column("Amount", lambda r: r[1].amount, kind=MONEY), Column("Explanation", lambda r: r[1].explanation),
    Column("Not invoiced because", lambda r: r[2]),
]


def _client(pk: int) -> Client:
    return get_object_or_404(Client, pk=pk)


# Assessed charges ------------------------------------------------------------------------------

@role_required(READERS)
def charge_list(request, client_pk: int):
    client = _client(client_pk)
    charges = AssessedCharge.objects.filter(client=client).select_related("service", "created_by")
    log_record_views(request, client)
    return render(request, "debt/billing/charge_list.html", {
        "client": client, "charges": charges, "can_write": has_any_role(request.user, BILLING_WRITERS)})


@role_required(BILLING_WRITERS)
def charge_create(request, client_pk: int):
    client = _client(client_pk)
    form = ChargeForm(request.POST or None)
    charge = handle(request, form, lambda d: services.charge_create(client=client, actor=request.user, **d))
    if charge:
        messages.success(request, f"Assessed charge version {charge.version} for {charge.service.name} saved")
        return redirect("debt:charge_list", client_pk=client.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": "Add an assessed charge", "caption": f"{client.full_name} · {client.reference}",
        "back_url": reverse("debt:charge_list", args=[client.pk])})


@role_required(BILLING_WRITERS)
def charge_import(request):
    form = ChargeImportForm(request.POST or None, request.FILES or None)
    count = handle(request, form, lambda d: services.charge_import(file=d["file"], actor=request.user))
    if count:
        messages.success(request, f"{count} assessed charge{'s' if count != 1 else ''} imported")
        return redirect("debt:charge_import")
    problems = [e for e in form.errors.get("file", [])]
    return render(request, "debt/billing/charge_import.html", {
        "form": form, "problems": [p for text in problems for p in text.split("; ")]})


# Invoices --------------------------------------------------------------------------------------

def _filtered_invoices(filters: InvoiceFilterForm):
    invoices = Invoice.objects.select_related("client", "corrects")
    if not filters.is_valid():
        return invoices
    data = filters.cleaned_data
    if data.get("number"):
        invoices = invoices.filter(number__icontains=data["number"].strip())
    if data.get("client"):
        text = data["client"].strip()
        invoices = invoices.filter(Q(client__reference__iexact=text) | Q(client__last_name__icontains=text))
    if data.get("period_start"):
        invoices = invoices.filter(period_start=data["period_start"])
    return invoices


@role_required(READERS)
def invoice_list(request):
    filters = InvoiceFilterForm(request.GET or None)
    invoices = _filtered_invoices(filters)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, invoices.iterator(), INVOICE_COLUMNS, "invoices", fmt)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)
    return render(request, "debt/billing/invoice_list.html", {"filters": filters, "page_obj": page})


def _credit_position(invoice: Invoice) -> dict:
    """What the invoice's credit notes took off it and what remains, with its payments and
    write-offs: the figures the invoice page and the credit note page show."""
    credited = selectors.invoice_credited(invoice)
    paid, written_off = selectors.invoice_paid(invoice), selectors.invoice_written_off(invoice)
    uncredited = invoice.total - credited
    return {"credited": credited, "uncredited": uncredited, "paid": paid, "written_off": written_off,
            "outstanding": uncredited - paid - written_off}


@role_required(READERS)
def invoice_detail(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("client", "account", "corrects", "letter"), pk=pk)
    lines = list(invoice.lines.select_related("service", "assessed_charge"))
    position = _credit_position(invoice) if not invoice.is_credit_note else {}
    if position:
        remaining = services.credit_remaining_by_line(invoice)
        for line in lines:
            line.not_credited = remaining.get(line.pk, line.amount)
            line.credited = line.amount - line.not_credited
    log_record_views(request, invoice)
    return render(request, "debt/billing/invoice_detail.html", {
        "invoice": invoice, "lines": lines, "position": position,
        "credit_notes": invoice.credit_notes.order_by("issue_date", "number"),
        "can_credit": (has_any_role(request.user, CREDITORS) and not invoice.is_credit_note
                       and invoice.total > 0 and position.get("uncredited", 0) > 0),
        "credit_waiting": services.credit_note_waiting(invoice) if position else None,
    })


@role_required(CREDITORS)
def credit_note_create(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("client"), pk=pk)
    back = reverse("debt:invoice_detail", args=[invoice.pk])
    if invoice.is_credit_note or invoice.total <= 0:
        messages.error(request, f"{invoice.number} is a credit note: it cannot be credited")
        return redirect(back)
    position = _credit_position(invoice)
    if position["uncredited"] <= 0:
        messages.error(request, f"Invoice {invoice.number} has already been credited in full")
        return redirect(back)
    lines = list(invoice.lines.order_by("id"))
    form = CreditNoteForm(request.POST or None, lines=lines, remaining=services.credit_remaining_by_line(invoice),
                          uncredited=position["uncredited"])
    limits = limits_for(request.user, ControlAction.CREDIT_NOTE)
    if limits.alone is None:
        form.submit_label = "Send for approval"
    credit = handle(request, form, lambda d: services.credit_note_request(
        invoice=invoice, reason=d["reason"], actor=request.user, lines=form.credit_lines()))
    if isinstance(credit, ControlRequest):
        messages.success(request, f"Credit note of {format_pounds(credit.amount)} for invoice {invoice.number} sent "
                                  f"for approval as {credit.reference}: nothing is credited until someone else "
                                  "approves it")
        return redirect("casework:control_request_detail", pk=credit.pk)
    if credit:
        text = f"Credit note {credit.number} of {format_pounds(-credit.total)} raised for invoice {invoice.number}"
        if credit.freed > 0:
            text += (f". {format_pounds(credit.freed)} of payments no longer needed by the invoice is now unallocated "
                     "credit: move it to another invoice from the payment's page, or refund it")
        messages.success(request, text)
        return redirect("debt:invoice_detail", pk=credit.pk)
    log_record_views(request, invoice)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Raise a credit note for invoice {invoice.number}", "back_url": back,
        "caption": f"{invoice.client.full_name} · {invoice.client.reference}",
        "summary": [("Invoice total", format_pounds(invoice.total)),
                    ("Already credited", format_pounds(position["credited"])),
                    ("Not yet credited", format_pounds(position["uncredited"])),
                    ("Paid", format_pounds(position["paid"])),
                    ("Written off", format_pounds(position["written_off"])),
                    ("Who decides", _credit_decider(limits))]})


def _credit_decider(limits) -> str:
    if limits.alone is None:
        return "A team leader: your credit note is sent for approval, and nothing is credited until it is approved"
    period = f" for one client in {limits.period_days} days" if limits.period_days else ""
    return (f"You may raise credit notes of up to {format_pounds(limits.alone)}{period} yourself; a larger one is "
            "sent to someone else for approval")


# Billing preview -------------------------------------------------------------------------------

def _preview_date(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return timezone.localdate()


def preview_rows(period, clients: list[Client]) -> list[dict]:
    """What the run would raise for these clients, computed in memory: nothing is written."""
    ids = [c.pk for c in clients]
    data = services.load_billing_data(ids)
    suppressed = services.suppressions_for(period, ids)
    rows = []
    for client in clients:
        draft = services.draft_for(client, period, data[client.pk])
        rows.append({"client": client, "draft": draft, "suppression": suppressed.get(client.pk)})
    return rows


def _export_rows(rows: list[dict]):
    for row in rows:
        reason = row["suppression"].reason if row["suppression"] else ("Nothing to bill" if row["draft"].total == 0 else "")
        for line in row["draft"].lines:
            yield row["client"], line, reason


@role_required(READERS)
def billing_preview(request):
    on = _preview_date(request)
    try:
        period = services.due_period(on)
    except DomainError as exc:
        return render(request, "debt/billing/preview.html", {"error": exc.message, "on": on})
    clients = services.clients_to_bill(period)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, _export_rows(preview_rows(period, list(clients))), PREVIEW_COLUMNS,
                                        f"billing-preview-{period.start:%Y-%m-%d}", fmt, client_of=lambda row: row[0])
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)
    return render(request, "debt/billing/preview.html", {
        "on": on, "period": period, "page_obj": page, "rows": preview_rows(period, list(page.object_list)),
        "can_write": has_any_role(request.user, BILLING_WRITERS)})


def _period_start(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Http404("Not a date") from None


@role_required(BILLING_WRITERS)
def billing_suppress(request, client_pk: int, period_start: str):
    client, start = _client(client_pk), _period_start(period_start)
    form = SuppressForm(request.POST or None)
    if handle(request, form, lambda d: services.billing_suppress(client=client, period_start=start,
                                                                 reason=d["reason"], actor=request.user)):
        messages.success(request, f"{client.full_name} will not be invoiced for this period")
        return redirect("debt:billing_preview")
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Do not invoice {client.full_name}",
        "caption": f"Period from {start:%d %B %Y}", "back_url": reverse("debt:billing_preview")})


@role_required(BILLING_WRITERS)
@require_POST
def billing_unsuppress(request, client_pk: int, period_start: str):
    client, start = _client(client_pk), _period_start(period_start)
    services.billing_unsuppress(client=client, period_start=start, actor=request.user)
    messages.success(request, f"{client.full_name} will be invoiced again for this period")
    return redirect("debt:billing_preview")


# Client panel ----------------------------------------------------------------------------------

def client_invoices_panel(client: Client, request) -> dict:
    """The client's latest invoices and current assessed charges, on the client page."""
    invoices = list(Invoice.objects.filter(client=client)[:5])
    charges = list(AssessedCharge.objects.filter(client=client).select_related("service")[:10])
    return {"title": "Invoices and assessed charges", "template": "debt/includes/client_invoices.html",
            "context": {"client": client, "invoices": invoices, "charges": charges,
                        "can_record_payment": has_any_role(request.user, {Role.INCOME_OFFICER, Role.TEAM_LEADER}),
                        "can_refund": has_any_role(request.user, {Role.INCOME_OFFICER, Role.TEAM_LEADER})}}
