"""Providers, their bank details and rate cards."""
import json

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import MONEY, Column
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..constants import BankChangeStatus, DisputeStatus, OverpaymentStatus, PaymentRunStatus, ProviderEntryKind, UrgentStatus
from ..forms import BankChangeForm, DecisionForm, ProviderForm, RateForm
from ..models import BankDetailsChange, CarePackage, Dispute, Overpayment, PaymentRun, Provider, Rate, UrgentPayment
from ..selectors import claims_to_approve
from ..services import providers as services
from ..services.common import provider_balance
from ..services.rates import pending_rate_changes, rate_change_request
from .common import VIEWERS, WORKERS, cell, form_page, list_page, money, table

PROVIDER_COLUMNS = [
    Column("Name", lambda p: p.name), Column("Supplier number", lambda p: p.supplier_number),
    Column("CQC location", lambda p: p.cqc_location_id), Column("Status", lambda p: p.get_status_display()),
    Column("Schedule", lambda p: p.payment_schedule), Column("Account", lambda p: p.masked_account),
]
RATE_COLUMNS = [
    Column("Provider", lambda r: r.provider.name), Column("Service", lambda r: r.service_type.name),
    Column("Band", lambda r: r.band.name), Column("Rate", lambda r: r.rate, kind=MONEY),
    Column("Effective from", lambda r: r.effective_from), Column("Uplift", lambda r: r.uplift or ""),
    Column("Withdrawn", lambda r: r.withdrawn_at),
]


@role_required(VIEWERS)
def home(request):
    counts = [
        ("Claims waiting for approval", claims_to_approve().count(), reverse("provider_payments:claim_list") + "?status=validated"),
        ("Payment runs waiting for release", PaymentRun.objects.filter(status=PaymentRunStatus.PREPARED).count(),
         reverse("provider_payments:run_list")),
        ("Open disputes", Dispute.objects.filter(status__in=[DisputeStatus.OPEN, DisputeStatus.UNDER_REVIEW]).count(),
         reverse("provider_payments:dispute_list")),
        ("Overpayments to approve", Overpayment.objects.filter(status=OverpaymentStatus.IDENTIFIED).count(),
         reverse("provider_payments:overpayment_list")),
        ("Bank detail changes to approve", BankDetailsChange.objects.filter(status=BankChangeStatus.PENDING).count(),
         reverse("provider_payments:provider_list")),
        ("Urgent payments to approve", UrgentPayment.objects.filter(status=UrgentStatus.REQUESTED).count(),
         reverse("provider_payments:urgent_list")),
    ]
    links = [("Providers", reverse("provider_payments:provider_list")), ("Rates", reverse("provider_payments:rate_list")),
             ("Care packages", reverse("provider_payments:package_list")),
             ("Claims", reverse("provider_payments:claim_list")), ("Payment runs", reverse("provider_payments:run_list")),
             ("Disputes", reverse("provider_payments:dispute_list")),
             ("Overpayments", reverse("provider_payments:overpayment_list")),
             ("Uplifts", reverse("provider_payments:uplift_list")),
             ("Urgent payments", reverse("provider_payments:urgent_list")),
             ("Committed spend forecast", reverse("provider_payments:forecast"))]
    actions = [("Import a claim", reverse("provider_payments:claim_import"))] if has_any_role(request.user, WORKERS) else []
    work = {"caption": "Work waiting", "headers": [("Queue", False), ("Items", True)],
            "rows": [[cell(label, url), cell(n, numeric=True)] for label, n, url in counts]}
    return render(request, "provider_payments/page.html", {"title": "Provider payments", "actions": actions,
                                                           "links": links, "tables": [work]})


@role_required(VIEWERS)
def provider_list(request):
    providers = Provider.objects.select_related("payment_schedule").order_by("name")
    if term := request.GET.get("q", "").strip():
        providers = providers.filter(Q(name__icontains=term) | Q(supplier_number__iexact=term))
    actions = [("Add a provider", reverse("provider_payments:provider_create"))] if has_any_role(request.user, WORKERS) else []
    return list_page(request, title="Providers", queryset=providers, columns=PROVIDER_COLUMNS, filename="providers",
                     actions=actions, cells=lambda p: [
                         cell(p.name, reverse("provider_payments:provider_detail", args=[p.pk])), cell(p.supplier_number),
                         cell(p.cqc_location_id), cell(p.get_status_display()), cell(p.payment_schedule),
                         cell(p.masked_account)])


@role_required(WORKERS)
def provider_create(request):
    form = ProviderForm(request.POST or None)
    provider = handle(request, form, lambda d: services.provider_create(actor=request.user, **d))
    if provider:
        messages.success(request, f"{provider.name} added. Ask for its bank details to be approved before paying it.")
        return redirect("provider_payments:provider_detail", pk=provider.pk)
    return form_page(request, form, "Add a provider", reverse("provider_payments:provider_list"))


@role_required(WORKERS)
def provider_edit(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    initial = {f: getattr(provider, f) for f in services.PROVIDER_FIELDS}
    initial["ecm_mapping"] = json.dumps(provider.ecm_mapping) if provider.ecm_mapping else ""
    form = ProviderForm(request.POST or None, initial=initial)
    done = handle(request, form, lambda d: services.provider_update(provider=provider, actor=request.user, **d))
    if done:
        messages.success(request, "Provider details saved")
        return redirect("provider_payments:provider_detail", pk=provider.pk)
    return form_page(request, form, f"Change {provider.name}", reverse("provider_payments:provider_detail", args=[pk]))


@role_required(VIEWERS)
def provider_detail(request, pk: int):
    provider = get_object_or_404(Provider.objects.select_related("payment_schedule"), pk=pk)
    rates = provider.rates.select_related("service_type", "band", "uplift").order_by(
        "service_type__name", "band__name", "-effective_from")
    packages = list(provider.packages.select_related("client", "service_type").order_by("-start_date")[:50])
    claims = provider.claims.order_by("-period_start")[:20]
    ledger = list(provider.ledger.order_by("-effective_date", "-id")[:50])
    # The packages' clients, and those the ledger's scheduled payments name (by package reference, PKG-000123).
    scheduled = [int(e.reference[4:]) for e in ledger
                 if e.kind == ProviderEntryKind.SCHEDULED and e.reference[:4] == "PKG-" and e.reference[4:].isdigit()]
    log_record_views(request, packages, CarePackage.objects.filter(provider=provider, pk__in=scheduled)
                     .values_list("client_id", flat=True))
    changes = provider.bank_changes.select_related("requested_by").order_by("-requested_at")[:10]
    events = provider.events.select_related("actor")[:30]
    worker = has_any_role(request.user, WORKERS)
    actions = [("Import a claim", reverse("provider_payments:claim_import") + f"?provider={pk}"),
               ("Add a rate", reverse("provider_payments:rate_add", args=[pk])),
               ("Change bank details", reverse("provider_payments:bank_change_request", args=[pk])),
               ("Change details", reverse("provider_payments:provider_edit", args=[pk])),
               ("Request an urgent payment", reverse("provider_payments:urgent_create", args=[pk]))] if worker else []
    tables = [
        {"caption": "Bank detail changes", "headers": [("Requested", False), ("By", False), ("Account", False),
                                                       ("Status", False)],
         "rows": [[cell(f"{c.requested_at:%d %b %Y}"), cell(c.requested_by.get_full_name() or c.requested_by.username),
                   cell(f"{c.sort_code[:2]}-**-** ****{c.account_number[-4:]}"),
                   cell(c.get_status_display(), reverse("provider_payments:bank_change_decide", args=[c.pk])
                        if c.status == BankChangeStatus.PENDING and worker else None)] for c in changes]},
        table("Rate card", RATE_COLUMNS[1:], rates, lambda r: [
            cell(r.service_type.name), cell(r.band.name), money(r.rate), cell(f"{r.effective_from:%d %b %Y}"),
            cell(r.uplift or ""), cell(f"{r.withdrawn_at:%d %b %Y}" if r.withdrawn_at else "")], numeric=("Rate",)),
        {"caption": "Rates waiting for approval", "empty": "None.",
         "headers": [("Request", False), ("Rate", False), ("Asked by", False), ("Reason", False)],
         "rows": [[cell(r.reference, reverse("casework:control_request_detail", args=[r.pk])), cell(r.summary),
                   cell(r.requested_by.get_full_name() or r.requested_by.username), cell(r.reason)]
                  for r in pending_rate_changes(provider).select_related("requested_by")]},
        {"caption": "Care packages", "headers": [("Package", False), ("Client", False), ("Service", False),
                                                 ("Units a week", True), ("Status", False)],
         "rows": [[cell(p.reference, reverse("provider_payments:package_detail", args=[p.pk])),
                   cell(p.client.reference), cell(p.service_type.name), cell(p.units_per_week, numeric=True),
                   cell(p.get_status_display())] for p in packages]},
        {"caption": "Claims", "headers": [("Reference", False), ("Period", False), ("Status", False)],
         "rows": [[cell(c.reference, reverse("provider_payments:claim_detail", args=[c.pk])),
                   cell(f"{c.period_start:%d %b %Y} to {c.period_end:%d %b %Y}"), cell(c.get_status_display())]
                  for c in claims]},
        {"caption": "Ledger", "headers": [("Date", False), ("Entry", False), ("Reference", False),
                                          ("Description", False), ("Amount", True)],
         "rows": [[cell(f"{e.effective_date:%d %b %Y}"), cell(e.get_kind_display()), cell(e.reference),
                   cell(e.description), money(e.amount)] for e in ledger]},
        {"caption": "Audit trail", "headers": [("When", False), ("Who", False), ("What", False)],
         "rows": [[cell(f"{e.at:%d %b %Y %H:%M}"), cell(e.actor.get_full_name() or e.actor.username if e.actor else "System"),
                   cell(e.summary)] for e in events]},
    ]
    balance = provider_balance(provider)
    summary = [("Supplier number", provider.supplier_number), ("CQC location ID", provider.cqc_location_id or "None"),
               ("Status", provider.get_status_display()), ("Payment schedule", provider.payment_schedule or "None"),
               ("Payment terms", f"{provider.payment_terms_days} days"), ("Bank account", provider.masked_account),
               ("Remittance email", provider.remittance_email or "None"),
               ("Ledger balance", f"{format_pounds(abs(balance))} " + (
                   "owed by the provider" if balance > 0 else "owed to the provider" if balance < 0 else ""))]
    return render(request, "provider_payments/page.html", {
        "title": provider.name, "caption": "Provider", "summary": summary, "actions": actions, "tables": tables,
        "back_url": reverse("provider_payments:provider_list")})


@role_required(WORKERS)
def bank_change_request(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    form = BankChangeForm(request.POST or None)
    change = handle(request, form, lambda d: services.bank_change_request(provider=provider, actor=request.user, **d))
    if change:
        messages.success(request, "Change of bank details recorded. Someone else must approve it before it is used.")
        return redirect("provider_payments:provider_detail", pk=pk)
    return form_page(request, form, f"Change bank details for {provider.name}",
                     reverse("provider_payments:provider_detail", args=[pk]),
                     [("Current account", provider.masked_account)])


@role_required(WORKERS)
def bank_change_decide(request, pk: int):
    change = get_object_or_404(BankDetailsChange.objects.select_related("provider", "requested_by"), pk=pk)
    form = DecisionForm(request.POST or None)
    done = handle(request, form, lambda d: services.bank_change_decide(
        change=change, approve=d["decision"] == "approve", note=d["note"], actor=request.user))
    if done:
        messages.success(request, f"Change of bank details {done.get_status_display().lower()}")
        return redirect("provider_payments:provider_detail", pk=change.provider_id)
    return form_page(request, form, f"Approve new bank details for {change.provider.name}",
                     reverse("provider_payments:provider_detail", args=[change.provider_id]),
                     [("Current account", change.provider.masked_account),
                      ("New sort code", change.sort_code), ("New account number", change.account_number),
                      ("New account name", change.account_name), ("Verified by", change.evidence),
                      ("Requested by", change.requested_by.get_full_name() or change.requested_by.username),
                      ("Status", change.get_status_display())])


@role_required(VIEWERS)
def rate_list(request):
    rates = Rate.objects.select_related("provider", "service_type", "band", "uplift").order_by(
        "provider__name", "service_type__name", "band__name", "-effective_from")
    if provider := request.GET.get("provider", "").strip():
        rates = rates.filter(provider_id=provider) if provider.isdigit() else rates.none()
    return list_page(request, title="Rates", queryset=rates, columns=RATE_COLUMNS, filename="provider-rates",
                     numeric=("Rate",), intro="Every rate on every card, old ones kept: a new rate never overwrites one.",
                     links=[("Uplifts", reverse("provider_payments:uplift_list"))],
                     cells=lambda r: [cell(r.provider.name, reverse("provider_payments:provider_detail", args=[r.provider_id])),
                                      cell(r.service_type.name), cell(r.band.name), money(r.rate),
                                      cell(f"{r.effective_from:%d %b %Y}"), cell(r.uplift or ""),
                                      cell(f"{r.withdrawn_at:%d %b %Y}" if r.withdrawn_at else "")])


@role_required(WORKERS)
def rate_add_view(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    form = RateForm(request.POST or None)
    asked = handle(request, form, lambda d: rate_change_request(provider=provider, actor=request.user, **d))
    if asked:
        messages.success(request, f"Rate {format_pounds(asked.amount)} sent for approval as {asked.reference}: a team "
                                  f"leader other than you approves it before it is on the card")
        return redirect("provider_payments:provider_detail", pk=pk)
    return form_page(request, form, f"Add a rate for {provider.name}", reverse("provider_payments:provider_detail", args=[pk]))
