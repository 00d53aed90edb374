"""Pages for the direct payments home (queues), agreements and payments."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import selectors, services
from ..constants import AgreementStatus, AuditStatus
from ..forms import AgreementForm, AuditRequestForm, PaymentForm, StatusForm
from ..models import Agreement, Audit, DirectPayment, Policy
from .common import DP_OFFICERS, DP_READERS, DP_STATUS_CHANGERS, date_param, form_page, page_of

AGREEMENT_COLUMNS = [
    Column("Reference", lambda a: a.reference),
    Column("Client reference", lambda a: a.client.reference),
    Column("Client", lambda a: a.client.full_name),
    Column("Recipient", lambda a: a.recipient),
    Column("Recipient kind", lambda a: a.get_recipient_kind_display()),
    Column("Team", lambda a: a.team.name),
    Column("Weekly budget", lambda a: a.weekly_budget, kind=MONEY),
    Column("Weekly contribution", lambda a: a.weekly_contribution, kind=MONEY),
    Column("Frequency", lambda a: a.get_frequency_display()),
    Column("Account type", lambda a: a.get_account_type_display()),
    Column("Start", lambda a: a.start_date),
    Column("End", lambda a: a.end_date),
    Column("Contingency weeks", lambda a: a.contingency_weeks),
    Column("Status", lambda a: a.get_status_display()),
]
PAYMENT_COLUMNS = [
    Column("Paid on", lambda p: p.paid_on),
    Column("Agreement", lambda p: p.agreement.reference),
    Column("Client", lambda p: p.agreement.client.full_name),
    Column("Period start", lambda p: p.period_start),
    Column("Period end", lambda p: p.period_end),
    Column("Due", lambda p: p.due_amount, kind=MONEY),
    Column("Reduction", lambda p: p.reduction, kind=MONEY),
    Column("Paid", lambda p: p.amount, kind=MONEY),
    Column("Source", lambda p: p.get_source_display()),
]
DUE_COLUMNS = [
    Column("Agreement", lambda d: d.agreement.reference),
    Column("Client", lambda d: d.agreement.client.full_name),
    Column("Team", lambda d: d.agreement.team.name),
    Column("Audit due", lambda d: d.due_on),
    Column("Overdue", lambda d: d.overdue),
]


@role_required(DP_READERS)
def home(request):
    today = timezone.localdate()
    due = selectors.audits_due(today)
    if requested_format(request) and request.GET.get("list") == "due":
        return personal_export_response(request, due, DUE_COLUMNS, "audits-due", requested_format(request),
                                        client_of=lambda item: item.agreement.client_id)
    policy = Policy.objects.filter(effective_from__lte=today).order_by("-effective_from").first()
    audits = selectors.open_audits()
    awaited, in_review = list(audits.statements_awaited(today)), list(audits.awaiting_review())
    approval = list(audits.awaiting_approval())
    repeated = list(selectors.repeated_issues(policy.repeated_issue_audits if policy else 2)[:20])
    log_record_views(request, [item.agreement.client_id for item in due],
                     [audit.agreement.client_id for audit in awaited + in_review + approval], repeated)
    return render(request, "direct_payments/home.html", {
        "due": due, "overdue_count": sum(1 for d in due if d.overdue),
        "awaited": awaited, "in_review": in_review, "approval": approval, "repeated": repeated,
        "can_work": has_any_role(request.user, DP_OFFICERS), "today": today})


@role_required(DP_READERS)
def agreement_list(request):
    agreements = Agreement.objects.select_related("client", "team").order_by("pk")
    status = request.GET.get("status", "")
    if status in AgreementStatus.values:
        agreements = agreements.filter(status=status)
    if query := request.GET.get("q", "").strip():
        agreements = agreements.filter(client__reference__iexact=query) | agreements.filter(
            client__last_name__icontains=query)
    if fmt := requested_format(request):
        return personal_export_response(request, agreements, AGREEMENT_COLUMNS, "direct-payment-agreements", fmt)
    page = page_of(request, agreements)
    log_record_views(request, page)
    return render(request, "direct_payments/agreement_list.html", {
        "page_obj": page, "statuses": AgreementStatus.choices,
        "selected": {"status": status, "q": request.GET.get("q", "")},
        "can_work": has_any_role(request.user, DP_OFFICERS)})


@role_required(DP_OFFICERS)
def agreement_create(request):
    initial = {"client_reference": request.GET.get("client", "")}
    form = AgreementForm(request.POST or None, initial=initial)

    def run(d):
        return services.agreement_create(
            client=d["client_reference"], team=d["team"], recipient_kind=d["recipient_kind"],
            recipient_name=d["recipient_name"], weekly_budget=d["weekly_budget"],
            weekly_contribution=d["weekly_contribution"], frequency=d["frequency"], account_type=d["account_type"],
            start_date=d["start_date"], end_date=d["end_date"], contingency_weeks=d["contingency_weeks"],
            risk=d["risk"], support_plan_categories=d["support_plan_categories"], actor=request.user)

    agreement = handle(request, form, run)
    if agreement:
        messages.success(request, f"Agreement {agreement.reference} recorded")
        return redirect("direct_payments:agreement_detail", pk=agreement.pk)
    return form_page(request, form, "Record a direct payment agreement", reverse("direct_payments:agreement_list"))


@role_required(DP_READERS)
def agreement_detail(request, pk: int):
    agreement = get_object_or_404(Agreement.objects.select_related("client", "team"), pk=pk)
    log_record_views(request, agreement)
    return render(request, "direct_payments/agreement_detail.html", {
        "agreement": agreement, "payments": agreement.payments.order_by("-paid_on", "-id")[:26],
        "audits": agreement.audits.select_related("officer").order_by("-period_end"),
        "events": agreement.events.select_related("actor").order_by("-occurred_at"),
        "can_work": has_any_role(request.user, DP_OFFICERS),
        "plan": [label for code, label in _plan_labels() if code in agreement.support_plan_categories]})


def _plan_labels():
    from ..constants import PLAN_CATEGORIES

    return [(c.value, c.label) for c in PLAN_CATEGORIES]


def _agreement_summary(agreement: Agreement) -> list:
    return [("Agreement", agreement.reference), ("Client", f"{agreement.client.full_name} ({agreement.client.reference})"),
            ("Status", agreement.get_status_display()), ("Net payment a period", format_pounds(agreement.period_amount))]


@role_required(DP_STATUS_CHANGERS)
def agreement_status(request, pk: int):
    agreement = get_object_or_404(Agreement.objects.select_related("client"), pk=pk)
    form = StatusForm(request.POST or None)
    form.fields["status"].choices = [(s, l) for s, l in AgreementStatus.choices if agreement.can_transition_to(s)]
    done = handle(request, form, lambda d: services.agreement_transition(agreement=agreement, to=d["status"],
                                                                         actor=request.user, reason=d["reason"]))
    if done:
        messages.success(request, f"Agreement {agreement.reference} is now {done.get_status_display().lower()}")
        return redirect("direct_payments:agreement_detail", pk=agreement.pk)
    log_record_views(request, agreement)
    return form_page(request, form, f"Change the status of {agreement.reference}",
                     reverse("direct_payments:agreement_detail", args=[agreement.pk]), _agreement_summary(agreement))


@role_required(DP_OFFICERS)
def payment_create(request, pk: int):
    agreement = get_object_or_404(Agreement.objects.select_related("client"), pk=pk)
    form = PaymentForm(request.POST or None, initial={"paid_on": timezone.localdate()})
    payment = handle(request, form, lambda d: services.payment_record(
        agreement=agreement, amount=d["amount"] or 0, paid_on=d["paid_on"], actor=request.user, note=d["note"],
        period_start=d["period_start"]))
    if payment:
        messages.success(request, f"Payment of {format_pounds(payment.amount)} recorded")
        return redirect("direct_payments:agreement_detail", pk=agreement.pk)
    log_record_views(request, agreement)
    return form_page(request, form, f"Record a payment for {agreement.reference}",
                     reverse("direct_payments:agreement_detail", args=[agreement.pk]), _agreement_summary(agreement))


@role_required(DP_OFFICERS)
def audit_create(request, pk: int):
    agreement = get_object_or_404(Agreement.objects.select_related("client"), pk=pk)
    form = AuditRequestForm(request.POST or None)
    audit = handle(request, form, lambda d: services.audit_request(
        agreement=agreement, period_start=d["period_start"], period_end=d["period_end"], actor=request.user))
    if audit:
        messages.success(request, f"Audit {audit.reference} opened and statements requested")
        return redirect("direct_payments:audit_detail", pk=audit.pk)
    log_record_views(request, agreement)
    return form_page(request, form, f"Start an audit of {agreement.reference}",
                     reverse("direct_payments:agreement_detail", args=[agreement.pk]), _agreement_summary(agreement))


@role_required(DP_READERS)
def payment_list(request):
    payments = DirectPayment.objects.select_related("agreement__client").order_by("-paid_on", "-id")
    if start := date_param(request, "from"):
        payments = payments.filter(paid_on__gte=start)
    if end := date_param(request, "to"):
        payments = payments.filter(paid_on__lte=end)
    if fmt := requested_format(request):
        return personal_export_response(request, payments, PAYMENT_COLUMNS, "direct-payments", fmt,
                                        client_of=lambda payment: payment.agreement.client_id)
    page = page_of(request, payments)
    log_record_views(request, [payment.agreement.client_id for payment in page])
    return render(request, "direct_payments/payment_list.html", {
        "page_obj": page,
        "selected": {k: request.GET.get(k, "") for k in ("from", "to")}})


def client_panel(client, request):
    """The client page's direct payments panel: their agreements and any audit open."""
    if not has_any_role(request.user, DP_READERS):
        return None
    agreements = list(client.dp_agreements.order_by("pk"))
    if not agreements:
        return None
    open_audits = {a.agreement_id: a for a in Audit.objects.filter(agreement__in=agreements)
                   .exclude(status__in=[AuditStatus.COMPLETED, AuditStatus.CANCELLED])}
    return {"title": "Direct payments", "template": "direct_payments/client_panel.html",
            "context": {"dp_agreements": [(a, open_audits.get(a.pk)) for a in agreements]}}
