"""Pages for Breathing Space moratoria and repayment plans. Thin: parse, check role, call one service."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm, MoneyField, _date
from casework.models import Client
from casework.roles import READERS, Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..constants import PaymentMethod
from ..models import Invoice, Moratorium, RepaymentPlan, SuppressedAction
from ..models.relief import (
    INCOME_CATEGORIES,
    SPENDING_CATEGORIES,
    HouseholdType,
    MoratoriumEndReason,
    MoratoriumKind,
    PlanFrequency,
    PlanStatus,
    SfsCategory,
)
from ..services import relief as services
from ..services.diary import breathing_space_dates

#: Who may record and change moratoria and plans.
RELIEF_WRITERS = frozenset({Role.INCOME_OFFICER, Role.TEAM_LEADER})


# Forms -----------------------------------------------------------------------------------------

class MoratoriumForm(GovForm):
    submit_label = "Record Breathing Space"
    kind = forms.ChoiceField(label="Type", choices=MoratoriumKind.choices, widget=forms.RadioSelect)
    register_entry_date = _date("Date of the register entry", help_text="From the Insolvency Service notice. "
                                "The moratorium starts the day after.")
    insolvency_reference = forms.CharField(label="Insolvency Service reference", max_length=60)
    adviser_name = forms.CharField(label="Debt adviser's name", max_length=200)
    adviser_organisation = forms.CharField(label="Debt advice organisation", max_length=200)
    adviser_contact = forms.CharField(label="Adviser's phone or email", max_length=300, required=False)
    invoices = forms.ModelMultipleChoiceField(queryset=Invoice.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple,
                                              label="Debts covered (leave all unticked for every debt owed at the start)")

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = Invoice.objects.filter(client=client, total__gt=0)


class MoratoriumEndForm(GovForm):
    submit_label = "Record the end"
    reason = forms.ChoiceField(choices=[(MoratoriumEndReason.ENDED, MoratoriumEndReason.ENDED.label),
                                        (MoratoriumEndReason.CANCELLED, MoratoriumEndReason.CANCELLED.label)],
                               widget=forms.RadioSelect, label="What the notice says")
    ended_on = _date("Date it ended")
    note = forms.CharField(label="Note", max_length=300, required=False)


class ReviewForm(GovForm):
    submit_label = "Record review request"
    requested_on = _date("Date the review was requested")
    grounds = forms.CharField(widget=forms.Textarea, label="Grounds",
                              help_text="Unfair prejudice to the council, or a material irregularity")
    outcome = forms.CharField(label="Outcome, if known", max_length=300, required=False)


class TreatmentForm(GovForm):
    submit_label = "Record treatment end"
    treatment_ended_on = _date("Date the crisis treatment ended")


class PlanForm(GovForm):
    submit_label = "Agree the plan"
    household_type = forms.ChoiceField(choices=HouseholdType.choices, label="Household")
    instalment_amount = MoneyField(label="Instalment amount, in pounds")
    frequency = forms.ChoiceField(choices=PlanFrequency.choices)
    start_date = _date("First payment date")
    method = forms.ChoiceField(choices=PaymentMethod.choices, label="How they will pay")
    notes = forms.CharField(widget=forms.Textarea, required=False, label="Notes on the statement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for category in (*INCOME_CATEGORIES, *SPENDING_CATEGORIES):
            kind = "income" if category in INCOME_CATEGORIES else "spending"
            self.fields[f"sfs_{category}"] = MoneyField(label=f"{SfsCategory(category).label} ({kind}, a month)",
                                                        required=False)

    def amounts(self) -> dict:
        data = self.cleaned_data
        return {c: data.get(f"sfs_{c}") for c in (*INCOME_CATEGORIES, *SPENDING_CATEGORIES) if data.get(f"sfs_{c}")}


class CancelForm(GovForm):
    submit_label = "Cancel the plan"
    reason = forms.CharField(max_length=300)


# Breathing Space pages -------------------------------------------------------------------------

MORATORIUM_COLUMNS = [
    Column("Client reference", lambda m: m.client.reference),
    Column("Client", lambda m: m.client.full_name),
    Column("Type", lambda m: m.get_kind_display()),
    Column("Insolvency Service reference", lambda m: m.insolvency_reference),
    Column("Start", lambda m: m.start_date),
    Column("Expected end", lambda m: m.expected_end),
    Column("Review request due", lambda m: m.review_due_on),
    Column("Adviser", lambda m: f"{m.adviser_name}, {m.adviser_organisation}"),
]


def _form_page(request, form, title: str, back_url: str, **extra):
    return render(request, "casework/form_page.html", {"form": form, "title": title, "back_url": back_url, **extra})


@role_required(READERS)
def moratorium_list(request):
    today = timezone.localdate()
    rows = Moratorium.objects.active_on(today).select_related("client").order_by("expected_end", "pk")
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, rows, MORATORIUM_COLUMNS, "breathing-space", fmt)
    moratoria = list(rows)
    log_record_views(request, moratoria)
    return render(request, "debt/relief/moratorium_list.html", {"moratoria": moratoria, "today": today})


@role_required(RELIEF_WRITERS)
def moratorium_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = MoratoriumForm(request.POST or None, client=client)
    done = handle(request, form, lambda d: services.moratorium_record(
        client=client, kind=d["kind"], register_entry_date=d["register_entry_date"],
        insolvency_reference=d["insolvency_reference"], adviser_name=d["adviser_name"],
        adviser_organisation=d["adviser_organisation"], adviser_contact=d["adviser_contact"],
        invoices=list(d["invoices"]), actor=request.user))
    if done:
        messages.success(request, "Breathing Space recorded: recovery of the debts it covers is paused")
        if done.eligibility_warning:
            messages.warning(request, done.eligibility_warning)
        return redirect("debt:moratorium_detail", pk=done.pk)
    log_record_views(request, client)
    return _form_page(request, form, f"Record a Breathing Space for {client.full_name}",
                      reverse("casework:client_detail", args=[client.pk]))


@role_required(READERS)
def moratorium_detail(request, pk: int):
    moratorium = get_object_or_404(Moratorium.objects.select_related("client"), pk=pk)
    log_record_views(request, moratorium)
    return render(request, "debt/relief/moratorium_detail.html", {
        "moratorium": moratorium, "invoices": moratorium.invoices.all(), "days": services.moratorium_days(moratorium),
        "dates": breathing_space_dates(moratorium),
        "suppressed": SuppressedAction.objects.filter(moratorium=moratorium)[:50],
        "can_act": has_any_role(request.user, RELIEF_WRITERS),
    })


def _moratorium_action(request, pk: int, form_class, title: str, action):
    moratorium = get_object_or_404(Moratorium, pk=pk)
    form = form_class(request.POST or None)
    if handle(request, form, lambda d: action(moratorium, d)):
        messages.success(request, "Saved")
        return redirect("debt:moratorium_detail", pk=pk)
    log_record_views(request, moratorium)
    return _form_page(request, form, title, reverse("debt:moratorium_detail", args=[pk]))


@role_required(RELIEF_WRITERS)
def moratorium_end(request, pk: int):
    return _moratorium_action(request, pk, MoratoriumEndForm, "End or cancel the Breathing Space",
                              lambda m, d: services.moratorium_end(moratorium=m, ended_on=d["ended_on"],
                                                                   reason=d["reason"], note=d["note"],
                                                                   actor=request.user))


@role_required(RELIEF_WRITERS)
def moratorium_review(request, pk: int):
    return _moratorium_action(request, pk, ReviewForm, "Ask the debt adviser for a review",
                              lambda m, d: services.moratorium_review_request(
                                  moratorium=m, requested_on=d["requested_on"], grounds=d["grounds"],
                                  outcome=d["outcome"], actor=request.user))


@role_required(RELIEF_WRITERS)
def moratorium_treatment(request, pk: int):
    return _moratorium_action(request, pk, TreatmentForm, "Record the end of crisis treatment",
                              lambda m, d: services.moratorium_treatment_ended(
                                  moratorium=m, treatment_ended_on=d["treatment_ended_on"], actor=request.user))


# Repayment plan pages --------------------------------------------------------------------------

PLAN_COLUMNS = [
    Column("Plan", lambda p: p.pk),
    Column("Client reference", lambda p: p.client.reference),
    Column("Client", lambda p: p.client.full_name),
    Column("Total", lambda p: p.total, kind=MONEY),
    Column("Instalment", lambda p: p.instalment_amount, kind=MONEY),
    Column("Frequency", lambda p: p.get_frequency_display()),
    Column("Start", lambda p: p.start_date),
    Column("Status", lambda p: p.get_status_display()),
    Column("Times broken", lambda p: p.times_broken),
]


@role_required(READERS)
def plan_list(request):
    status = request.GET.get("status", PlanStatus.ACTIVE)
    rows = RepaymentPlan.objects.select_related("client").order_by("start_date", "pk")
    if status in PlanStatus.values:
        rows = rows.filter(status=status)
    fmt = requested_format(request)
    if fmt:
        return personal_export_response(request, rows, PLAN_COLUMNS, "repayment-plans", fmt)
    plans = list(rows)
    log_record_views(request, plans)
    return render(request, "debt/relief/plan_list.html", {"plans": plans, "status": status,
                                                          "statuses": PlanStatus.choices})


@role_required(RELIEF_WRITERS)
def plan_create(request, client_pk: int):
    """One page: the SFS statement and the proposal. 'Check' shows the affordability check; 'Agree'
    saves the plan (refused if the instalments exceed the disposable income)."""
    client = get_object_or_404(Client, pk=client_pk)
    form = PlanForm(request.POST or None)
    check = None
    if request.method == "POST" and form.is_valid():
        check = services.assess(form.amounts(), form.cleaned_data["household_type"], timezone.localdate())
        if "check" not in request.POST:
            plan = handle(request, form, lambda d: services.plan_agree(
                client=client, household_type=d["household_type"], amounts=form.amounts(),
                instalment_amount=d["instalment_amount"], frequency=d["frequency"], start_date=d["start_date"],
                method=d["method"], notes=d["notes"], actor=request.user))
            if plan:
                messages.success(request, "Repayment plan agreed: the confirmation letter is being produced")
                return redirect("debt:plan_detail", pk=plan.pk)
    log_record_views(request, client)
    return render(request, "debt/relief/plan_create.html", {
        "client": client, "form": form, "check": check, "balance": services.outstanding_balance(client),
        "flagged": [(SfsCategory(c.category).label, c.amount, c.guideline) for c in check.flagged] if check else []})


@role_required(READERS)
def plan_detail(request, pk: int):
    plan = get_object_or_404(RepaymentPlan.objects.select_related("client", "statement"), pk=pk)
    today = timezone.localdate()
    log_record_views(request, plan)
    return render(request, "debt/relief/plan_detail.html", {
        "plan": plan, "instalments": services.plan_schedule(plan), "paid": services.paid_towards(plan, today),
        "payments": plan.client.payments.filter(received_on__gte=plan.start_date).order_by("received_on"),
        "misses": plan.misses.all(), "lines": plan.statement.lines.all() if plan.statement else [],
        "can_cancel": plan.status == PlanStatus.ACTIVE and has_any_role(request.user, RELIEF_WRITERS),
    })


@role_required(RELIEF_WRITERS)
def plan_cancel(request, pk: int):
    plan = get_object_or_404(RepaymentPlan, pk=pk)
    form = CancelForm(request.POST or None)
    if handle(request, form, lambda d: services.plan_transition(plan=plan, to_status=PlanStatus.CANCELLED,
                                                                reason=d["reason"], actor=request.user)):
        messages.success(request, "Plan cancelled: recovery resumes")
        return redirect("debt:plan_detail", pk=pk)
    log_record_views(request, plan)
    return _form_page(request, form, "Cancel the repayment plan", reverse("debt:plan_detail", args=[pk]))


def client_relief_panel(client: Client, request) -> dict:
    """Any active Breathing Space and repayment plan, on the client page."""
    today = timezone.localdate()
    return {"title": "Breathing Space and repayment plans", "template": "debt/relief/client_panel.html",
            "context": {"client": client, "moratorium": services.active_moratorium(client.pk, today),
                        "plan": client.repayment_plans.filter(status=PlanStatus.ACTIVE).first(),
                        "can_act": has_any_role(request.user, RELIEF_WRITERS)}}
