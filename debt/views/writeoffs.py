"""Pages for write-offs, limitation flags and the aged debt report. Thin: parse, call one service."""
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, export_response, personal_export_response, requested_format
from casework.forms import GovForm, MoneyField
from casework.models import Client
from casework.money import format_pounds
from casework.roles import CASEWORKERS, READERS, Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import limitation, reports
from ..models import Invoice, WriteOffReason, WriteOffRequest, WriteOffStatus
from ..services import writeoffs as services

#: Who may ask for a write-off.
WRITEOFF_REQUESTERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})
#: Who may open the approve and reject pages; whether they may decide depends on WriteOffLevel data.
WRITEOFF_DECIDERS = CASEWORKERS
PAGE_SIZE = 50

WRITEOFF_COLUMNS = [
    Column("Reference", lambda w: w.reference),
    Column("Client reference", lambda w: w.client.reference),
    Column("Client", lambda w: w.client.full_name),
    Column("Amount", lambda w: w.amount, kind=MONEY),
    Column("Reason", lambda w: w.get_reason_display()),
    Column("Status", lambda w: w.get_status_display()),
    Column("Requested by", lambda w: w.requested_by.username),
    Column("Requested", lambda w: w.requested_at),
    Column("Decided by", lambda w: w.decided_by.username if w.decided_by else ""),
    Column("Decided", lambda w: w.decided_at),
]
LIMITATION_COLUMNS = [
    Column("Flag", lambda i: "Statute barred" if i.barred else "Approaching limitation"),
    Column("Invoice", lambda i: i.number),
    Column("Client reference", lambda i: i.client.reference),
    Column("Client", lambda i: i.client.full_name),
    Column("Due", lambda i: i.due_date),
    Column("Last day to claim", lambda i: i.last_day),
    Column("Outstanding", lambda i: i.outstanding, kind=MONEY),
]


class WriteOffForm(GovForm):
    submit_label = "Ask for approval"
    reason = forms.ChoiceField(label="Why should this be written off?", choices=WriteOffReason.choices,
                               widget=forms.RadioSelect)
    note = forms.CharField(label="Explain the circumstances", max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = list(invoices)
        for invoice in self.invoices:
            self.fields[f"invoice_{invoice.pk}"] = MoneyField(
                label=f"Write off from {invoice.number} (due {invoice.due_date:%-d %B %Y}, "
                      f"{format_pounds(invoice.outstanding)} outstanding)", required=False)

    def lines(self) -> list:
        return [(i, self.cleaned_data[f"invoice_{i.pk}"]) for i in self.invoices
                if self.cleaned_data.get(f"invoice_{i.pk}") is not None]


class DecisionForm(GovForm):
    note = forms.CharField(label="Note", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, submit_label: str, note_required: bool, **kwargs):
        self.submit_label = submit_label
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
        if note_required:
            self.fields["note"].label = "Why is it rejected?"


def _date_param(request, name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.GET.get(name, "").strip())
    except ValueError:
        return default


def _summary(w: WriteOffRequest) -> list:
    return [("Client", f"{w.client.full_name} ({w.client.reference})"), ("Amount", format_pounds(w.amount)),
            ("Reason", w.get_reason_display()), ("Requested by", w.requested_by.get_full_name() or w.requested_by.username)]


@role_required(WRITEOFF_REQUESTERS)
def writeoff_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    invoices = reports.with_outstanding(Invoice.objects.filter(client=client, total__gt=0)).filter(
        outstanding__gt=0).order_by("due_date", "number")
    form = WriteOffForm(request.POST or None, invoices=invoices)
    created = handle(request, form, lambda d: services.writeoff_request(
        client=client, lines=form.lines(), reason=d["reason"], note=d["note"], actor=request.user))
    if created:
        messages.success(request, f"Write-off {created.reference} of {format_pounds(created.amount)} sent for approval")
        return redirect("debt:writeoff_detail", pk=created.pk)
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Ask to write off debt for {client.full_name}",
        "back_url": reverse("casework:client_detail", args=[client.pk]),
        "summary": [("Client", f"{client.full_name} ({client.reference})")]})


@role_required(READERS)
def writeoff_list(request):
    requests = WriteOffRequest.objects.select_related("client", "requested_by", "decided_by")
    status = request.GET.get("status", "")
    if status in WriteOffStatus.values:
        requests = requests.filter(status=status)
    if fmt := requested_format(request):
        return personal_export_response(request, requests, WRITEOFF_COLUMNS, "write-offs", fmt)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)
    return render(request, "debt/writeoffs/writeoff_list.html", {
        "page_obj": page,
        "statuses": WriteOffStatus.choices, "selected": status})


@role_required(READERS)
def writeoff_detail(request, pk: int):
    writeoff = get_object_or_404(WriteOffRequest.objects.select_related("client", "requested_by", "decided_by",
                                                                        "ledger_entry"), pk=pk)
    log_record_views(request, writeoff)
    return render(request, "debt/writeoffs/writeoff_detail.html", {
        "writeoff": writeoff, "position": services.writeoff_position(writeoff, request.user),
        "cannot_decide": services.why_cannot_decide(writeoff, request.user)})


def _decide(request, pk: int, approve: bool):
    writeoff = get_object_or_404(WriteOffRequest.objects.select_related("client", "requested_by"), pk=pk)
    if reason := services.why_cannot_decide(writeoff, request.user):
        messages.error(request, reason)
        return redirect("debt:writeoff_detail", pk=pk)
    verb = "Approve and write off" if approve else "Reject"
    form = DecisionForm(request.POST or None, submit_label=verb, note_required=not approve)
    service = services.writeoff_approve if approve else services.writeoff_reject
    done = handle(request, form, lambda d: service(request=writeoff, actor=request.user, note=d["note"]))
    if done:
        messages.success(request, f"Write-off {done.reference} {done.get_status_display().lower()}")
        return redirect("debt:writeoff_detail", pk=pk)
    log_record_views(request, writeoff)
    return render(request, "debt/writeoffs/decide.html", {
        "form": form, "title": f"{verb} {writeoff.reference}", "summary": _summary(writeoff),
        "position": services.writeoff_position(writeoff, request.user),
        "back_url": reverse("debt:writeoff_detail", args=[pk])})


@role_required(WRITEOFF_DECIDERS)
def writeoff_approve(request, pk: int):
    return _decide(request, pk, approve=True)


@role_required(WRITEOFF_DECIDERS)
def writeoff_reject(request, pk: int):
    return _decide(request, pk, approve=False)


@role_required(READERS)
def limitation_list(request):
    on = _date_param(request, "on", timezone.localdate())
    rule = limitation.rule_on(on)
    approaching = list(limitation.approaching_limitation(on))
    barred = list(limitation.statute_barred_invoices(on))
    for invoice in approaching + barred:
        invoice.barred = invoice in barred
        invoice.last_day = limitation.last_day_to_claim(invoice.due_date, rule)
    if fmt := requested_format(request):
        return personal_export_response(request, barred + approaching, LIMITATION_COLUMNS, "limitation", fmt)
    log_record_views(request, approaching, barred)
    return render(request, "debt/writeoffs/limitation_list.html", {
        "on": on, "rule": rule, "approaching": approaching, "barred": barred,
        "can_request": has_any_role(request.user, WRITEOFF_REQUESTERS)})


AGED_COLUMNS = [Column("Grouped by", lambda r: r[0]), Column("Group", lambda r: r[1].group),
                *[Column(label, lambda r, label=label: r[1].bands[label], kind=MONEY) for label, _, _ in reports.BANDS],
                Column("Total", lambda r: r[1].total, kind=MONEY)]


@role_required(READERS)
def aged_debt(request):
    today = timezone.localdate()
    end = _date_param(request, "to", today)
    start = _date_param(request, "from", end.replace(day=1))
    report = reports.aged_report(end, opening_on=start - timedelta(days=1))
    if fmt := requested_format(request):
        rows = ([("Team", r) for r in report.by_team] + [("Recovery stage", r) for r in report.by_stage]
                + [("Service", r) for r in report.by_service])
        return export_response(rows, AGED_COLUMNS, "aged-debt", fmt)
    band_totals = report.band_totals
    largest = max(band_totals, default=0) or 1
    chart = [{"label": label, "amount": amount, "width": float(amount / largest) * 400, "y": i * 32}
             for i, ((label, _, _), amount) in enumerate(zip(reports.BANDS, band_totals))]
    return render(request, "debt/writeoffs/aged_debt.html", {
        "start": start, "end": end, "bands": [b[0] for b in reports.BANDS], "by_team": report.by_team,
        "by_stage": report.by_stage, "by_service": report.by_service, "chart": chart,
        "chart_height": len(chart) * 32, "total": report.total,
        "collection": reports.collection(start, end, opening=report.opening)})
