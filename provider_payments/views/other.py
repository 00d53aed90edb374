"""Care packages, overpayments, uplifts and urgent payments."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, NUMBER, Column, export_response, requested_format
from casework.models import Client
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.services import DomainError
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..constants import OverpaymentStatus, RecoveryMethod, UrgentStatus
from ..forms import (
    OverpaymentDecisionForm,
    OverpaymentForm,
    PackageForm,
    PackageStatusForm,
    ReceiptForm,
    UpliftDecisionForm,
    UpliftForm,
    UrgentForm,
    UrgentPaidForm,
)
from ..models import CarePackage, Overpayment, Provider, Uplift, UrgentPayment
from ..services import overpayments, packages, uplifts, urgent
from ..services.rates import package_cost_per_week
from . import overpayment_waivers
from .common import LEADERS, VIEWERS, WORKERS, cell, form_page, list_page, money

PACKAGE_COLUMNS = [
    Column("Package", lambda p: p.reference), Column("Client", lambda p: p.client.reference),
    Column("Provider", lambda p: p.provider.name), Column("Service", lambda p: p.service_type.name),
    Column("Band", lambda p: p.band.name), Column("Units a week", lambda p: p.units_per_week, kind=NUMBER),
    Column("Agreed rate", lambda p: p.agreed_rate, kind=MONEY), Column("Start", lambda p: p.start_date),
    Column("End", lambda p: p.end_date), Column("Status", lambda p: p.get_status_display()),
    Column("Cost a week today", lambda p: package_cost_per_week(p, timezone.localdate()), kind=MONEY),
]
OVERPAYMENT_COLUMNS = [
    Column("Overpayment", lambda o: o.reference), Column("Provider", lambda o: o.provider.name),
    Column("Amount", lambda o: o.amount, kind=MONEY), Column("Found by", lambda o: o.get_source_display()),
    Column("Recovery", lambda o: o.get_method_display()), Column("Status", lambda o: o.get_status_display()),
    Column("Description", lambda o: o.description),
    Column("Waived", lambda o: o.waived_total, kind=MONEY),
    Column("Still owed", lambda o: overpayment_waivers.still_owed(o), kind=MONEY),
]
UPLIFT_COLUMNS = [
    Column("Uplift", lambda u: u.name), Column("Effective from", lambda u: u.effective_from),
    Column("Method", lambda u: f"{u.percentage}%" if u.percentage is not None else f"£{u.new_rate}"),
    Column("Rounding", lambda u: u.get_rounding_display()), Column("Status", lambda u: u.get_status_display()),
]
URGENT_COLUMNS = [
    Column("Requested", lambda u: u.requested_at), Column("Provider", lambda u: u.provider.name),
    Column("Amount", lambda u: u.amount, kind=MONEY), Column("Method", lambda u: u.get_method_display()),
    Column("Reason", lambda u: u.reason), Column("Status", lambda u: u.get_status_display()),
    Column("Paid on", lambda u: u.paid_on),
]


@role_required(VIEWERS)
def package_list(request):
    items = CarePackage.objects.select_related("client", "provider", "service_type", "band").order_by("-start_date", "-id")
    if ref := request.GET.get("client", "").strip():
        items = items.filter(client__reference__iexact=ref)
    actions = [("Add a care package", reverse("provider_payments:package_create"))] if has_any_role(request.user, WORKERS) else []
    today = timezone.localdate()
    return list_page(request, title="Care packages", queryset=items, columns=PACKAGE_COLUMNS, filename="care-packages",
                     client_of=lambda p: p.client_id, actions=actions, numeric=("Units a week", "Agreed rate", "Cost a week today"), cells=lambda p: [
                         cell(p.reference, reverse("provider_payments:package_detail", args=[p.pk])),
                         cell(p.client.reference), cell(p.provider.name), cell(p.service_type.name), cell(p.band.name),
                         cell(p.units_per_week, numeric=True), money(p.agreed_rate), cell(f"{p.start_date:%d %b %Y}"),
                         cell(f"{p.end_date:%d %b %Y}" if p.end_date else ""), cell(p.get_status_display()),
                         money(package_cost_per_week(p, today))])


def _create_package(data: dict, actor):
    client = Client.objects.filter(reference__iexact=data.pop("client_reference").strip()).first()
    if client is None:
        raise DomainError("No client has that reference", field="client_reference")
    return packages.package_create(client=client, actor=actor, **data)


@role_required(WORKERS)
def package_create(request):
    form = PackageForm(request.POST or None)
    package = handle(request, form, lambda d: _create_package(d, request.user))
    if package:
        messages.success(request, f"Package {package.reference} added as provisional")
        return redirect("provider_payments:package_detail", pk=package.pk)
    return form_page(request, form, "Add a care package", reverse("provider_payments:package_list"))


@role_required(VIEWERS)
def package_detail(request, pk: int):
    package = get_object_or_404(CarePackage.objects.select_related("client", "provider", "service_type", "band"), pk=pk)
    today = timezone.localdate()
    cost = package_cost_per_week(package, today if package.covers(today) else package.start_date)
    summary = [("Client", f"{package.client.full_name} ({package.client.reference})"), ("Provider", package.provider.name),
               ("Service", f"{package.service_type.name} ({package.band.name})"),
               ("Units a week", f"{package.units_per_week} {package.service_type.get_unit_display().lower()}s"),
               ("Rate", f"Agreed {format_pounds(package.agreed_rate)}: {package.agreed_rate_reason}"
                if package.agreed_rate is not None else "From the provider's rate card at each date"),
               ("Cost a week", format_pounds(cost) if cost is not None else "No rate on the card"),
               ("Dates", f"{package.start_date:%d %B %Y} to " + (f"{package.end_date:%d %B %Y}" if package.end_date
                                                                  else "open-ended")),
               ("Status", package.get_status_display())]
    if package.visit_pattern:
        days = "Mon Tue Wed Thu Fri Sat Sun".split()
        summary.append(("Visits", ", ".join(f"{days[v['weekday']]} {v['start']} ({v['minutes']} min)"
                                            for v in package.visit_pattern)))
    history = package.history.select_related("history_user").order_by("-history_date")
    table = {"caption": "History", "headers": [("When", False), ("Who", False), ("Status", False),
                                               ("Units a week", True), ("End", False)],
             "rows": [[cell(f"{h.history_date:%d %b %Y %H:%M}"),
                       cell(h.history_user.username if h.history_user else "System"), cell(h.get_status_display()),
                       cell(h.units_per_week, numeric=True), cell(f"{h.end_date:%d %b %Y}" if h.end_date else "")]
                      for h in history]}
    actions = [("Change status", reverse("provider_payments:package_status", args=[pk]))] if (
        has_any_role(request.user, WORKERS) and package.ALLOWED_TRANSITIONS.get(package.status)) else []
    from .exceptions import PLACEMENT_RECORDERS

    if has_any_role(request.user, PLACEMENT_RECORDERS):
        actions.append(("Record as an urgent placement", reverse("provider_payments:urgent_placement_record",
                                                                 args=[pk])))
    log_record_views(request, package)
    return render(request, "provider_payments/page.html", {
        "title": f"Care package {package.reference}", "summary": summary, "actions": actions, "tables": [table],
        "back_url": reverse("provider_payments:package_list")})


@role_required(WORKERS)
def package_status(request, pk: int):
    package = get_object_or_404(CarePackage, pk=pk)
    form = PackageStatusForm(request.POST or None)
    done = handle(request, form, lambda d: packages.package_transition(
        package=package, to_status=d["status"], end_date=d["end_date"], reason=d["reason"], actor=request.user))
    if done:
        messages.success(request, f"{done.reference} is {done.get_status_display().lower()}")
        return redirect("provider_payments:package_detail", pk=pk)
    log_record_views(request, package)
    return form_page(request, form, f"Change the status of {package.reference}",
                     reverse("provider_payments:package_detail", args=[pk]))


@role_required(VIEWERS)
def overpayment_list(request):
    items = overpayment_waivers.with_totals(Overpayment.objects.select_related("provider")).order_by("-identified_at")
    actions = [("Record an overpayment", reverse("provider_payments:overpayment_create"))] if has_any_role(request.user, WORKERS) else []
    leader = has_any_role(request.user, LEADERS)
    worker = has_any_role(request.user, WORKERS)

    def cells(o):
        link = None
        if o.status == OverpaymentStatus.IDENTIFIED and leader:
            link = reverse("provider_payments:overpayment_decide", args=[o.pk])
        elif o.status == OverpaymentStatus.APPROVED and o.method == RecoveryMethod.INVOICE and worker:
            link = reverse("provider_payments:overpayment_receipt", args=[o.pk])
        owed = overpayment_waivers.still_owed(o)
        waive = (cell(f"Ask to waive {o.reference}", reverse("provider_payments:overpayment_waive", args=[o.pk]))
                 if worker and owed else cell(""))
        return [cell(o.reference, link), cell(o.provider.name), money(o.amount), cell(o.get_source_display()),
                cell(o.get_method_display()), cell(o.get_status_display()), cell(o.description),
                money(o.waived_total or None), money(owed), waive]
    return list_page(request, title="Overpayments", queryset=items, columns=OVERPAYMENT_COLUMNS,
                     screen_columns=OVERPAYMENT_COLUMNS + [Column("Action", lambda o: "")],
                     filename="provider-overpayments", actions=actions, numeric=("Amount", "Waived", "Still owed"),
                     cells=cells)


@role_required(WORKERS)
def overpayment_create(request):
    form = OverpaymentForm(request.POST or None)
    done = handle(request, form, lambda d: overpayments.overpayment_record(actor=request.user, **d))
    if done:
        messages.success(request, f"{done.reference} recorded; a team leader approves its recovery")
        return redirect("provider_payments:overpayment_list")
    return form_page(request, form, "Record an overpayment", reverse("provider_payments:overpayment_list"))


@role_required(LEADERS)
def overpayment_decide(request, pk: int):
    item = get_object_or_404(Overpayment.objects.select_related("provider"), pk=pk)
    form = OverpaymentDecisionForm(request.POST or None)
    done = handle(request, form, lambda d: overpayments.overpayment_transition(
        overpayment=item, to_status=d["decision"], invoice_number=d["invoice_number"], reason=d["reason"],
        actor=request.user))
    if done:
        messages.success(request, f"{done.reference} {done.get_status_display().lower()}")
        return redirect("provider_payments:overpayment_list")
    return form_page(request, form, f"Approve recovery of {item.reference}", reverse("provider_payments:overpayment_list"),
                     [("Provider", item.provider.name), ("Amount", format_pounds(item.amount)),
                      ("Recovery", item.get_method_display()), ("Description", item.description)])


@role_required(WORKERS)
def overpayment_receipt(request, pk: int):
    item = get_object_or_404(Overpayment.objects.select_related("provider"), pk=pk)
    form = ReceiptForm(request.POST or None)
    done = handle(request, form, lambda d: overpayments.overpayment_receipt(
        overpayment=item, amount=d["amount"], received_on=d["received_on"], actor=request.user))
    if done:
        messages.success(request, f"{format_pounds(done.amount)} recorded against {item.reference}")
        return redirect("provider_payments:overpayment_list")
    return form_page(request, form, f"Record a receipt for {item.reference}", reverse("provider_payments:overpayment_list"),
                     [("Outstanding", format_pounds(overpayments.overpayment_outstanding(item)))])


@role_required(VIEWERS)
def uplift_list(request):
    items = Uplift.objects.order_by("-effective_from", "-id")
    actions = [("Create an uplift", reverse("provider_payments:uplift_create"))] if has_any_role(request.user, WORKERS) else []
    return list_page(request, title="Uplifts", queryset=items, columns=UPLIFT_COLUMNS, filename="uplifts",
                     actions=actions, cells=lambda u: [
                         cell(u.name, reverse("provider_payments:uplift_detail", args=[u.pk])),
                         cell(f"{u.effective_from:%d %b %Y}"), cell(UPLIFT_COLUMNS[2].value(u)),
                         cell(u.get_rounding_display()), cell(u.get_status_display())])


@role_required(WORKERS)
def uplift_create(request):
    form = UpliftForm(request.POST or None)
    done = handle(request, form, lambda d: uplifts.uplift_create(actor=request.user, **d))
    if done:
        messages.success(request, "Uplift created: check the preview, then ask a team leader to approve it")
        return redirect("provider_payments:uplift_detail", pk=done.pk)
    return form_page(request, form, "Create an uplift", reverse("provider_payments:uplift_list"))


PREVIEW_COLUMNS = [
    Column("Provider", lambda r: r.rate.provider.name), Column("Service", lambda r: r.rate.service_type.name),
    Column("Band", lambda r: r.rate.band.name), Column("Rate before", lambda r: r.before, kind=MONEY),
    Column("Rate after", lambda r: r.after, kind=MONEY), Column("Packages", lambda r: r.packages),
    Column("Weekly cost before", lambda r: r.weekly_before, kind=MONEY),
    Column("Weekly cost after", lambda r: r.weekly_after, kind=MONEY),
    Column("Weekly change", lambda r: r.weekly_change, kind=MONEY),
]


@role_required(VIEWERS)
def uplift_detail(request, pk: int):
    uplift = get_object_or_404(Uplift, pk=pk)
    preview = uplifts.uplift_preview(uplift)
    if fmt := requested_format(request):
        return export_response(preview["rows"], PREVIEW_COLUMNS, f"uplift-{uplift.pk}-preview", fmt)
    summary = [("Effective from", f"{uplift.effective_from:%d %B %Y}"), ("Method", UPLIFT_COLUMNS[2].value(uplift)),
               ("Rounding", uplift.get_rounding_display()), ("Status", uplift.get_status_display()),
               ("Rates in the cohort", preview["rates"]), ("Current packages affected", preview["packages"]),
               ("Weekly cost before", format_pounds(preview["weekly_before"])),
               ("Weekly cost after", format_pounds(preview["weekly_after"])),
               ("Weekly change", format_pounds(preview["weekly_change"]))]
    actions = [("Approve, apply or reverse", reverse("provider_payments:uplift_decide", args=[pk]))] if (
        has_any_role(request.user, LEADERS) and uplift.ALLOWED_TRANSITIONS.get(uplift.status)) else []
    table = {"caption": "Every rate before and after", "empty": "No rates in this cohort.",
             "headers": [(c.header, i >= 3) for i, c in enumerate(PREVIEW_COLUMNS)],
             "rows": [[cell(r.rate.provider.name), cell(r.rate.service_type.name), cell(r.rate.band.name),
                       money(r.before), money(r.after), cell(r.packages, numeric=True), money(r.weekly_before),
                       money(r.weekly_after), money(r.weekly_change)] for r in preview["rows"]]}
    return render(request, "provider_payments/page.html", {
        "title": uplift.name, "caption": "Uplift", "summary": summary, "actions": actions, "tables": [table],
        "exportable": True, "back_url": reverse("provider_payments:uplift_list")})


@role_required(LEADERS)
def uplift_decide(request, pk: int):
    uplift = get_object_or_404(Uplift, pk=pk)
    form = UpliftDecisionForm(request.POST or None)
    done = handle(request, form, lambda d: uplifts.uplift_transition(uplift=uplift, to_status=d["status"],
                                                                     reason=d["reason"], actor=request.user))
    if done:
        messages.success(request, f"Uplift {done.get_status_display().lower()}")
        return redirect("provider_payments:uplift_detail", pk=pk)
    return form_page(request, form, f"Decide on {uplift.name}", reverse("provider_payments:uplift_detail", args=[pk]),
                     [("Status", uplift.get_status_display())])


@role_required(VIEWERS)
def urgent_list(request):
    items = UrgentPayment.objects.select_related("provider").order_by("-requested_at")
    leader, worker = has_any_role(request.user, LEADERS), has_any_role(request.user, WORKERS)

    def cells(u):
        link = None
        if u.status == UrgentStatus.REQUESTED and leader:
            link = reverse("provider_payments:urgent_decide", args=[u.pk])
        elif u.status == UrgentStatus.APPROVED and worker:
            link = reverse("provider_payments:urgent_paid", args=[u.pk])
        return [cell(f"{u.requested_at:%d %b %Y}", link), cell(u.provider.name), money(u.amount),
                cell(u.get_method_display()), cell(u.reason), cell(u.get_status_display()),
                cell(f"{u.paid_on:%d %b %Y}" if u.paid_on else "")]
    return list_page(request, title="Urgent payments", queryset=items, columns=URGENT_COLUMNS, filename="urgent-payments",
                     numeric=("Amount",), cells=cells,
                     intro="Payments outside the run, by CHAPS or faster payment, each approved by a second person.")


@role_required(WORKERS)
def urgent_create(request, pk: int):
    provider = get_object_or_404(Provider, pk=pk)
    form = UrgentForm(request.POST or None)
    done = handle(request, form, lambda d: urgent.urgent_request(provider=provider, actor=request.user, **d))
    if done:
        messages.success(request, "Urgent payment requested: a team leader approves it")
        return redirect("provider_payments:urgent_list")
    return form_page(request, form, f"Request an urgent payment to {provider.name}",
                     reverse("provider_payments:provider_detail", args=[pk]))


@role_required(LEADERS)
def urgent_decide(request, pk: int):
    item = get_object_or_404(UrgentPayment.objects.select_related("provider"), pk=pk)
    from ..forms import DecisionForm

    form = DecisionForm(request.POST or None)
    done = handle(request, form, lambda d: urgent.urgent_transition(
        urgent=item, to_status=UrgentStatus.APPROVED if d["decision"] == "approve" else UrgentStatus.REJECTED,
        reason=d["note"], actor=request.user))
    if done:
        messages.success(request, f"Urgent payment {done.get_status_display().lower()}")
        return redirect("provider_payments:urgent_list")
    return form_page(request, form, f"Urgent payment to {item.provider.name}", reverse("provider_payments:urgent_list"),
                     [("Amount", format_pounds(item.amount)), ("Method", item.get_method_display()),
                      ("Reason", item.reason)])


@role_required(WORKERS)
def urgent_paid(request, pk: int):
    item = get_object_or_404(UrgentPayment.objects.select_related("provider"), pk=pk)
    form = UrgentPaidForm(request.POST or None)
    done = handle(request, form, lambda d: urgent.urgent_transition(urgent=item, to_status=UrgentStatus.PAID,
                                                                    paid_on=d["paid_on"], actor=request.user))
    if done:
        messages.success(request, "Urgent payment recorded on the provider's ledger")
        return redirect("provider_payments:urgent_list")
    return form_page(request, form, f"Record the urgent payment to {item.provider.name}",
                     reverse("provider_payments:urgent_list"), [("Amount", format_pounds(item.amount))])
