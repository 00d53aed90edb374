"""Categorisation rules (kept by a finance administrator), saved bank formats, and the report of
totals recovered by team."""
from datetime import date

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, export_response, requested_format
from casework.roles import has_any_role
from casework.views.access import role_required
from casework.views.forms import handle

from .. import selectors, services
from ..constants import RecoveryRoute
from ..forms import CategoryRuleForm
from ..models import BankFormat, CategoryRule, IrregularityRule
from .common import DP_READERS, RULE_EDITORS, date_param, form_page, page_of

RULE_COLUMNS = [
    Column("Priority", lambda r: r.priority),
    Column("Text to find", lambda r: r.pattern),
    Column("Look in", lambda r: r.get_match_on_display()),
    Column("For", lambda r: r.get_direction_display()),
    Column("Category", lambda r: r.get_category_display()),
    Column("In use", lambda r: r.active),
]
BANK_COLUMNS = [
    Column("Bank", lambda b: b.name),
    Column("Date column", lambda b: b.date_column),
    Column("Date format", lambda b: b.get_date_format_display()),
    Column("Description column", lambda b: b.description_column),
    Column("Payee column", lambda b: b.payee_column),
    Column("Amount column", lambda b: b.amount_column),
    Column("Paid in column", lambda b: b.paid_in_column),
    Column("Paid out column", lambda b: b.paid_out_column),
    Column("Balance column", lambda b: b.balance_column),
]
RECOVERED_COLUMNS = [
    Column("Team", lambda r: r["team"]),
    Column("Route", lambda r: r["route_label"]),
    Column("Recoveries", lambda r: r["count"]),
    Column("Total", lambda r: r["total"], kind=MONEY),
]


@role_required(DP_READERS)
def rule_list(request):
    rules = CategoryRule.objects.order_by("priority", "id")
    if fmt := requested_format(request):
        return export_response(rules, RULE_COLUMNS, "categorisation-rules", fmt)
    return render(request, "direct_payments/rule_list.html", {
        "page_obj": page_of(request, rules), "irregularity_rules": IrregularityRule.objects.all(),
        "can_edit": has_any_role(request.user, RULE_EDITORS)})


def _rule_form(request, rule: CategoryRule | None):
    initial = {k: getattr(rule, k) for k in ("pattern", "match_on", "direction", "category", "priority", "active")} \
        if rule else None
    form = CategoryRuleForm(request.POST or None, initial=initial)
    saved = handle(request, form, lambda d: services.category_rule_save(actor=request.user, rule=rule, **d))
    if saved:
        messages.success(request, f"Rule saved: {saved}")
        return redirect("direct_payments:rule_list")
    return form_page(request, form, "Change a categorisation rule" if rule else "Add a categorisation rule",
                     reverse("direct_payments:rule_list"))


@role_required(RULE_EDITORS)
def rule_create(request):
    return _rule_form(request, None)


@role_required(RULE_EDITORS)
def rule_edit(request, pk: int):
    return _rule_form(request, get_object_or_404(CategoryRule, pk=pk))


@role_required(DP_READERS)
def bank_list(request):
    banks = BankFormat.objects.order_by("name")
    if fmt := requested_format(request):
        return export_response(banks, BANK_COLUMNS, "bank-formats", fmt)
    return render(request, "direct_payments/bank_list.html", {"page_obj": page_of(request, banks)})


@role_required(DP_READERS)
def recovered_report(request):
    today = timezone.localdate()
    financial_year_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    start = date_param(request, "from") or financial_year_start
    end = date_param(request, "to") or today
    rows = selectors.recovered_by_team(start, end)
    for row in rows:
        row["route_label"] = RecoveryRoute(row["route"]).label
    if fmt := requested_format(request):
        return export_response(rows, RECOVERED_COLUMNS, "direct-payments-recovered", fmt)
    return render(request, "direct_payments/recovered_report.html", {
        "rows": rows, "total": selectors.total(rows), "start": start, "end": end,
        "selected": {"from": start.isoformat(), "to": end.isoformat()}})
