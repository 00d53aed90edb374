"""High-cost exceptions: the challenge queue, one exception's page and its moves, the savings
report, and the reference data behind detection (guide prices, contract status, no-saving reasons)."""
from datetime import date

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework.exports import MONEY, Column, export_response, requested_format
from casework.forms import GovForm, MoneyField, _date
from casework.models import Area
from casework.money import format_pounds
from casework.roles import Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..models import (
    CarePackage,
    ExceptionOutcome,
    ExceptionRule,
    ExceptionStatus,
    GuidePrice,
    HighCostException,
    NoSavingReason,
    Provider,
    ProviderContract,
    ServiceType,
)
from ..services import exceptions as services
from ..services.exceptions import EXCEPTION_ADMINS, EXCEPTION_WORKERS
from .common import cell, form_page, list_page, money

#: Who reads the queue and the report (the auditor too).
EXCEPTION_VIEWERS = EXCEPTION_WORKERS | {Role.AUDITOR}
#: Who reads the reference data behind detection.
SETTINGS_VIEWERS = EXCEPTION_VIEWERS | EXCEPTION_ADMINS
#: Who records that a package was an urgent placement.
PLACEMENT_RECORDERS = EXCEPTION_WORKERS | {Role.PROVIDER_PAYMENT_OFFICER}
STATUS_TAGS = {ExceptionStatus.OPEN: "red", ExceptionStatus.UNDER_REVIEW: "yellow",
               ExceptionStatus.NEGOTIATING: "blue", ExceptionStatus.CLOSED: "grey"}


def _rules(e: HighCostException) -> str:
    return "; ".join(t.get_rule_display() for t in e.triggers.all())


EXCEPTION_COLUMNS = [
    Column("Exception", lambda e: e.reference), Column("Package", lambda e: e.package.reference),
    Column("Client", lambda e: e.package.client.reference), Column("Provider", lambda e: e.package.provider.name),
    Column("Service", lambda e: e.package.service_type.name), Column("Area", lambda e: e.area or ""),
    Column("Rules", _rules), Column("Cost a week", lambda e: e.weekly_cost, kind=MONEY),
    Column("Guide a week", lambda e: e.weekly_guide, kind=MONEY),
    Column("Detected", lambda e: e.detected_on), Column("Status", lambda e: e.get_status_display()),
    Column("Outcome", lambda e: e.get_outcome_display()), Column("Weekly saving", lambda e: e.weekly_saving, kind=MONEY),
    Column("Full-year saving", lambda e: e.full_year_saving, kind=MONEY),
    Column("No-saving reason", lambda e: e.no_saving_reason or ""), Column("Closed", lambda e: e.closed_on),
]
#: The columns shown on the list page (the exports have every column).
SCREEN_COLUMNS = ("Exception", "Client", "Provider", "Service", "Rules", "Cost a week", "Guide a week", "Status",
                  "Weekly saving")
SAVINGS_COLUMNS = [
    Column("Grouped by", lambda r: r[0]), Column("Group", lambda r: r[1].label), Column("Closed", lambda r: r[1].closed),
    Column("With a saving", lambda r: r[1].with_saving), Column("Weekly saving", lambda r: r[1].weekly_saving, kind=MONEY),
    Column("Full-year saving", lambda r: r[1].full_year_saving, kind=MONEY),
]


# ---------------------------------------------------------------- forms


def _text(label: str, max_length: int = 2000, required: bool = True, rows: int = 3, help_text: str = ""):
    return forms.CharField(label=label, max_length=max_length, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class ReviewStartForm(GovForm):
    submit_label = "Start the review"
    review = _text("First findings (optional)", required=False)


class NegotiateForm(GovForm):
    submit_label = "Record and start negotiating"
    review = _text("What the review found")
    alternative = _text("The alternative proposed to the provider",
                        help_text="For example, a lower rate, fewer hours, or another provider at a lower price")
    proposed_weekly_cost = MoneyField(label="Proposed cost a week, in pounds (optional)", required=False)


class CloseForm(GovForm):
    submit_label = "Close with this outcome"
    review = _text("What the review found", required=False, help_text="Needed if not recorded already")
    outcome = forms.ChoiceField(label="Outcome", choices=ExceptionOutcome.choices, widget=forms.RadioSelect)
    new_weekly_cost = MoneyField(label="New cost a week agreed, in pounds", required=False,
                                 help_text="Needed for a saving")
    saving_from = _date("Date the new cost starts", required=False, help_text="Needed for a saving. For example, 27 3 2026")
    no_saving_reason = forms.ModelChoiceField(label="Why was there no saving?", required=False,
                                              queryset=NoSavingReason.objects.filter(active=True),
                                              help_text="Needed for no saving")
    note = _text("Note (optional)", required=False, rows=2)


class NoteForm(GovForm):
    submit_label = "Add note"
    noted_on = _date("Date of the conversation or review")
    text = _text("Note")


class GuidePriceForm(GovForm):
    submit_label = "Add guide price"
    service_type = forms.ModelChoiceField(label="Service type", queryset=ServiceType.objects.all())
    area = forms.ModelChoiceField(label="Area", queryset=Area.objects.all(), required=False,
                                  help_text="Leave blank for every area; an area's own price wins over it")
    price = MoneyField(label="Guide price per unit, in pounds")
    effective_from = _date("Effective from")


class ContractForm(GovForm):
    submit_label = "Record contract status"
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.all())
    contracted = forms.TypedChoiceField(label="Is the provider on contract from this date?", widget=forms.RadioSelect,
                                        choices=[("yes", "Yes, on contract"), ("no", "No, spot purchase")],
                                        coerce=lambda v: v == "yes")
    effective_from = _date("Effective from")
    note = forms.CharField(label="Note (optional)", max_length=300, required=False)


class ReasonForm(GovForm):
    submit_label = "Add reason"
    code = forms.CharField(label="Code", max_length=30, help_text="Lower case letters and underscores")
    name = forms.CharField(label="Description", max_length=200)
    order = forms.IntegerField(label="Order in the list", min_value=0, initial=100)


class UrgentPlacementForm(GovForm):
    submit_label = "Record urgent placement"
    reason = forms.CharField(label="Why was the placement urgent?", max_length=300,
                             widget=forms.Textarea(attrs={"rows": 2}))


# ---------------------------------------------------------------- the queue


@role_required(EXCEPTION_VIEWERS)
def exception_list(request):
    items = (HighCostException.objects.select_related("package__client", "package__provider", "package__service_type",
                                                      "area", "no_saving_reason")
             .prefetch_related("triggers").order_by("detected_on", "id"))
    status = request.GET.get("status", "open")
    if status == "open":
        items = items.open()
    elif status in ExceptionStatus.values:
        items = items.filter(status=status)
    if (rule := request.GET.get("rule", "")) in ExceptionRule.values:
        items = items.filter(triggers__rule=rule).distinct()
    links = [(label, f"{reverse('provider_payments:exception_list')}?status={value}")
             for value, label in [("open", "Open and in progress"), *ExceptionStatus.choices, ("all", "All")]]
    links += [("Savings report", reverse("provider_payments:exception_report")),
              ("Guide prices, contract status and reasons", reverse("provider_payments:exception_settings"))]
    return list_page(request, title="High-cost exceptions", queryset=items, columns=EXCEPTION_COLUMNS,
                     filename="high-cost-exceptions", links=links, client_of=lambda e: e.package.client_id,
                     intro="Care packages to challenge: above the guide price, from a provider not on contract, "
                           "urgent placements above the guide, cost increases and extra support in residential care.",
                     numeric=("Cost a week", "Guide a week", "Weekly saving"),
                     screen_columns=[c for c in EXCEPTION_COLUMNS if c.header in SCREEN_COLUMNS], cells=lambda e: [
                         cell(e.reference, reverse("provider_payments:exception_detail", args=[e.pk])),
                         cell(f"{e.package.client.full_name} ({e.package.client.reference})"),
                         cell(e.package.provider.name), cell(e.package.service_type.name), cell(_rules(e)),
                         money(e.weekly_cost), money(e.weekly_guide),
                         cell(e.get_status_display(), tag=STATUS_TAGS[e.status]), money(e.weekly_saving)])


def _actions(request, e: HighCostException) -> list:
    if not has_any_role(request.user, EXCEPTION_WORKERS) or e.status == ExceptionStatus.CLOSED:
        return []
    moves = {ExceptionStatus.OPEN: [("Start the review", "exception_review")],
             ExceptionStatus.UNDER_REVIEW: [("Record the review and negotiate", "exception_negotiate"),
                                            ("Close with an outcome", "exception_close")],
             ExceptionStatus.NEGOTIATING: [("Close with an outcome", "exception_close")]}[e.status]
    return [(label, reverse(f"provider_payments:{name}", args=[e.pk])) for label, name in moves] + [
        ("Add a dated note", reverse("provider_payments:exception_note", args=[e.pk]))]


@role_required(EXCEPTION_VIEWERS)
def exception_detail(request, pk: int):
    e = get_object_or_404(HighCostException.objects.select_related(
        "package__client", "package__provider", "package__service_type", "case", "area", "reviewed_by",
        "no_saving_reason", "closed_by"), pk=pk)
    summary = [("Package", f"{e.package.reference}: {e.package.service_type.name} from {e.package.provider.name}"),
               ("Client", f"{e.package.client.full_name} ({e.package.client.reference})"),
               ("Area", e.area or "No area recorded"), ("Case", e.case.reference),
               ("Cost a week", format_pounds(e.weekly_cost)),
               ("Guide a week", format_pounds(e.weekly_guide) if e.weekly_guide is not None else "No guide price in force"),
               ("Detected", f"{e.detected_on:%d %B %Y}"), ("Status", e.get_status_display())]
    if e.reviewed_by:
        summary.append(("Reviewed by", e.reviewed_by.get_full_name() or e.reviewed_by.username))
    if e.review:
        summary.append(("Review", e.review))
    if e.alternative:
        summary.append(("Alternative proposed", e.alternative + (
            f" ({format_pounds(e.proposed_weekly_cost)} a week)" if e.proposed_weekly_cost is not None else "")))
    if e.outcome == ExceptionOutcome.SAVING:
        summary += [("Outcome", f"Saving: new cost {format_pounds(e.new_weekly_cost)} a week from {e.saving_from:%d %B %Y}"),
                    ("Weekly saving", format_pounds(e.weekly_saving)),
                    ("Full-year saving", f"{format_pounds(e.full_year_saving)} (over {e.saving_days} days)")]
    elif e.outcome == ExceptionOutcome.NO_SAVING:
        summary.append(("Outcome", f"No saving: {e.no_saving_reason}"))
    if e.outcome_note:
        summary.append(("Outcome note", e.outcome_note))
    triggers = {"caption": "Rules that raised it", "empty": "None.",
                "headers": [("Rule", False), ("What was found", False), ("Cost a week", True), ("Guide a week", True),
                            ("Detected", False)],
                "rows": [[cell(t.get_rule_display()), cell(t.detail), money(t.weekly_cost), money(t.weekly_guide),
                          cell(f"{t.detected_on:%d %b %Y}")] for t in e.triggers.all()]}
    notes = {"caption": "Review and negotiation notes", "empty": "No notes yet.",
             "headers": [("Date", False), ("Note", False), ("By", False)],
             "rows": [[cell(f"{n.noted_on:%d %b %Y}"), cell(n.text), cell(n.added_by.get_full_name() or n.added_by.username)]
                      for n in e.notes.select_related("added_by")]}
    log_record_views(request, e.package.client_id)
    return render(request, "provider_payments/page.html", {
        "title": f"High-cost exception {e.reference}", "summary": summary, "actions": _actions(request, e),
        "links": [("The client's case", reverse("casework:case_detail", args=[e.case_id])),
                  ("The care package", reverse("provider_payments:package_detail", args=[e.package_id]))],
        "tables": [triggers, notes], "back_url": reverse("provider_payments:exception_list")})


def _move(request, pk: int, form_class, to_status: str, title: str, done_message: str):
    e = get_object_or_404(HighCostException.objects.select_related("package"), pk=pk)
    initial = {"review": e.review} if "review" in form_class.base_fields else None
    form = form_class(request.POST or None, initial=initial)
    done = handle(request, form, lambda d: services.exception_transition(
        exception=e, to_status=to_status, actor=request.user, **d))
    if done:
        messages.success(request, f"{done.reference} {done_message}")
        return redirect("provider_payments:exception_detail", pk=pk)
    summary = [("Package", e.package.reference), ("Cost a week", format_pounds(e.weekly_cost)),
               ("Guide a week", format_pounds(e.weekly_guide) if e.weekly_guide is not None else "None in force")]
    log_record_views(request, e.package.client_id)
    return form_page(request, form, title, reverse("provider_payments:exception_detail", args=[pk]), summary=summary,
                     caption=e.reference)


@role_required(EXCEPTION_WORKERS)
def exception_review(request, pk: int):
    return _move(request, pk, ReviewStartForm, ExceptionStatus.UNDER_REVIEW, "Start the review", "is under review")


@role_required(EXCEPTION_WORKERS)
def exception_negotiate(request, pk: int):
    return _move(request, pk, NegotiateForm, ExceptionStatus.NEGOTIATING, "Record the review and the alternative",
                 "is being negotiated with the provider")


@role_required(EXCEPTION_WORKERS)
def exception_close(request, pk: int):
    return _move(request, pk, CloseForm, ExceptionStatus.CLOSED, "Close with an outcome", "is closed")


@role_required(EXCEPTION_WORKERS)
def exception_note(request, pk: int):
    e = get_object_or_404(HighCostException.objects.select_related("package"), pk=pk)
    form = NoteForm(request.POST or None, initial={"noted_on": timezone.localdate()})
    if handle(request, form, lambda d: services.exception_add_note(exception=e, actor=request.user, **d)):
        messages.success(request, "Note added")
        return redirect("provider_payments:exception_detail", pk=pk)
    log_record_views(request, e.package.client_id)
    return form_page(request, form, "Add a dated note", reverse("provider_payments:exception_detail", args=[pk]),
                     caption=e.reference)


# ---------------------------------------------------------------- packages


@role_required(PLACEMENT_RECORDERS)
def urgent_placement_record(request, pk: int):
    package = get_object_or_404(CarePackage.objects.select_related("client"), pk=pk)
    form = UrgentPlacementForm(request.POST or None)
    if handle(request, form, lambda d: services.urgent_placement_record(package=package, actor=request.user, **d)):
        messages.success(request, f"{package.reference} recorded as an urgent placement and checked for exceptions")
        return redirect("provider_payments:package_detail", pk=pk)
    log_record_views(request, package)
    return form_page(request, form, f"Record {package.reference} as an urgent placement",
                     reverse("provider_payments:package_detail", args=[pk]))


@role_required(EXCEPTION_WORKERS)
@require_POST
def package_check(request, pk: int):
    """Check one package for exceptions now (the nightly run checks them all)."""
    package = get_object_or_404(CarePackage, pk=pk)
    triggers = services.exceptions_detect_for_package(package=package, actor=request.user)
    if triggers:
        messages.success(request, f"{triggers[0].exception.reference}: "
                         + ", ".join(t.get_rule_display().lower() for t in triggers))
        return redirect("provider_payments:exception_detail", pk=triggers[0].exception_id)
    messages.info(request, f"No new exception for {package.reference}")
    return redirect("provider_payments:package_detail", pk=pk)


# ---------------------------------------------------------------- the report


def _day(request, name: str, default: date) -> tuple[date, str]:
    text = request.GET.get(name, "").strip()
    if not text:
        return default, ""
    try:
        return date.fromisoformat(text), ""
    except ValueError:
        return default, f"Enter the {'start' if name == 'from' else 'end'} date as YYYY-MM-DD, like 2026-04-01"


@role_required(EXCEPTION_VIEWERS)
def exception_report(request):
    today = timezone.localdate()
    end, end_error = _day(request, "to", today)
    start, start_error = _day(request, "from", date(today.year - (today.month < 4), 4, 1))
    errors = [e for e in (start_error, end_error) if e]
    if start > end:
        errors.append("The start date must be on or before the end date")
        start = end.replace(day=1)
    by_month = services.savings_by_month(start, end)
    by_reason = services.savings_by_reason(start, end)
    if not errors and (fmt := requested_format(request)):
        rows = [("Month closed", r) for r in by_month] + [("Outcome", r) for r in by_reason]
        return export_response(rows, SAVINGS_COLUMNS, "high-cost-savings", fmt)
    largest = max((r.full_year_saving for r in by_month), default=0) or 1
    chart = [{"label": r.label, "amount": r.full_year_saving, "width": float(r.full_year_saving / largest) * 380,
              "y": i * 32} for i, r in enumerate(by_month)]
    return render(request, "provider_payments/exceptions/report.html", {
        "start": start, "end": end, "errors": errors, "by_month": by_month, "by_reason": by_reason, "chart": chart,
        "chart_height": max(len(chart), 1) * 32,
        "total_weekly": sum((r.weekly_saving for r in by_month), start=0),
        "total_full_year": sum((r.full_year_saving for r in by_month), start=0),
        "total_closed": sum(r.closed for r in by_month)})


# ---------------------------------------------------------------- reference data


@role_required(SETTINGS_VIEWERS)
def exception_settings(request):
    admin = has_any_role(request.user, EXCEPTION_ADMINS)
    actions = [("Add a guide price", reverse("provider_payments:guide_price_add")),
               ("Record a provider's contract status", reverse("provider_payments:provider_contract_add")),
               ("Add a no-saving reason", reverse("provider_payments:no_saving_reason_add"))] if admin else []
    prices = GuidePrice.objects.select_related("service_type", "area").order_by("service_type__name", "area__name",
                                                                                "-effective_from")
    contracts = ProviderContract.objects.select_related("provider").order_by("provider__name", "-effective_from")
    guide_table = {"caption": "Guide prices (per unit)", "empty": "No guide prices yet.",
                   "headers": [("Service", False), ("Area", False), ("Price per unit", True), ("Effective from", False)],
                   "rows": [[cell(g.service_type.name), cell(g.area.name if g.area_id else "All areas"), money(g.price),
                             cell(f"{g.effective_from:%d %b %Y}")] for g in prices]}
    contract_table = {"caption": "Provider contract status", "empty": "No provider recorded: all are on contract.",
                      "headers": [("Provider", False), ("On contract", False), ("Effective from", False), ("Note", False)],
                      "rows": [[cell(c.provider.name), cell("Yes" if c.contracted else "No"),
                                cell(f"{c.effective_from:%d %b %Y}"), cell(c.note)] for c in contracts]}
    reason_table = {"caption": "Reasons for no saving", "empty": "None.",
                    "headers": [("Code", False), ("Reason", False), ("In use", False)],
                    "rows": [[cell(r.code), cell(r.name), cell("Yes" if r.active else "No")]
                             for r in NoSavingReason.objects.all()]}
    return render(request, "provider_payments/page.html", {
        "title": "High-cost exception settings", "actions": actions,
        "intro": "The most specific guide price in force wins: an area's own price, else the price for all areas.",
        "tables": [guide_table, contract_table, reason_table],
        "back_url": reverse("provider_payments:exception_list")})


def _settings_form(request, form, action, title: str, done: str):
    if handle(request, form, action):
        messages.success(request, done)
        return redirect("provider_payments:exception_settings")
    return form_page(request, form, title, reverse("provider_payments:exception_settings"))


@role_required(EXCEPTION_ADMINS)
def guide_price_add(request):
    return _settings_form(request, GuidePriceForm(request.POST or None),
                          lambda d: services.guide_price_add(actor=request.user, **d), "Add a guide price",
                          "Guide price added")


@role_required(EXCEPTION_ADMINS)
def provider_contract_add(request):
    return _settings_form(request, ContractForm(request.POST or None),
                          lambda d: services.provider_contract_add(actor=request.user, **d),
                          "Record a provider's contract status", "Contract status recorded")


@role_required(EXCEPTION_ADMINS)
def no_saving_reason_add(request):
    return _settings_form(request, ReasonForm(request.POST or None),
                          lambda d: services.no_saving_reason_add(actor=request.user, **d), "Add a no-saving reason",
                          "Reason added")
