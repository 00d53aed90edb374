"""Deferred payment pages: the list with filters and exports, the agreement page an officer works
from, and one form page per action. Thin: each parses a form and calls one service."""
from datetime import date, timedelta
from decimal import Decimal

from crispy_forms_gds.fields import DateInputField
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm, MoneyField
from casework.models import Client, LedgerEntry, Team, TimelineEntry
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import READERS, Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from . import services, statements
from .models import (
    ALLOWED_TRANSITIONS,
    MONEY_STATES,
    Agreement,
    Alert,
    Compounding,
    Criterion,
    DayBasis,
    FeeKind,
    FeeTreatment,
    LegalCharge,
    Property,
    State,
    TerminationReason,
)
from .rates_today import rate_today
from .reference import rule_on

#: Who works agreements: deferred payment officers and team leaders.
DPA_WRITERS = frozenset({Role.DEFERRED_PAYMENT_OFFICER, Role.TEAM_LEADER})
PAGE_SIZE = 50
ONE_DAY = timedelta(days=1)


def _date(label: str, required: bool = True, help_text: str = "For example, 27 3 2026") -> DateInputField:
    return DateInputField(label=label, required=required, help_text=help_text, require_all_fields=False)


def _back(agreement: Agreement) -> str:
    return reverse("deferred_payments:agreement_detail", args=[agreement.pk])


def _form_page(request, form, title: str, agreement: Agreement | None = None, summary=None, back_url: str = ""):
    if agreement is not None:
        log_record_views(request, agreement)
    return render(request, "casework/form_page.html", {
        "form": form, "title": title, "caption": agreement.reference if agreement else "",
        "back_url": back_url or (_back(agreement) if agreement else reverse("deferred_payments:agreement_list")),
        "summary": summary})


# --- The list -------------------------------------------------------------------------------------------

FILTERS = {
    "nearing": "Nearing the equity limit",
    "unregistered": "Legal charge not registered",
    "death": "Due after death",
    "statements": "Statements overdue",
}


def _annotated(queryset):
    balance = Sum("account__entries__amount")
    return queryset.select_related("client", "case__assigned_officer").annotate(balance=balance)


def filtered_agreements(params, on: date):
    agreements = Agreement.objects.all()
    state = params.get("state", "")
    if state in State.values:
        agreements = agreements.filter(state=state)
    flag = params.get("flag", "")
    rule = rule_on(on)
    if flag == "nearing":
        agreements = agreements.filter(Exists(Alert.objects.filter(agreement=OuterRef("pk"), cleared_on__isnull=True,
                                                                   kind__in=["nearing_limit", "limit_reached"])))
    elif flag == "unregistered":
        late = on - timedelta(days=rule.charge_registration_days)
        agreements = agreements.filter(Exists(LegalCharge.objects.filter(
            agreement=OuterRef("pk"), sent_on__lte=late, registered_on__isnull=True)))
    elif flag == "death":
        agreements = agreements.filter(state=State.TERMINATED, termination_reason=TerminationReason.DEATH,
                                       repaid_on__isnull=True)
    elif flag == "statements":
        agreements = agreements.filter(statements.overdue_filter(on))
    return _annotated(agreements).order_by("-id"), state, flag


LIST_COLUMNS = [
    Column("Reference", lambda a: a.reference),
    Column("Client reference", lambda a: a.client.reference),
    Column("Client", lambda a: a.client.full_name),
    Column("State", lambda a: a.get_state_display()),
    Column("Ended because", lambda a: a.get_termination_reason_display()),
    Column("Care home", lambda a: a.care_home),
    Column("Weekly deferral", lambda a: a.weekly_deferral, kind=MONEY),
    Column("Start date", lambda a: a.start_date),
    Column("Due date", lambda a: a.due_date),
    Column("Balance", lambda a: to_pennies(a.balance), kind=MONEY),
    Column("Officer", lambda a: a.case.assigned_officer.get_full_name() if a.case.assigned_officer else ""),
]


@role_required(READERS)
def agreement_list(request):
    today = timezone.localdate()
    agreements, state, flag = filtered_agreements(request.GET, today)
    if fmt := requested_format(request):
        return personal_export_response(request, agreements, LIST_COLUMNS, "deferred-payment-agreements", fmt)
    page = Paginator(agreements, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)
    return render(request, "deferred_payments/agreement_list.html", {
        "page_obj": page,
        "states": State.choices, "selected_state": state, "flags": FILTERS.items(), "selected_flag": flag,
        "can_write": has_any_role(request.user, DPA_WRITERS)})


# --- The agreement page ---------------------------------------------------------------------------------


def _chart(agreement: Agreement, limit: Decimal) -> dict | None:
    """The deferred total at each month end against the equity limit, as SVG points."""
    if not agreement.account_id:
        return None
    entries = list(LedgerEntry.objects.filter(account_id=agreement.account_id).order_by("effective_date", "id")
                   .values_list("effective_date", "amount"))
    if not entries:
        return None
    points = []
    total = ZERO
    index = 0
    month = entries[0][0].replace(day=1)
    today = timezone.localdate()
    while month <= today and len(points) < 120:
        next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        while index < len(entries) and entries[index][0] < next_month:
            total += entries[index][1]
            index += 1
        points.append((next_month - ONE_DAY, total))
        month = next_month
    top = max([limit] + [p[1] for p in points]) or Decimal(1)
    width, height = 600, 200
    step = width / max(len(points) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{height - float(v / top) * height:.1f}" for i, (_, v) in enumerate(points))
    limit_y = height - float(limit / top) * height
    return {"points": coords, "limit_y": f"{limit_y:.1f}", "width": width, "height": height,
            "first": points[0][0], "last": points[-1][0], "last_total": points[-1][1], "limit": limit,
            "rows": points[-12:]}


def _actions(agreement: Agreement, user) -> list[tuple[str, str]]:
    if not has_any_role(user, DPA_WRITERS):
        return []
    url = lambda name: reverse(f"deferred_payments:{name}", args=[agreement.pk])  # noqa: E731
    actions = []
    state = agreement.state
    if state in (State.ENQUIRY, State.APPLICATION):
        actions.append(("Record an eligibility check", url("eligibility")))
        if services.failed_checks(agreement):
            actions.append(("Refuse the application", url("refuse")))
    if state not in (State.TERMINATED, State.REPAID):
        actions.append(("Change the terms", url("terms")))
        actions.append(("Record the property" if not hasattr(agreement, "property") else "Change the property",
                        url("property")))
    if hasattr(agreement, "property") and state not in (State.REPAID,):
        actions.append(("Add a valuation", url("valuation")))
        actions.append(("Add an existing charge", url("existing_charge")))
    if state in (State.SIGNED, State.LEGAL_CHARGE_PENDING, State.TERMINATED) or (
            state in MONEY_STATES and hasattr(agreement, "legal_charge")):
        actions.append(("Record a legal charge step", url("legal_charge")))
    if ALLOWED_TRANSITIONS.get(state):
        actions.append(("Change the state", url("transition")))
    if state in MONEY_STATES:
        actions += [("Charge a fee", url("fee")), ("Redemption statement", url("redemption")),
                    ("Record a repayment", url("repayment")), ("Send a statement now", url("statement"))]
    if state in (State.ACTIVE, State.SUSPENDED):
        actions.append(("End the agreement (sale or death)", url("terminate")))
    return actions


@role_required(READERS)
def agreement_detail(request, pk: int):
    agreement = get_object_or_404(Agreement.objects.select_related("client", "case", "account", "recovery_case"), pk=pk)
    today = timezone.localdate()
    prop = Property.objects.filter(agreement=agreement).first()
    position = services.equity_position(agreement, today)
    checks = services.latest_checks(agreement)
    entries = (LedgerEntry.objects.filter(account_id=agreement.account_id).order_by("-effective_date", "-id")
               if agreement.account_id else LedgerEntry.objects.none())
    redemption = None
    if agreement.account_id:
        principal, interest = services.redemption(agreement, today + ONE_DAY)
        posted = services.agreement_balance(agreement, today)
        redemption = {"posted": posted, "accrued": principal + interest - posted, "total": principal + interest}
    from .money_views import fee_rows, ledger_rows

    fees = fee_rows(agreement, request.user)
    log_record_views(request, agreement)
    return render(request, "deferred_payments/agreement_detail.html", {
        "agreement": agreement, "client": agreement.client, "property": prop,
        "valuations": prop.valuations.all() if prop else [],
        "existing_charges": prop.existing_charges.all() if prop else [],
        "legal_charge": LegalCharge.objects.filter(agreement=agreement).first(),
        "position": position, "chart": _chart(agreement, position.limit), "redemption": redemption,
        "checks": [(label, checks.get(code)) for code, label in Criterion.choices],
        "entries": ledger_rows(agreement, list(entries[:100]), fees, request.user), "fees": fees,
        "statements": agreement.statements.select_related("letter"),
        "alerts": agreement.alerts.filter(cleared_on__isnull=True),
        "rate_today": rate_today(today),
        "timeline": TimelineEntry.objects.filter(case=agreement.case).select_related("actor")[:50],
        "actions": _actions(agreement, request.user), "today": today})


def client_panel(client: Client, request):
    """The client page's panel: their agreements and the link to start one."""
    if not has_any_role(request.user, READERS):
        return None
    agreements = list(_annotated(Agreement.objects.filter(client=client)).order_by("-id"))
    can_start = has_any_role(request.user, DPA_WRITERS) and not client.is_deceased and not any(
        a.state not in (State.TERMINATED, State.REPAID) for a in agreements)
    if not agreements and not can_start:
        return None
    return {"title": "Deferred payments", "template": "deferred_payments/client_panel.html",
            "context": {"client": client, "agreements": agreements, "can_start": can_start}}


# --- Forms and actions ----------------------------------------------------------------------------------


class CreateForm(GovForm):
    submit_label = "Record the enquiry"
    enquiry_on = _date("Date of the enquiry")
    care_home = forms.CharField(label="Care home", max_length=200, required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label=None)


@role_required(DPA_WRITERS)
def agreement_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    form = CreateForm(request.POST or None, initial={"enquiry_on": timezone.localdate(),
                                                     "team": Team.objects.filter(name="Deferred payments").first()})
    created = handle(request, form, lambda d: services.agreement_create(
        client=client, team=d["team"], actor=request.user, enquiry_on=d["enquiry_on"], care_home=d["care_home"]))
    if created:
        messages.success(request, f"Agreement {created.reference} opened as an enquiry")
        return redirect(_back(created))
    log_record_views(request, client)
    return _form_page(request, form, f"Deferred payment enquiry for {client.full_name}",
                      back_url=reverse("casework:client_detail", args=[client.pk]),
                      summary=[("Client", f"{client.full_name} ({client.reference})")])


def _agreement(pk: int) -> Agreement:
    return get_object_or_404(Agreement.objects.select_related("client", "case", "account"), pk=pk)


def _done(request, agreement: Agreement, message: str):
    messages.success(request, message)
    return redirect(_back(agreement))


class TransitionForm(GovForm):
    submit_label = "Change the state"
    to_state = forms.ChoiceField(label="New state", widget=forms.RadioSelect)
    on = _date("Date")
    termination_reason = forms.ChoiceField(label="If it ends, why", required=False,
                                           choices=[("", "Not ending")] + [c for c in TerminationReason.choices
                                                                           if c[0] != TerminationReason.DEATH])
    start_date = _date("First day of deferral (when it becomes active)", required=False)
    reason = forms.CharField(label="Reason or note", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, agreement: Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [(s, State(s).label) for s in State.values
                                           if s in ALLOWED_TRANSITIONS[agreement.state]]


@role_required(DPA_WRITERS)
def agreement_transition(request, pk: int):
    agreement = _agreement(pk)
    if not ALLOWED_TRANSITIONS.get(agreement.state):
        messages.error(request, f"{agreement.reference} is {agreement.get_state_display().lower()}: it cannot change")
        return redirect(_back(agreement))
    form = TransitionForm(request.POST or None, agreement=agreement, initial={"on": timezone.localdate()})
    done = handle(request, form, lambda d: services.agreement_transition(
        agreement=agreement, to_state=d["to_state"], actor=request.user, on=d["on"], reason=d["reason"],
        termination_reason=d["termination_reason"], start_date=d["start_date"]))
    if done:
        return _done(request, done, f"{done.reference} is now {done.get_state_display().lower()}")
    return _form_page(request, form, "Change the state", agreement,
                      summary=[("Now", agreement.get_state_display())])


class TermsForm(GovForm):
    submit_label = "Save the terms"
    care_home = forms.CharField(label="Care home", max_length=200, required=False)
    weekly_care_cost = MoneyField(label="Weekly care cost the council pays")
    weekly_contribution = MoneyField(label="The person's assessed weekly contribution")
    weekly_top_up = MoneyField(label="Weekly top-up being deferred", required=False)
    compounding = forms.ChoiceField(label="Interest compounds", choices=Compounding.choices, widget=forms.RadioSelect)
    day_basis = forms.ChoiceField(label="Daily rate basis", choices=DayBasis.choices, widget=forms.RadioSelect)
    fee_treatment = forms.ChoiceField(label="Administration fees are", choices=FeeTreatment.choices,
                                      widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason for the change", max_length=300, required=False)


@role_required(DPA_WRITERS)
def agreement_terms(request, pk: int):
    agreement = _agreement(pk)
    initial = {name: getattr(agreement, name) for name in services.TERM_FIELDS}
    form = TermsForm(request.POST or None, initial=initial)

    def save(d):
        reason = d.pop("reason")
        d["weekly_top_up"] = d["weekly_top_up"] or ZERO
        return services.agreement_update_terms(agreement=agreement, actor=request.user, reason=reason, **d)

    done = handle(request, form, save)
    if done:
        return _done(request, done, f"Terms saved: {format_pounds(done.weekly_deferral)} deferred a week")
    return _form_page(request, form, "Terms of the agreement", agreement)


class EligibilityForm(GovForm):
    submit_label = "Record the check"
    criterion = forms.ChoiceField(label="What was checked", choices=Criterion.choices, widget=forms.RadioSelect)
    met = forms.TypedChoiceField(label="Outcome", choices=[("yes", "Met"), ("no", "Not met")],
                                 coerce=lambda v: v == "yes", widget=forms.RadioSelect)
    evidence = forms.CharField(label="Evidence seen", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    capital_amount = MoneyField(label="Capital other than the home (for the capital check)", required=False)
    checked_on = _date("Date checked")


@role_required(DPA_WRITERS)
def eligibility(request, pk: int):
    agreement = _agreement(pk)
    form = EligibilityForm(request.POST or None, initial={"checked_on": timezone.localdate()})
    done = handle(request, form, lambda d: services.eligibility_record(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, f"{done.get_criterion_display()}: {'met' if done.met else 'not met'}")
    return _form_page(request, form, "Record an eligibility check", agreement)


class ConfirmForm(GovForm):
    confirm = forms.BooleanField(label="I confirm", required=True)

    def __init__(self, *args, submit_label: str, confirm_label: str, **kwargs):
        self.submit_label = submit_label
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = confirm_label


@role_required(DPA_WRITERS)
def refuse(request, pk: int):
    agreement = _agreement(pk)
    failed = services.failed_checks(agreement)
    form = ConfirmForm(request.POST or None, submit_label="Refuse and send the letter",
                       confirm_label="Send the refusal letter with these reasons")
    done = handle(request, form, lambda d: services.eligibility_refuse(agreement=agreement, actor=request.user))
    if done:
        return _done(request, agreement, f"Refused: letter {done.reference} sent to {done.recipient_name}")
    return _form_page(request, form, "Refuse the application", agreement,
                      summary=[(c.get_criterion_display(), c.evidence) for c in failed] or [("Failed checks", "None")])


class PropertyForm(GovForm):
    submit_label = "Save the property"
    address_line_1 = forms.CharField(label="Address line 1", max_length=200)
    address_line_2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(max_length=8, widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    title_number = forms.CharField(label="Land Registry title number", max_length=20,
                                   widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    share_percent = forms.DecimalField(label="Share owned (per cent)", max_digits=7, decimal_places=4,
                                       min_value=Decimal("0.0001"), max_value=Decimal(100),
                                       widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                                     "class": "govuk-input--width-5"}))


@role_required(DPA_WRITERS)
def property_edit(request, pk: int):
    agreement = _agreement(pk)
    prop = Property.objects.filter(agreement=agreement).first()
    initial = {"share_percent": Decimal(100)}
    if prop:
        initial = {f: getattr(prop, f) for f in PropertyForm.base_fields}
    form = PropertyForm(request.POST or None, initial=initial)
    done = handle(request, form, lambda d: services.property_save(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, "Property saved")
    return _form_page(request, form, "The property", agreement)


class ValuationForm(GovForm):
    submit_label = "Add the valuation"
    valued_on = _date("Date of the valuation")
    value = MoneyField(label="Value of the whole property")
    valuer = forms.CharField(label="Valuer", max_length=200)


@role_required(DPA_WRITERS)
def valuation(request, pk: int):
    agreement = _agreement(pk)
    form = ValuationForm(request.POST or None)
    done = handle(request, form, lambda d: services.valuation_add(agreement=agreement, actor=request.user, **d))
    if done:
        limit = services.equity_position(agreement, timezone.localdate()).limit
        return _done(request, agreement, f"Valuation added: the equity limit is now {format_pounds(limit)}")
    return _form_page(request, form, "Add a valuation", agreement)


class ExistingChargeForm(GovForm):
    submit_label = "Add the charge"
    lender = forms.CharField(max_length=200)
    amount = MoneyField(label="Amount secured against the person's share")
    as_at = _date("Amount as at")


@role_required(DPA_WRITERS)
def existing_charge(request, pk: int):
    agreement = _agreement(pk)
    form = ExistingChargeForm(request.POST or None)
    done = handle(request, form, lambda d: services.existing_charge_add(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, f"Existing charge of {format_pounds(done.amount)} recorded")
    return _form_page(request, form, "Add an existing charge", agreement)


class LegalChargeForm(GovForm):
    submit_label = "Record the step"
    step = forms.ChoiceField(label="Step", widget=forms.RadioSelect, choices=[
        ("sent", "Sent to HM Land Registry"), ("registered", "Registered"),
        ("removal_requested", "Removal requested"), ("removed", "Removed")])
    on = _date("Date")
    reference = forms.CharField(label="Land Registry reference (when registered)", max_length=60, required=False)
    first_charge = forms.BooleanField(label="It is a first legal charge", required=False, initial=True)


@role_required(DPA_WRITERS)
def legal_charge(request, pk: int):
    agreement = _agreement(pk)
    form = LegalChargeForm(request.POST or None, initial={"on": timezone.localdate()})
    done = handle(request, form, lambda d: services.legal_charge_record(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, "Legal charge step recorded")
    return _form_page(request, form, "Record a legal charge step", agreement)


class FeeForm(GovForm):
    submit_label = "Charge the fee"
    kind = forms.ChoiceField(label="Fee", choices=FeeKind.choices, widget=forms.RadioSelect)
    on = _date("Date charged")
    amount = MoneyField(label="Amount (leave blank for the fee in force)", required=False)
    treatment = forms.ChoiceField(label="How it is paid", choices=FeeTreatment.choices, widget=forms.RadioSelect)


@role_required(DPA_WRITERS)
def fee(request, pk: int):
    agreement = _agreement(pk)
    form = FeeForm(request.POST or None, initial={"on": timezone.localdate(), "treatment": agreement.fee_treatment})
    done = handle(request, form, lambda d: services.fee_charge(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, f"{done.get_kind_display()} fee of {format_pounds(done.amount)} charged")
    return _form_page(request, form, "Charge a fee", agreement)


class TerminateForm(GovForm):
    submit_label = "End the agreement"
    reason = forms.ChoiceField(label="Why it ends", widget=forms.RadioSelect, choices=[
        (TerminationReason.SALE, "The property is sold"), (TerminationReason.DEATH, "Death (recorded on the client)"),
        (TerminationReason.OTHER, "Another reason")])
    on = _date("Date it ends (for a death, the date of death on the client's record is used)")
    note = forms.CharField(label="Note", max_length=300, required=False)


@role_required(DPA_WRITERS)
def terminate(request, pk: int):
    agreement = _agreement(pk)
    form = TerminateForm(request.POST or None, initial={"on": timezone.localdate()})
    done = handle(request, form, lambda d: services.agreement_terminate(agreement=agreement, actor=request.user, **d))
    if done:
        due = f"; the debt is due on {done.due_date:%-d %B %Y}" if done.due_date else ""
        return _done(request, done, f"{done.reference} ended ({done.get_termination_reason_display().lower()}){due}")
    return _form_page(request, form, "End the agreement", agreement)


class RedemptionForm(GovForm):
    submit_label = "Produce the redemption statement"
    on = _date("Date the debt will be repaid")


@role_required(DPA_WRITERS)
def redemption(request, pk: int):
    agreement = _agreement(pk)
    form = RedemptionForm(request.POST or None, initial={"on": timezone.localdate()})
    done = handle(request, form, lambda d: statements.redemption_statement(agreement=agreement, actor=request.user,
                                                                          on=d["on"]))
    if done:
        return _done(request, agreement, f"Redemption statement sent: {format_pounds(Decimal(done.figures['total']))} "
                                         f"repays the debt on {date.fromisoformat(done.figures['on']):%-d %B %Y}")
    return _form_page(request, form, "Redemption statement", agreement)


class RepaymentForm(GovForm):
    submit_label = "Record the repayment"
    amount = MoneyField(label="Amount received")
    on = _date("Date received")
    reference = forms.CharField(label="Payment reference", max_length=60, required=False)


@role_required(DPA_WRITERS)
def repayment(request, pk: int):
    agreement = _agreement(pk)
    form = RepaymentForm(request.POST or None, initial={"on": timezone.localdate()})
    summary = None
    if agreement.account_id:
        figures = services.redemption(agreement, timezone.localdate())
        summary = [("Owed today", format_pounds(sum(figures)))]
    done = handle(request, form, lambda d: services.repayment_record(agreement=agreement, actor=request.user, **d))
    if done:
        return _done(request, agreement, f"Repayment of {format_pounds(-done.amount)} recorded")
    return _form_page(request, form, "Record a repayment", agreement, summary=summary)


@role_required(DPA_WRITERS)
def statement(request, pk: int):
    agreement = _agreement(pk)
    form = ConfirmForm(request.POST or None, submit_label="Send the statement",
                       confirm_label="Send a statement to the person or their representative now")
    done = handle(request, form, lambda d: statements.statement_on_request(agreement=agreement, actor=request.user))
    if done:
        return _done(request, agreement, f"Statement sent: letter {done.letter.reference}")
    return _form_page(request, form, "Send a statement on request", agreement)



