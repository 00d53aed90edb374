"""Every change to a deferred payment agreement goes through a function here. Each runs in one
transaction and records what changed, who and why on the agreement's case timeline.

The agreement's state changes only through `agreement_transition`, which checks ALLOWED_TRANSITIONS
and the guards each state needs (evidence, valuation, legal charge, balance).
"""
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from casework.constants import AccountKind, CaseType, EntryKind, TimelineKind
from casework.models import Client, LedgerEntry, Team, TimelineEntry
from casework.models.controls import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.services import DomainError, account_for_client, case_create, ledger_post, ledger_reverse
from casework.services.cases import is_assignable
from casework.services.controls import (
    control_request_raise,
    money_action_record,
    register_control,
    why_cannot_do_alone,
)

from . import interest as engine
from .models import (
    EARLY_REASONS,
    MONEY_STATES,
    Agreement,
    Alert,
    AlertKind,
    Criterion,
    DeferralPosting,
    EligibilityCheck,
    ExistingCharge,
    FeeKind,
    FeePosting,
    FeeTreatment,
    FeeWaiver,
    InterestPosting,
    LegalCharge,
    Property,
    State,
    TerminationReason,
    Valuation,
)
from .reference import RateTable, capital_limits_on, fee_on, rule_on

ONE_DAY = timedelta(days=1)
WEEK = 7


# --- Recording --------------------------------------------------------------------------------------


def _record(agreement: Agreement, *, action: str, summary: str, actor, kind: str = TimelineKind.SYSTEM,
            body: str = "", old=None, new=None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        client_id=agreement.client_id, case_id=agreement.case_id, kind=kind, action=f"dpa.{action}",
        summary=f"{agreement.reference}: {summary}"[:300], body=body, old_value=old, new_value=new, actor=actor,
        occurred_at=timezone.now())


def _locked(agreement: Agreement) -> Agreement:
    return Agreement.objects.select_for_update(of=("self",)).select_related("client", "case", "account").get(pk=agreement.pk)


def _iso(value):
    return value.isoformat() if isinstance(value, date) else (str(value) if isinstance(value, Decimal) else value)


@transaction.atomic
def agreement_create(*, client: Client, team: Team, actor, enquiry_on: date, care_home: str = "",
                     assigned_officer=None) -> Agreement:
    """Record an enquiry: opens a deferred payment case for the client and the agreement on it."""
    if client.is_deceased:
        raise DomainError(f"{client.full_name} has died: a deferred payment agreement cannot be opened")
    open_states = [s for s in State.values if s not in (State.TERMINATED, State.REPAID)]
    existing = Agreement.objects.filter(client=client, state__in=open_states).first()
    if existing:
        raise DomainError(f"{client.full_name} already has agreement {existing.reference} ({existing.get_state_display().lower()})")
    if enquiry_on > timezone.localdate():
        raise DomainError("The enquiry date cannot be in the future", field="enquiry_on")
    # The officer who records the enquiry holds the case; one from another system goes to the team queue.
    case = case_create(client=client, case_type=CaseType.DEFERRED_PAYMENT, title="Deferred payment agreement",
                       team=team, actor=actor,
                       assigned_officer=assigned_officer or (actor if is_assignable(actor) else None))
    agreement = Agreement.objects.create(client=client, case=case, enquiry_on=enquiry_on, care_home=care_home.strip(),
                                         created_by=actor)
    _record(agreement, action="created", kind=TimelineKind.STATUS, actor=actor,
            summary=f"Enquiry recorded on {enquiry_on:%-d %B %Y}", new={"state": State.ENQUIRY})
    return agreement


TERM_FIELDS = ("care_home", "weekly_care_cost", "weekly_contribution", "weekly_top_up", "compounding", "day_basis",
               "fee_treatment")


@transaction.atomic
def agreement_update_terms(*, agreement: Agreement, actor, reason: str = "", **terms) -> Agreement:
    """Change the care home, weekly amounts or the interest basis. Once the agreement is signed the
    interest basis is fixed and a change of weekly amounts needs a reason."""
    agreement = _locked(agreement)
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}")
    for name in ("weekly_care_cost", "weekly_contribution", "weekly_top_up"):
        if name in terms:
            terms[name] = to_pennies(terms[name])
            if terms[name] < 0:
                raise DomainError("Enter an amount of zero or more", field=name)
    signed = agreement.state not in (State.ENQUIRY, State.APPLICATION, State.ELIGIBILITY_CHECKED, State.OFFERED)
    if agreement.state in (State.TERMINATED, State.REPAID):
        raise DomainError(f"{agreement.reference} has ended: its terms cannot change")
    old = {k: _iso(getattr(agreement, k)) for k in terms}
    changed = {k: v for k, v in terms.items() if getattr(agreement, k) != v}
    if not changed:
        return agreement
    if signed and ({"compounding", "day_basis"} & set(changed)):
        raise DomainError("The interest basis is part of the signed agreement and cannot change", field="compounding")
    if signed and not reason.strip():
        raise DomainError("Give a reason for changing a signed agreement", field="reason")
    for k, v in changed.items():
        setattr(agreement, k, v)
    if agreement.weekly_care_cost and agreement.weekly_deferral < 0:
        raise DomainError("The contribution cannot be more than the care cost plus the top-up", field="weekly_contribution")
    agreement.save()
    _record(agreement, action="terms.changed", actor=actor, body=reason.strip(),
            summary="Terms changed: " + ", ".join(k.replace("_", " ") for k in changed),
            old={k: old[k] for k in changed}, new={k: _iso(v) for k, v in changed.items()})
    return agreement


# --- Eligibility -----------------------------------------------------------------------------------


def latest_checks(agreement: Agreement) -> dict[str, EligibilityCheck]:
    latest: dict[str, EligibilityCheck] = {}
    for check in agreement.checks.order_by("recorded_at", "id"):
        latest[check.criterion] = check
    return latest


def failed_checks(agreement: Agreement) -> list[EligibilityCheck]:
    return [c for c in latest_checks(agreement).values() if not c.met]


@transaction.atomic
def eligibility_record(*, agreement: Agreement, criterion: str, met: bool, evidence: str, checked_on: date, actor,
                       capital_amount: Decimal | None = None) -> EligibilityCheck:
    """Record one criterion's check with its evidence (DP-01, DP-03). The capital check compares
    the amount with the upper capital limit in force; it cannot be recorded as met above it."""
    agreement = _locked(agreement)
    if agreement.state not in (State.ENQUIRY, State.APPLICATION):
        raise DomainError(f"Eligibility is checked before the offer; {agreement.reference} is "
                          f"{agreement.get_state_display().lower()}")
    if criterion not in Criterion.values:
        raise DomainError("Choose what was checked", field="criterion")
    if not evidence.strip():
        raise DomainError("Say what evidence was seen", field="evidence")
    if checked_on > timezone.localdate():
        raise DomainError("The date checked cannot be in the future", field="checked_on")
    if criterion == Criterion.CAPITAL:
        if capital_amount is None:
            raise DomainError("Enter the capital other than the home", field="capital_amount")
        limits = capital_limits_on(checked_on)
        above = to_pennies(capital_amount) > limits.upper_limit
        if met and above:
            raise DomainError(f"£{capital_amount:,.2f} is above the upper capital limit of £{limits.upper_limit:,.2f}",
                              field="met")
    check = EligibilityCheck.objects.create(agreement=agreement, criterion=criterion, met=met, evidence=evidence.strip(),
                                            capital_amount=capital_amount, checked_on=checked_on, checked_by=actor)
    _record(agreement, action="eligibility.recorded", kind=TimelineKind.NOTE, actor=actor, body=evidence.strip(),
            summary=f"{Criterion(criterion).label}: {'met' if met else 'NOT met'}",
            new={"criterion": criterion, "met": met, "capital_amount": _iso(capital_amount)})
    return check


@transaction.atomic
def eligibility_refuse(*, agreement: Agreement, actor, on: date | None = None):
    """Refuse the application for the failed checks: a refusal letter with the reasons and the
    right to ask for a review, and the agreement ends as refused."""
    from casework.letters.services import letter_produce

    from .letters import REFUSAL_LETTER

    on = on or timezone.localdate()
    failed = failed_checks(agreement)
    if not failed:
        raise DomainError("No check has failed: there is no reason to refuse")
    letter = letter_produce(client=agreement.client, letter_type=REFUSAL_LETTER, on=on, actor=actor, case=agreement.case,
                            context=_refusal_context(agreement, failed, on))
    reasons = "; ".join(f"{Criterion(c.criterion).label}: {c.evidence}" for c in failed)
    agreement_transition(agreement=agreement, to_state=State.TERMINATED, actor=actor, on=on,
                         termination_reason=TerminationReason.REFUSED, reason=f"Refused: {reasons}")
    return letter


def _refusal_context(agreement: Agreement, failed, on: date) -> dict:
    from casework.letters.types import get_letter_type

    from .letters import REFUSAL_LETTER

    return get_letter_type(REFUSAL_LETTER).build_context(agreement.client, on, agreement=agreement, failed=failed)


# --- Property, valuations, charges -----------------------------------------------------------------


@transaction.atomic
def property_save(*, agreement: Agreement, actor, address_line_1: str, postcode: str, title_number: str,
                  share_percent: Decimal, address_line_2: str = "", town: str = "") -> Property:
    agreement = _locked(agreement)
    if agreement.state in (State.TERMINATED, State.REPAID):
        raise DomainError(f"{agreement.reference} has ended")
    share = Decimal(share_percent)
    if not (0 < share <= 100):
        raise DomainError("The share owned must be more than 0% and no more than 100%", field="share_percent")
    if not title_number.strip():
        raise DomainError("Enter the Land Registry title number", field="title_number")
    values = {"address_line_1": address_line_1.strip(), "address_line_2": address_line_2.strip(), "town": town.strip(),
              "postcode": postcode.strip().upper(), "title_number": title_number.strip().upper(), "share_percent": share}
    prop = Property.objects.filter(agreement=agreement).first()
    old = {k: _iso(getattr(prop, k)) for k in values} if prop else None
    if prop is None:
        prop = Property.objects.create(agreement=agreement, **values)
    else:
        for k, v in values.items():
            setattr(prop, k, v)
        prop.save()
    _record(agreement, action="property.saved", actor=actor,
            summary=f"Property recorded: {prop}, title {prop.title_number}, {share.normalize()}% owned",
            old=old, new={k: _iso(v) for k, v in values.items()})
    return prop


def _property(agreement: Agreement) -> Property:
    prop = Property.objects.filter(agreement=agreement).first()
    if prop is None:
        raise DomainError("Record the property first", field="property")
    return prop


@transaction.atomic
def valuation_add(*, agreement: Agreement, valued_on: date, value: Decimal, valuer: str, actor) -> Valuation:
    """Add a valuation; the equity limit is recomputed from it (and alerts checked at once)."""
    agreement = _locked(agreement)
    prop = _property(agreement)
    if valued_on > timezone.localdate():
        raise DomainError("The valuation date cannot be in the future", field="valued_on")
    value = to_pennies(value)
    if value <= 0:
        raise DomainError("Enter the value in pounds", field="value")
    if not valuer.strip():
        raise DomainError("Say who valued the property", field="valuer")
    before = equity_position(agreement, timezone.localdate()) if prop.valuations.exists() else None
    valuation = Valuation.objects.create(property=prop, valued_on=valued_on, value=value, valuer=valuer.strip(),
                                         recorded_by=actor)
    after = equity_position(agreement, timezone.localdate())
    _record(agreement, action="valuation.added", actor=actor,
            summary=f"Valuation of £{value:,.2f} on {valued_on:%-d %B %Y} by {valuer.strip()}: equity limit "
                    f"£{after.limit:,.2f}",
            old={"equity_limit": _iso(before.limit)} if before else None,
            new={"valuation": valuation.pk, "value": _iso(value), "equity_limit": _iso(after.limit)})
    if not after.nearing:
        # A higher valuation answers the earlier alerts.
        Alert.objects.filter(agreement=agreement, kind__in=[AlertKind.NEARING_LIMIT, AlertKind.LIMIT_REACHED],
                             cleared_on__isnull=True).update(cleared_on=timezone.localdate())
    if agreement.state in MONEY_STATES:
        alerts_check(agreement, after, timezone.localdate())
    return valuation


@transaction.atomic
def existing_charge_add(*, agreement: Agreement, lender: str, amount: Decimal, as_at: date, actor) -> ExistingCharge:
    agreement = _locked(agreement)
    prop = _property(agreement)
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter the amount secured", field="amount")
    if not lender.strip():
        raise DomainError("Enter the lender", field="lender")
    charge = ExistingCharge.objects.create(property=prop, lender=lender.strip(), amount=amount, as_at=as_at,
                                           recorded_by=actor)
    _record(agreement, action="existing_charge.added", actor=actor,
            summary=f"Existing charge recorded: {charge.lender}, £{amount:,.2f} as at {as_at:%-d %B %Y}",
            new={"lender": charge.lender, "amount": _iso(amount)})
    return charge


LEGAL_STEPS = {
    "sent": ("sent_on", "Legal charge sent to HM Land Registry"),
    "registered": ("registered_on", "Legal charge registered"),
    "removal_requested": ("removal_requested_on", "Removal of the legal charge requested"),
    "removed": ("removed_on", "Legal charge removed"),
}


@transaction.atomic
def legal_charge_record(*, agreement: Agreement, step: str, on: date, actor, reference: str = "",
                        first_charge: bool = True) -> LegalCharge:
    """Record one step of the legal charge: sent, registered (with the Land Registry reference),
    removal requested, removed. Steps happen in order and dates never run backwards."""
    agreement = _locked(agreement)
    if step not in LEGAL_STEPS:
        raise DomainError("Choose a step", field="step")
    if on > timezone.localdate():
        raise DomainError("The date cannot be in the future", field="on")
    charge, _ = LegalCharge.objects.get_or_create(agreement=agreement)
    order = list(LEGAL_STEPS)
    index = order.index(step)
    if index > 0:
        previous = getattr(charge, LEGAL_STEPS[order[index - 1]][0])
        if previous is None:
            raise DomainError(f"Record that the charge was {order[index - 1].replace('_', ' ')} first", field="step")
        if on < previous:
            raise DomainError(f"The date cannot be before {previous:%-d %B %Y}", field="on")
    field_name, label = LEGAL_STEPS[step]
    if getattr(charge, field_name) is not None:
        raise DomainError(f"{label} on {getattr(charge, field_name):%-d %B %Y} is already recorded", field="step")
    if step == "sent" and agreement.state not in (State.SIGNED, State.LEGAL_CHARGE_PENDING):
        raise DomainError("The legal charge is sent once the agreement is signed", field="step")
    if step == "registered" and not reference.strip():
        raise DomainError("Enter the Land Registry reference", field="reference")
    if step == "removed" and agreement_balance(agreement) != 0:
        raise DomainError("The charge can be removed only once the debt is repaid in full", field="step")
    setattr(charge, field_name, on)
    if step == "registered":
        charge.reference = reference.strip()
        charge.first_charge = first_charge
    charge.save()
    _record(agreement, action=f"legal_charge.{step}", actor=actor,
            summary=f"{label} on {on:%-d %B %Y}{f' (reference {charge.reference})' if step == 'registered' else ''}",
            new={field_name: on.isoformat(), "reference": charge.reference})
    if step == "sent" and agreement.state == State.SIGNED:
        agreement_transition(agreement=agreement, to_state=State.LEGAL_CHARGE_PENDING, actor=actor, on=on)
    if step == "removed" and agreement.state == State.TERMINATED:
        agreement_transition(agreement=agreement, to_state=State.REPAID, actor=actor, on=on)
    return charge


# --- Equity ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EquityPosition:
    """The equity limit and where the agreement stands against it (DP-04, WE-4)."""

    on: date
    valuation: Valuation | None
    value: Decimal
    share_percent: Decimal
    share_value: Decimal
    value_percent: Decimal
    lendable: Decimal
    lower_capital_limit: Decimal
    existing_charges: Decimal
    limit: Decimal
    total_owed: Decimal
    headroom: Decimal
    weekly_deferral: Decimal
    projected_date: date | None
    alert_percent: Decimal

    @property
    def percent_used(self) -> Decimal:
        return (self.total_owed * 100 / self.limit).quantize(Decimal("0.1")) if self.limit > 0 else Decimal(100)

    @property
    def nearing(self) -> bool:
        return self.limit <= 0 or self.total_owed * 100 >= self.limit * self.alert_percent


def equity_limit(*, value: Decimal, share_percent: Decimal, value_percent: Decimal, lower_capital_limit: Decimal,
                 existing_charges: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(share value, lendable share, equity limit): value × share × 90% − the lower capital limit −
    existing charges, never below zero (WE-4: £250,000 with a £20,000 mortgage gives £190,750)."""
    share_value = to_pennies(Decimal(value) * Decimal(share_percent) / 100)
    lendable = to_pennies(share_value * Decimal(value_percent) / 100)
    limit = max(ZERO, lendable - to_pennies(lower_capital_limit) - to_pennies(existing_charges))
    return share_value, lendable, limit


def equity_position(agreement: Agreement, on: date, *, total_owed: Decimal | None = None) -> EquityPosition:
    prop = Property.objects.filter(agreement=agreement).first()
    valuation = prop.valuations.filter(valued_on__lte=on).order_by("-valued_on", "-id").first() if prop else None
    rule = rule_on(on)
    lcl = capital_limits_on(on).lower_limit
    charges = to_pennies(prop.existing_charges.filter(as_at__lte=on).exclude(ended_on__lte=on)
                         .aggregate(t=Sum("amount"))["t"]) if prop else ZERO
    value = valuation.value if valuation else ZERO
    share = prop.share_percent if prop else Decimal(100)
    share_value, lendable, limit = equity_limit(value=value, share_percent=share, value_percent=rule.value_percent,
                                                lower_capital_limit=lcl, existing_charges=charges)
    if total_owed is None:
        total_owed = owed_on(agreement, on + ONE_DAY) if agreement.account_id else ZERO
    headroom = limit - total_owed
    weekly = agreement.weekly_deferral
    projected = None
    if weekly > 0 and headroom > 0 and agreement.state in (State.ACTIVE, State.SIGNED, State.LEGAL_CHARGE_PENDING,
                                                           State.OFFERED, State.ELIGIBILITY_CHECKED):
        weeks = math.ceil(headroom / weekly)
        projected = (agreement.deferred_through or agreement.start_date or on) + timedelta(days=WEEK * weeks)
    return EquityPosition(on=on, valuation=valuation, value=value, share_percent=share, share_value=share_value,
                          value_percent=rule.value_percent, lendable=lendable, lower_capital_limit=lcl,
                          existing_charges=charges, limit=limit, total_owed=total_owed, headroom=headroom,
                          weekly_deferral=weekly, projected_date=projected, alert_percent=rule.alert_percent)


def alerts_check(agreement: Agreement, position: EquityPosition, on: date) -> Alert | None:
    """Raise the nearing-the-limit alert once per valuation when the total reaches the threshold."""
    if not position.nearing or position.valuation is None:
        return None
    alert, created = Alert.objects.get_or_create(
        agreement=agreement, kind=AlertKind.NEARING_LIMIT, key=f"valuation:{position.valuation.pk}",
        defaults={"raised_on": on, "message": f"£{position.total_owed:,.2f} owed is {position.percent_used}% of the "
                                               f"equity limit of £{position.limit:,.2f}: consider a revaluation"})
    if created:
        _record(agreement, action="alert.nearing_limit", actor=None, summary=alert.message)
    return alert


# --- Money -----------------------------------------------------------------------------------------


def agreement_balance(agreement: Agreement, through: date | None = None) -> Decimal:
    if not agreement.account_id:
        return ZERO
    entries = LedgerEntry.objects.filter(account_id=agreement.account_id)
    if through is not None:
        entries = entries.filter(effective_date__lte=through)
    return to_pennies(entries.aggregate(t=Sum("amount"))["t"])


def movements_of(agreement: Agreement, entries=None) -> list[tuple[date, Decimal]]:
    """The principal movements the interest engine works from: every entry but interest."""
    if entries is None:
        entries = LedgerEntry.objects.filter(account_id=agreement.account_id).values_list("effective_date", "amount", "kind")
    return [(d, a) for d, a, k in entries if k != EntryKind.INTEREST]


def owed_on(agreement: Agreement, on: date, rates: RateTable | None = None, entries=None) -> Decimal:
    """What clears the debt if paid on `on`: principal and interest to the end of the day before.
    Where a half-year's rate is missing, interest stops at the last day that has one."""
    principal, interest = redemption(agreement, on, rates=rates, entries=entries)
    return principal + interest


def redemption(agreement: Agreement, on: date, *, rates: RateTable | None = None, entries=None) -> tuple[Decimal, Decimal]:
    if not agreement.account_id:
        return ZERO, ZERO
    rates = rates or RateTable()
    movements = movements_of(agreement, entries)
    try:
        return engine.redemption_amount(movements=movements, on=on, rate_for=rates, compounding=agreement.compounding,
                                        basis=agreement.day_basis)
    except engine.MissingRate as missing:
        principal = to_pennies(sum((a for d, a in movements if d < on), ZERO))
        _, interest = engine.redemption_amount(movements=movements, on=min(on, missing.period_start), rate_for=rates,
                                               compounding=agreement.compounding, basis=agreement.day_basis)
        return principal, interest


def redemption_figures(agreement: Agreement, on: date) -> dict:
    """A redemption statement for a chosen date: the exact amount to pay on that day. Refused when
    a half-year's rate is missing, since the figure would be wrong."""
    rates = RateTable()
    try:
        principal, interest = engine.redemption_amount(movements=movements_of(agreement), on=on, rate_for=rates,
                                                       compounding=agreement.compounding, basis=agreement.day_basis)
    except engine.MissingRate as missing:
        raise DomainError(str(missing), field="on") from None
    posted_interest = to_pennies(LedgerEntry.objects.filter(account_id=agreement.account_id, kind=EntryKind.INTEREST,
                                                            effective_date__lt=on).aggregate(t=Sum("amount"))["t"])
    return {"on": on, "principal": principal, "interest": interest, "posted_interest": posted_interest,
            "interest_to_date": interest - posted_interest, "total": principal + interest}


def _post(agreement: Agreement, *, kind: str, amount: Decimal, on: date, reference: str, description: str, actor,
          account=None) -> LedgerEntry:
    return ledger_post(account=account or agreement.account, kind=kind, amount=amount, effective_date=on,
                       reference=reference, description=description, actor=actor, case=agreement.case)


def _open_account(agreement: Agreement):
    account = account_for_client(agreement.client, AccountKind.DEFERRED_PAYMENT)
    other = Agreement.objects.filter(account=account).exclude(pk=agreement.pk).first()
    if other is not None:
        raise DomainError(f"The client's deferred payment account {account.number} belongs to {other.reference}")
    return account


@transaction.atomic
def fee_charge(*, agreement: Agreement, kind: str, on: date, actor, amount: Decimal | None = None,
               treatment: str | None = None, year: int | None = None) -> FeePosting:
    """Charge an administration fee: its amount in force (or the actual cost for an at-cost fee),
    added to the deferred amount (it then bears interest) or invoiced to the client's care charges
    account to pay separately (DP-09)."""
    agreement = _locked(agreement)
    if agreement.state not in MONEY_STATES:
        raise DomainError("Fees are charged once the agreement is active", field="kind")
    if kind not in FeeKind.values:
        raise DomainError("Choose a fee", field="kind")
    configured = fee_on(kind, on)
    if amount is None:
        if configured is None or configured.amount is None:
            raise DomainError(f"Enter the {FeeKind(kind).label.lower()} fee: it is charged at cost", field="amount")
        amount = configured.amount
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter a fee of more than £0", field="amount")
    treatment = treatment or agreement.fee_treatment
    if treatment not in FeeTreatment.values:
        raise DomainError("Choose how the fee is paid", field="treatment")
    label = FeeKind(kind).label
    account = agreement.account if treatment == FeeTreatment.ADDED else account_for_client(agreement.client)
    suffix = f"-{year}" if year else f"-{on:%Y%m%d}"
    entry = _post(agreement, kind=EntryKind.FEE, amount=amount, on=on, account=account, actor=actor,
                  reference=f"{agreement.reference}-FEE-{kind[:3].upper()}{suffix}",
                  description=f"{label} fee, deferred payment agreement {agreement.reference}"
                              f"{'' if treatment == FeeTreatment.ADDED else ' (to pay separately)'}")
    posting = FeePosting.objects.create(agreement=agreement, kind=kind, charged_on=on, amount=amount,
                                        treatment=treatment, year=year, entry=entry)
    _record(agreement, action="fee.charged", kind=TimelineKind.LEDGER, actor=actor,
            summary=f"{label} fee of £{amount:,.2f} {FeeTreatment(treatment).label.lower()}",
            new={"kind": kind, "amount": _iso(amount), "treatment": treatment, "entry": entry.pk})
    return posting


def _deferral_periods(start: date, through: date) -> list[tuple[date, date]]:
    periods = []
    while start + timedelta(days=WEEK - 1) <= through:
        periods.append((start, start + timedelta(days=WEEK - 1)))
        start += timedelta(days=WEEK)
    return periods


@transaction.atomic
def deferrals_post(*, agreement: Agreement, through: date, actor, final: bool = False,
                   rates: RateTable | None = None) -> list[DeferralPosting]:
    """Post the weekly deferred amounts for whole weeks ending on or before `through` (in arrears,
    dated the week's last day). `final` also posts the part week up to `through` (weekly × days ÷ 7).
    A deferral that would pass the equity limit is cut to the headroom and the agreement suspended."""
    agreement = _locked(agreement)
    if agreement.state != State.ACTIVE or agreement.start_date is None:
        return []
    weekly = agreement.weekly_deferral
    first = (agreement.deferred_through + ONE_DAY) if agreement.deferred_through else agreement.start_date
    periods = _deferral_periods(first, through)
    if final:
        last = periods[-1][1] if periods else first - ONE_DAY
        if last < through:
            periods.append((last + ONE_DAY, through))
    if not periods:
        return []
    position = equity_position(agreement, through)
    posted = []
    limit_hit = False
    for start, end in periods:
        days = (end - start).days + 1
        amount = to_pennies(weekly * days / WEEK)
        capped = False
        # What is owed, with interest accrued, at the end of the period before its deferral.
        owed = owed_on(agreement, end + ONE_DAY, rates=rates)
        if owed + amount > position.limit:
            amount = max(ZERO, position.limit - owed)
            capped = limit_hit = True
        if amount > 0:
            entry = _post(agreement, kind=EntryKind.CHARGE, amount=amount, on=end, actor=actor,
                          reference=f"{agreement.reference}-DEF-{start:%Y%m%d}",
                          description=f"Care costs deferred {start:%-d %b %Y} to {end:%-d %b %Y}"
                                      f"{' (cut to the equity limit)' if capped else ''}")
            posted.append(DeferralPosting.objects.create(agreement=agreement, period_start=start, period_end=end,
                                                         amount=amount, capped=capped, entry=entry))
        agreement.deferred_through = end
        if capped:
            break
    agreement.save(update_fields=["deferred_through", "updated_at"])
    if posted:
        _record(agreement, action="deferral.posted", kind=TimelineKind.LEDGER, actor=actor,
                summary=f"{len(posted)} deferral{'s' if len(posted) != 1 else ''} posted, "
                        f"£{sum(p.amount for p in posted):,.2f}, to {agreement.deferred_through:%-d %B %Y}")
    if limit_hit:
        Alert.objects.get_or_create(
            agreement=agreement, kind=AlertKind.LIMIT_REACHED, key=f"limit:{position.limit}",
            defaults={"raised_on": through, "message": f"The equity limit of £{position.limit:,.2f} is reached: "
                                                        "deferral has stopped; interest continues"})
        agreement_transition(agreement=agreement, to_state=State.SUSPENDED, actor=actor, on=through,
                             reason=f"Equity limit of £{position.limit:,.2f} reached")
    return posted


@transaction.atomic
def interest_accrue(*, agreement: Agreement, through: date, actor, rates: RateTable | None = None,
                    entries=None) -> tuple[int, int]:
    """Post the interest for every capitalisation period ended by `through`, and correct any posted
    figure a back-dated change made wrong (reversal and a new posting). Idempotent: a second call
    posts nothing. Returns (posted, reversed)."""
    if not agreement.account_id:
        return 0, 0
    rates = rates or RateTable()
    movements = movements_of(agreement, entries)
    kwargs = {"movements": movements, "rate_for": rates, "compounding": agreement.compounding,
              "basis": agreement.day_basis}
    try:
        expected = engine.interest_postings(through=through, **kwargs)
    except engine.MissingRate as missing:
        expected = engine.interest_postings(through=missing.period_start - ONE_DAY, **kwargs)
        alert, created = Alert.objects.get_or_create(
            agreement=agreement, kind=AlertKind.RATE_MISSING, key=missing.period_start.isoformat(),
            defaults={"raised_on": through, "message": str(missing)[:300]})
        if created:
            _record(agreement, action="alert.rate_missing", actor=None, summary=alert.message)
        from .rates_today import rate_missing_notify

        rate_missing_notify(missing.period_start, on=through)
    else:
        Alert.objects.filter(agreement=agreement, kind=AlertKind.RATE_MISSING, cleared_on__isnull=True,
                             key__lte=through.isoformat()).update(cleared_on=timezone.localdate())
    current = list(InterestPosting.objects.filter(agreement=agreement, reversal__isnull=True).select_related("entry"))
    wanted = {(p.period_start, p.period_end, p.amount): p for p in expected}
    reversed_count = 0
    for posting in current:
        key = (posting.period_start, posting.period_end, posting.amount)
        if key in wanted:
            del wanted[key]
            continue
        if posting.period_end > through:
            continue  # beyond this call's horizon: a later run checks it
        # A recalculation, not a decision: the corrected figure is posted below in the same run. A
        # posting an officer wants taken off goes through posting_reverse and its control.
        reversal = ledger_reverse(entry=posting.entry, actor=actor,
                                  reason="Interest recalculated after a back-dated change to the balance or rates")
        InterestPosting.objects.filter(pk=posting.pk).update(reversal=reversal)
        reversed_count += 1
        _record(agreement, action="interest.reversed", kind=TimelineKind.LEDGER, actor=actor,
                summary=f"Interest of £{posting.amount:,.2f} for {posting.period_start:%-d %b %Y} to "
                        f"{posting.period_end:%-d %b %Y} reversed for recalculation",
                old={"amount": _iso(posting.amount)})
    for posting in wanted.values():
        rate_text = ", ".join(f"{r[2]}%" for r in posting.rates)
        entry = _post(agreement, kind=EntryKind.INTEREST, amount=posting.amount, on=posting.period_end, actor=actor,
                      reference=f"{agreement.reference}-INT-{posting.period_end:%Y%m%d}",
                      description=f"Interest {posting.period_start:%-d %b %Y} to {posting.period_end:%-d %b %Y} at "
                                  f"{rate_text} ({agreement.get_compounding_display().lower()} compounding)")
        InterestPosting.objects.create(agreement=agreement, period_start=posting.period_start,
                                       period_end=posting.period_end, amount=posting.amount, rates=posting.rates,
                                       entry=entry)
    return len(wanted), reversed_count


@transaction.atomic
def repayment_record(*, agreement: Agreement, amount: Decimal, on: date, actor, reference: str = "") -> LedgerEntry:
    """Record a repayment received on `on`. Interest to the day before is capitalised first; a
    repayment of the whole debt ends the agreement (repaid early, unless it has already ended) and
    starts the removal of the legal charge."""
    agreement = _locked(agreement)
    if agreement.state not in MONEY_STATES or not agreement.account_id:
        raise DomainError(f"{agreement.reference} holds no debt to repay")
    if on > timezone.localdate():
        raise DomainError("The date received cannot be in the future", field="on")
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter the amount received", field="amount")
    figures = redemption_figures(agreement, on)
    if amount > figures["total"]:
        raise DomainError(f"£{amount:,.2f} is more than the £{figures['total']:,.2f} owed on {on:%-d %B %Y}",
                          field="amount")
    if agreement.state == State.ACTIVE and amount == figures["total"]:
        deferrals_post(agreement=agreement, through=on - ONE_DAY, actor=actor, final=True)
        agreement.refresh_from_db()
        figures = redemption_figures(agreement, on)
        if amount != figures["total"]:
            raise DomainError(f"Care costs to {on - ONE_DAY:%-d %B %Y} were deferred first: £{figures['total']:,.2f} "
                              "is now owed", field="amount")
    entry = _post(agreement, kind=EntryKind.PAYMENT, amount=amount, on=on, actor=actor,
                  reference=(reference.strip() or f"{agreement.reference}-PAY-{on:%Y%m%d}")[:60],
                  description=f"Repayment of deferred payment agreement {agreement.reference}")
    interest_accrue(agreement=agreement, through=on - ONE_DAY, actor=actor)
    _record(agreement, action="repayment.recorded", kind=TimelineKind.LEDGER, actor=actor,
            summary=f"Repayment of £{amount:,.2f} received on {on:%-d %B %Y}",
            new={"amount": _iso(amount), "entry": entry.pk})
    if agreement_balance(agreement) == 0:
        if agreement.state != State.TERMINATED:
            agreement_transition(agreement=agreement, to_state=State.TERMINATED, actor=actor, on=on,
                                 termination_reason=TerminationReason.REPAID_EARLY, reason="Repaid in full")
        agreement = Agreement.objects.get(pk=agreement.pk)
        agreement.repaid_on = on
        agreement.save(update_fields=["repaid_on", "updated_at"])
        charge = LegalCharge.objects.filter(agreement=agreement).first()
        if charge and charge.registered_on and charge.removal_requested_on is None:
            legal_charge_record(agreement=agreement, step="removal_requested", on=on, actor=actor)
    return entry


# --- The state machine -----------------------------------------------------------------------------


def _guard(agreement: Agreement, to_state: str, on: date, termination_reason: str, reason: str) -> None:
    if to_state == State.ELIGIBILITY_CHECKED:
        latest = latest_checks(agreement)
        missing = [Criterion(c).label for c in Criterion.values if c not in latest]
        if missing:
            raise DomainError("Record every eligibility check first. Missing: " + "; ".join(missing), field="state")
        if failed_checks(agreement):
            raise DomainError("A check has failed: refuse the application with a letter instead", field="state")
    if to_state == State.OFFERED:
        position = equity_position(agreement, on)
        if position.valuation is None:
            raise DomainError("Record the property and a valuation before the offer", field="state")
        if position.limit <= 0:
            raise DomainError("The equity limit is £0: there is nothing to lend against", field="state")
        if agreement.weekly_deferral <= 0:
            raise DomainError("Enter the weekly care cost and contribution before the offer", field="state")
    if to_state == State.LEGAL_CHARGE_PENDING:
        charge = LegalCharge.objects.filter(agreement=agreement).first()
        if charge is None or charge.sent_on is None:
            raise DomainError("Record the date the legal charge was sent to the Land Registry", field="state")
    if to_state == State.ACTIVE and agreement.state == State.LEGAL_CHARGE_PENDING:
        charge = LegalCharge.objects.filter(agreement=agreement).first()
        if charge is None or charge.registered_on is None:
            raise DomainError("The legal charge must be registered before deferral starts", field="state")
    if to_state == State.ACTIVE and agreement.state == State.SUSPENDED:
        position = equity_position(agreement, on)
        if position.headroom <= 0:
            raise DomainError(f"No headroom under the equity limit of £{position.limit:,.2f}: record a new valuation "
                              "first", field="state")
    if to_state == State.SUSPENDED and not reason.strip():
        raise DomainError("Give a reason for stopping deferral", field="reason")
    if to_state == State.TERMINATED:
        if termination_reason not in TerminationReason.values:
            raise DomainError("Choose why the agreement ends", field="termination_reason")
        holds_money = agreement.state in (State.ACTIVE, State.SUSPENDED)
        if holds_money and termination_reason in (TerminationReason.REFUSED, TerminationReason.WITHDRAWN):
            raise DomainError("An active agreement ends by sale, death, repayment or for another reason",
                              field="termination_reason")
        if not holds_money and termination_reason not in EARLY_REASONS:
            raise DomainError("Before deferral starts an agreement can only be refused, withdrawn or ended for another "
                              "reason", field="termination_reason")
        if termination_reason == TerminationReason.DEATH and agreement.client.date_of_death is None:
            raise DomainError("Record the death on the client's record first", field="termination_reason")
        if termination_reason == TerminationReason.REPAID_EARLY and agreement_balance(agreement) != 0:
            raise DomainError("Record the repayment: the agreement ends as repaid when nothing is owed",
                              field="termination_reason")
        if termination_reason == TerminationReason.OTHER and not reason.strip():
            raise DomainError("Give a reason", field="reason")
    if to_state == State.REPAID:
        if agreement_balance(agreement) != 0:
            raise DomainError("The debt is not repaid in full", field="state")
        charge = LegalCharge.objects.filter(agreement=agreement).first()
        if charge and charge.registered_on and charge.removed_on is None:
            raise DomainError("Record the removal of the legal charge first", field="state")


def state_before_termination(agreement: Agreement) -> str | None:
    """The state the agreement was in when it was terminated, from its timeline."""
    entry = (TimelineEntry.objects.filter(case_id=agreement.case_id, action="dpa.state.changed",
                                          new_value__state=State.TERMINATED).order_by("-occurred_at", "-id").first())
    return (entry.old_value or {}).get("state") if entry else None


def _guard_reinstatement(agreement: Agreement, to_state: str, reason: str) -> None:
    if agreement.termination_reason != TerminationReason.DEATH:
        raise DomainError(f"{agreement.reference} ended by {agreement.get_termination_reason_display().lower()}, not "
                          "on a death: it cannot be reinstated", field="state")
    before = state_before_termination(agreement)
    if before != to_state:
        raise DomainError(f"{agreement.reference} was {State(before).label.lower() if before else 'in another state'} "
                          "when it ended: it can only go back to that", field="state")
    if agreement.recovery_case_id:
        raise DomainError(f"{agreement.reference} was referred to recovery ({agreement.recovery_case.reference}): "
                          "close that case before reinstating the agreement", field="state")
    if not reason.strip():
        raise DomainError("Give the reason for reinstating the agreement", field="reason")


@transaction.atomic
def agreement_transition(*, agreement: Agreement, to_state: str, actor, on: date | None = None, reason: str = "",
                         termination_reason: str = "", start_date: date | None = None,
                         reinstate: bool = False) -> Agreement:
    """The one way an agreement changes state: checks the move against ALLOWED_TRANSITIONS and the
    state's guards, applies its consequences and records it on the case timeline.

    `reinstate` undoes a termination on a death recorded in error (REINSTATEMENTS): back to the
    state it ended from, with no termination reason, end date or due date. The care costs deferred
    up to the recorded date of death stay (that care was given); deferral carries on from the day
    after, so the nightly run catches up the weeks since."""
    agreement = _locked(agreement)
    on = on or timezone.localdate()
    if to_state not in State.values or not agreement.can_transition_to(to_state, reinstate=reinstate):
        target = State(to_state).label.lower() if to_state in State.values else to_state
        raise DomainError(f"{agreement.reference} cannot move from {agreement.get_state_display().lower()} to {target}",
                          field="state")
    if reinstate:
        _guard_reinstatement(agreement, to_state, reason)
    else:
        _guard(agreement, to_state, on, termination_reason, reason)
    old = {"state": agreement.state}
    fields = ["state", "updated_at"]
    if reinstate:
        old.update(termination_reason=agreement.termination_reason, terminated_on=_iso(agreement.terminated_on),
                   due_date=_iso(agreement.due_date))
        agreement.termination_reason, agreement.terminated_on, agreement.due_date = "", None, None
        fields += ["termination_reason", "terminated_on", "due_date"]
    elif to_state == State.APPLICATION:
        agreement.applied_on = on
        fields.append("applied_on")
    elif to_state == State.OFFERED:
        agreement.offered_on = on
        fields.append("offered_on")
    elif to_state == State.SIGNED:
        agreement.signed_on = on
        fields.append("signed_on")
    elif to_state == State.ACTIVE and agreement.state == State.LEGAL_CHARGE_PENDING:
        agreement.start_date = start_date or on
        agreement.account = _open_account(agreement)
        fields += ["start_date", "account"]
    elif to_state == State.ACTIVE and agreement.state == State.SUSPENDED:
        # Deferral resumes from today: the suspended weeks were not deferred.
        agreement.deferred_through = max(agreement.deferred_through or on, on - ONE_DAY)
        agreement.suspended_reason = ""
        fields += ["deferred_through", "suspended_reason"]
    elif to_state == State.SUSPENDED:
        agreement.suspended_reason = reason.strip()[:300]
        fields.append("suspended_reason")
    elif to_state == State.TERMINATED:
        agreement.termination_reason = termination_reason
        agreement.terminated_on = on
        fields += ["termination_reason", "terminated_on"]
        if termination_reason == TerminationReason.DEATH:
            agreement.terminated_on = agreement.client.date_of_death
            agreement.due_date = agreement.client.date_of_death + timedelta(days=rule_on(on).death_due_days)
            fields.append("due_date")
        elif termination_reason in (TerminationReason.SALE, TerminationReason.OTHER) and agreement.account_id:
            agreement.due_date = on
            fields.append("due_date")
    agreement.state = to_state
    agreement.save(update_fields=list(dict.fromkeys(fields)))
    new = {"state": to_state, "on": on.isoformat()}
    if termination_reason:
        new["termination_reason"] = termination_reason
    if agreement.due_date and to_state == State.TERMINATED:
        new["due_date"] = agreement.due_date.isoformat()
    summary = f"{State(old['state']).label} → {agreement.get_state_display()}"
    if reinstate:
        new["reinstated"] = True
        summary += " (reinstated: death recorded in error)"
    if termination_reason:
        summary += f" ({TerminationReason(termination_reason).label.lower()})"
    if to_state == State.TERMINATED and agreement.due_date:
        summary += f"; the debt is due on {agreement.due_date:%-d %B %Y}"
    _record(agreement, action="state.changed", kind=TimelineKind.STATUS, actor=actor, body=reason.strip(),
            summary=summary, old=old, new=new)
    if to_state == State.ACTIVE and old["state"] == State.LEGAL_CHARGE_PENDING:
        setup = fee_on(FeeKind.SET_UP, agreement.start_date)
        if setup is not None and setup.amount:
            fee_charge(agreement=agreement, kind=FeeKind.SET_UP, on=agreement.start_date, actor=actor)
    return agreement


@transaction.atomic
def agreement_terminate(*, agreement: Agreement, reason: str, on: date, actor, note: str = "") -> Agreement:
    """End an agreement that holds money: sale, death (the debt falls due 90 days after the date of
    death, a letter goes to the executor) or another reason. Care costs are deferred up to the end
    date first (on death, up to and including the date of death)."""
    agreement = _locked(agreement)
    if reason == TerminationReason.DEATH:
        if agreement.client.date_of_death is None:
            raise DomainError("Record the death on the client's record first", field="reason")
        on = agreement.client.date_of_death
    if agreement.state == State.ACTIVE:
        deferrals_post(agreement=agreement, through=on, actor=actor, final=True)
    agreement = agreement_transition(agreement=agreement, to_state=State.TERMINATED, actor=actor, on=on,
                                     termination_reason=reason, reason=note)
    if reason == TerminationReason.DEATH:
        from casework.letters.services import letter_produce
        from casework.letters.types import get_letter_type

        from .letters import DEATH_LETTER

        today = timezone.localdate()
        context = get_letter_type(DEATH_LETTER).build_context(agreement.client, today, agreement=agreement,
                                                              owed=owed_on(agreement, today))
        letter_produce(client=agreement.client, letter_type=DEATH_LETTER, on=today, actor=actor, case=agreement.case,
                       context=context)
    return agreement


@transaction.atomic
def recovery_refer(*, agreement: Agreement, on: date, actor):
    """An agreement's debt unpaid after its due date becomes a debt recovery case, linked here and
    carrying the agreement's history, so it never sits unnoticed."""
    agreement = _locked(agreement)
    if agreement.recovery_case_id or agreement.due_date is None or agreement.due_date >= on:
        return None
    balance = agreement_balance(agreement)
    if balance <= 0:
        return None
    case = case_create(client=agreement.client, case_type=CaseType.DEBT_RECOVERY, team=agreement.case.team,
                       title=f"Unpaid deferred payment debt {agreement.reference}", actor=actor, due_date=on)
    history = [f"{e.effective_date:%d/%m/%Y} {e.get_kind_display()} {e.reference}: £{e.amount:,.2f}"
               for e in LedgerEntry.objects.filter(account_id=agreement.account_id).order_by("effective_date", "id")]
    TimelineEntry.objects.create(
        client_id=agreement.client_id, case=case, kind=TimelineKind.SYSTEM, action="dpa.recovery.opened",
        summary=f"Referred from {agreement.reference}: £{balance:,.2f} unpaid after the due date of "
                f"{agreement.due_date:%-d %B %Y}"[:300],
        body="Agreement ledger:\n" + "\n".join(history), actor=actor, occurred_at=timezone.now(),
        new_value={"agreement": agreement.pk, "balance": _iso(balance), "deferred_payment_case": agreement.case_id})
    agreement.recovery_case = case
    agreement.save(update_fields=["recovery_case", "updated_at"])
    _record(agreement, action="recovery.referred", actor=actor,
            summary=f"Unpaid after {agreement.due_date:%-d %B %Y}: referred to recovery ({case.reference})",
            new={"recovery_case": case.pk, "balance": _iso(balance)})
    return case


# --- The nightly work for one agreement ----------------------------------------------------------------


def annual_fees_due(agreement: Agreement, through: date) -> list[tuple[int, date]]:
    """(year, anniversary) of every anniversary of the start date up to `through`."""
    if agreement.start_date is None:
        return []
    due = []
    year = 1
    while True:
        try:
            anniversary = agreement.start_date.replace(year=agreement.start_date.year + year)
        except ValueError:  # 29 February
            anniversary = date(agreement.start_date.year + year, 3, 1)
        if anniversary > through:
            return due
        due.append((year, anniversary))
        year += 1


def nightly(*, agreement: Agreement, business_date: date, actor, rates: RateTable | None = None) -> str:
    """Everything the nightly accrual does for one agreement, through the day before the business
    date: a death recorded on the client ends the agreement; weekly deferrals; annual fees;
    interest (with corrections); the equity alert; referral to recovery after the due date.
    Each step is idempotent, so a re-run does nothing new."""
    through = business_date - ONE_DAY
    rates = rates or RateTable()
    done = []
    if agreement.state in (State.ACTIVE, State.SUSPENDED) and agreement.client.date_of_death \
            and agreement.client.date_of_death <= through:
        agreement = agreement_terminate(agreement=agreement, reason=TerminationReason.DEATH, on=through, actor=actor,
                                        note="Death recorded on the client's record")
        done.append("ended on death")
    if agreement.state == State.ACTIVE:
        posted = deferrals_post(agreement=agreement, through=through, actor=actor, rates=rates)
        if posted:
            done.append(f"{len(posted)} deferral(s)")
        agreement.refresh_from_db()
    if agreement.state in (State.ACTIVE, State.SUSPENDED):
        charged = set(FeePosting.objects.filter(agreement=agreement, kind=FeeKind.ANNUAL).values_list("year", flat=True))
        for year, anniversary in annual_fees_due(agreement, through):
            fee = fee_on(FeeKind.ANNUAL, anniversary)
            if year not in charged and fee is not None and fee.amount:
                fee_charge(agreement=agreement, kind=FeeKind.ANNUAL, on=anniversary, actor=actor, year=year)
                done.append(f"annual fee year {year}")
    posted, reversed_ = interest_accrue(agreement=agreement, through=through, actor=actor, rates=rates)
    if posted or reversed_:
        done.append(f"interest: {posted} posted, {reversed_} reversed")
    if agreement.state in (State.ACTIVE, State.SUSPENDED):
        alert = alerts_check(agreement, equity_position(agreement, through, total_owed=owed_on(agreement, business_date,
                                                                                                rates=rates)), through)
        if alert and alert.raised_on == through:
            done.append("nearing the equity limit")
    if agreement.state == State.TERMINATED and recovery_refer(agreement=agreement, on=business_date, actor=actor):
        done.append("referred to recovery")
    return "; ".join(done) or "Nothing due"


# --- Fee waivers and reversals (money controls) ------------------------------------------------------
#
# Both reduce what the person owes, so another person decides: a fee waiver always (DPA_FEE_WAIVER),
# a reversal above the reverser's limit (DPA_REVERSAL, ControlLimit rows as data). Either way the
# money moves as new ledger entries, never an edit, and the agreement's timeline says who and why.


def _pending(action: str, **payload) -> QuerySet:
    lookups = {f"payload__{key}": value for key, value in payload.items()}
    return ControlRequest.objects.filter(action=action, status=ControlRequestStatus.REQUESTED, **lookups)


def _money(amount, field: str) -> Decimal:
    if amount is None:
        raise DomainError("Enter the amount to waive", field=field)
    try:
        return to_pennies(amount)
    except MoneyError:
        raise DomainError("Enter the amount to waive in pounds and pence, such as 176.10", field=field) from None


def _fee_label(fee: FeePosting) -> str:
    return f"{FeeKind(fee.kind).label} fee"


@dataclass(frozen=True)
class FeeStanding:
    """Where one fee stands: what has been waived, what waits for a decision, what is left."""

    fee: FeePosting
    waived: Decimal
    waiting: Decimal
    reversed: bool
    waiting_requests: tuple = ()

    @property
    def left(self) -> Decimal:
        """What is still charged of the fee (nothing once the fee itself was reversed)."""
        return ZERO if self.reversed else to_pennies(self.fee.amount - self.waived)

    @property
    def can_ask(self) -> Decimal:
        """The most a new waiver may ask for: what is left, less what already waits for a decision."""
        return max(ZERO, to_pennies(self.left - self.waiting))


def fee_standings(agreement: Agreement) -> list[FeeStanding]:
    """Every fee charged on the agreement with what has been waived and what waits (three queries)."""
    fees = list(FeePosting.objects.filter(agreement=agreement).select_related("entry")
                .annotate(waived_total=Sum("waivers__amount")).order_by("charged_on", "id"))
    reversed_ids = set(LedgerEntry.objects.filter(reverses_id__in=[f.entry_id for f in fees])
                       .values_list("reverses_id", flat=True))
    waiting: dict[int, list[ControlRequest]] = {}
    for request in _pending(ControlAction.DPA_FEE_WAIVER, agreement=agreement.pk):
        waiting.setdefault(request.payload.get("fee"), []).append(request)
    return [FeeStanding(fee=f, waived=to_pennies(f.waived_total), reversed=f.entry_id in reversed_ids,
                        waiting=to_pennies(sum((r.amount for r in waiting.get(f.pk, [])), ZERO)),
                        waiting_requests=tuple(waiting.get(f.pk, []))) for f in fees]


def fee_standing(fee: FeePosting) -> FeeStanding:
    return next(s for s in fee_standings(fee.agreement) if s.fee.pk == fee.pk)


def _account_balance(account_id: int) -> Decimal:
    return to_pennies(LedgerEntry.objects.filter(account_id=account_id).aggregate(t=Sum("amount"))["t"])


@transaction.atomic
def fee_waiver_request(*, fee: FeePosting, amount: Decimal, reason: str, actor) -> ControlRequest:
    """Ask for all or part of a fee to be waived. Always another person's decision: nothing is
    posted until a team leader (within their approval limit, ControlLimit rows) approves it, when
    a credit cancelling that much of the fee is posted, dated the day the fee was charged."""
    agreement = _locked(fee.agreement)
    fee = FeePosting.objects.select_for_update().select_related("entry__account").get(pk=fee.pk)
    label = _fee_label(fee)
    if agreement.state == State.REPAID:
        raise DomainError(f"{agreement.reference} is repaid and closed: a fee already paid is refunded, not waived")
    amount = _money(amount, "amount")
    if amount <= 0:
        raise DomainError("Enter an amount to waive of more than £0.00", field="amount")
    standing = fee_standing(fee)
    if standing.reversed:
        raise DomainError(f"The {label.lower()} {fee.entry.reference} was reversed: there is nothing left to waive",
                          field="amount")
    if waiting := _pending(ControlAction.DPA_REVERSAL, entry=fee.entry_id).first():
        raise DomainError(f"A reversal of the {label.lower()} is waiting for a decision ({waiting.reference}): "
                          "it must be decided or withdrawn first")
    if amount > standing.can_ask:
        parts = [f"the fee was {format_pounds(fee.amount)}"]
        if standing.waived:
            parts.append(f"{format_pounds(standing.waived)} is already waived")
        if standing.waiting:
            parts.append(f"{format_pounds(standing.waiting)} waits for a decision")
        raise DomainError(f"The amount to waive must be no more than {format_pounds(standing.can_ask)}: "
                          + ", ".join(parts), field="amount")
    if not reason.strip():
        raise DomainError("Give the reason for waiving the fee, for the person who will decide", field="reason")
    account = fee.entry.account
    balance = _account_balance(account.pk)
    if fee.treatment == FeeTreatment.ADDED and amount > balance:
        raise DomainError(f"Waiving {format_pounds(amount)} would leave account {account.number} in credit (it owes "
                          f"{format_pounds(balance)}): a refund is needed instead", field="amount")
    request = control_request_raise(
        action=ControlAction.DPA_FEE_WAIVER, amount=amount, client=agreement.client,
        subject=f"Agreement {agreement.reference}",
        summary=f"Waive {format_pounds(amount)} of the {label.lower()} {fee.entry.reference} on {agreement.reference}",
        reason=reason, actor=actor, payload={"agreement": agreement.pk, "fee": fee.pk},
        changes=[[f"{label} {fee.entry.reference} still charged", format_pounds(standing.left),
                  format_pounds(standing.left - amount)],
                 [f"Balance of {account.number}", format_pounds(balance), format_pounds(balance - amount)]])
    _record(agreement, action="fee_waiver.requested", kind=TimelineKind.LEDGER, actor=actor, body=reason.strip(),
            summary=f"Waiver of {format_pounds(amount)} of the {label.lower()} asked for ({request.reference}): "
                    "someone else decides",
            new={"request": request.pk, "fee": fee.pk, "amount": _iso(amount)})
    return request


def _execute_fee_waiver(request: ControlRequest, approver) -> str:
    """On approval: the credit that cancels the fee (or the part asked for), and the waiver record."""
    agreement = _locked(Agreement(pk=request.payload["agreement"]))
    fee = FeePosting.objects.select_for_update().select_related("entry__account").get(pk=request.payload["fee"])
    label = _fee_label(fee)
    standing = fee_standing(fee)
    if agreement.state == State.REPAID:
        raise DomainError(f"{agreement.reference} was repaid and closed after this was asked for: reject it")
    if standing.reversed:
        raise DomainError(f"The {label.lower()} was reversed after this was asked for: reject it")
    if request.amount > standing.left:
        raise DomainError(f"Only {format_pounds(standing.left)} of the {label.lower()} is left to waive now: reject "
                          "this request and ask again")
    entry = ledger_post(account=fee.entry.account, kind=EntryKind.CREDIT, amount=request.amount,
                        effective_date=fee.charged_on, reference=f"WVR-{fee.entry.reference}-{request.reference}"[:60],
                        description=f"{label} waived ({fee.entry.reference}), approved as {request.reference}",
                        actor=request.requested_by, case=agreement.case)
    FeeWaiver.objects.create(fee=fee, amount=request.amount, reason=request.reason, entry=entry, request=request,
                             requested_by=request.requested_by, approved_by=approver)
    whole = " (all that was left)" if request.amount == standing.left else ""
    _record(agreement, action="fee.waived", kind=TimelineKind.LEDGER, actor=approver, body=request.reason,
            summary=f"{label} {fee.entry.reference}: {format_pounds(request.amount)} waived{whole}, approved by "
                    f"{approver.get_username()} ({request.reference}); interest on it is recalculated overnight",
            new={"fee": fee.pk, "amount": _iso(request.amount), "entry": entry.pk, "request": request.pk})
    return entry.reference


def _fee_waiver_refused(request: ControlRequest, actor) -> None:
    agreement = Agreement.objects.get(pk=request.payload["agreement"])
    _record(agreement, action=f"fee_waiver.{request.status}", kind=TimelineKind.LEDGER, actor=actor,
            body=request.decision_note,
            summary=f"Waiver of {format_pounds(request.amount)} of a fee {request.get_status_display().lower()} "
                    f"({request.reference}): the fee stands", new={"request": request.pk})


register_control(ControlAction.DPA_FEE_WAIVER, _execute_fee_waiver, on_refused=_fee_waiver_refused)


#: The postings an officer may ask to take off an agreement: care costs deferred and fees.
REVERSIBLE_KINDS = (EntryKind.CHARGE, EntryKind.FEE)


def why_not_reversible(agreement: Agreement, entry: LedgerEntry, *, request: ControlRequest | None = None) -> str | None:
    """Why `entry` cannot be reversed on the agreement; None when it can. `request`: the approval
    being carried out, which is not counted as another reversal waiting."""
    fee = FeePosting.objects.filter(entry_id=entry.pk, agreement=agreement).first()
    if fee is None and (agreement.account_id is None or entry.account_id != agreement.account_id):
        return f"Entry {entry.reference} is not on agreement {agreement.reference}"
    if agreement.state == State.REPAID:
        return f"{agreement.reference} is repaid and closed: its postings cannot be reversed"
    if entry.reverses_id is not None:
        return "A reversal cannot itself be reversed: post a new entry instead"
    if LedgerEntry.objects.filter(reverses_id=entry.pk).exists():
        return f"Entry {entry.reference} has already been reversed"
    if entry.kind == EntryKind.INTEREST:
        return ("Interest is worked out each night from the balance and the rates, and corrects itself when they "
                "change: reverse the posting that caused it, or correct the rate")
    if entry.kind not in REVERSIBLE_KINDS or entry.amount <= 0:
        return "Only care costs deferred and fees can be reversed here"
    if fee is not None:
        waived = to_pennies(fee.waivers.aggregate(t=Sum("amount"))["t"])
        if waived:
            return f"{format_pounds(waived)} of this fee is already waived: ask to waive the rest instead"
        if waiting := _pending(ControlAction.DPA_FEE_WAIVER, fee=fee.pk).first():
            return f"A waiver of this fee is waiting for a decision ({waiting.reference}): it must be decided first"
    waiting = _pending(ControlAction.DPA_REVERSAL, entry=entry.pk)
    if request is not None:
        waiting = waiting.exclude(pk=request.pk)
    if waiting := waiting.first():
        return f"A reversal of {entry.reference} is already waiting for a decision ({waiting.reference})"
    if entry.account_id == agreement.account_id:
        balance = agreement_balance(agreement)
        if entry.amount > balance:
            return (f"Reversing {format_pounds(entry.amount)} would leave the account {format_pounds(entry.amount - balance)} "
                    "in credit: a refund is needed instead")
    return None


def _reverse_posting(agreement: Agreement, entry: LedgerEntry, *, reason: str, posted_by, actor,
                     request: ControlRequest | None = None) -> LedgerEntry:
    reversal = ledger_reverse(entry=entry, reason=reason[:300], actor=posted_by)
    approved = f", approved by {actor.get_username()} ({request.reference})" if request else ""
    _record(agreement, action="posting.reversed", kind=TimelineKind.LEDGER, actor=actor, body=reason,
            summary=f"{entry.get_kind_display()} {entry.reference} of {format_pounds(entry.amount)} reversed{approved}: "
                    f"{entry.description}", old={"entry": entry.pk}, new={"reversal": reversal.pk})
    return reversal


@transaction.atomic
def posting_reverse(*, agreement: Agreement, entry: LedgerEntry, reason: str, actor) -> LedgerEntry | ControlRequest:
    """Take a deferral or a fee posted in error off the agreement with an equal and opposite entry
    (dated as the original, so the nightly run recalculates its interest). It reduces the debt, so
    within the reverser's DPA_REVERSAL limit (counting the account's reversals over the period) it
    happens at once and is recorded as done alone; otherwise, and always for a role with no limit
    of its own, it waits for another person's approval. Returns the reversal, or the request."""
    agreement = _locked(agreement)
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if why := why_not_reversible(agreement, entry):
        raise DomainError(why)
    if not reason.strip():
        raise DomainError("Give the reason for the reversal", field="reason")
    size = entry.amount
    subject = f"Agreement {agreement.reference}"
    why = why_cannot_do_alone(actor, ControlAction.DPA_REVERSAL, size, client=agreement.client)
    if why:
        balance = _account_balance(entry.account_id)
        request = control_request_raise(
            action=ControlAction.DPA_REVERSAL, amount=size, client=agreement.client, subject=subject,
            summary=f"Reverse {entry.get_kind_display().lower()} {entry.reference} of {format_pounds(size)} on "
                    f"{agreement.reference}",
            reason=reason, actor=actor, payload={"agreement": agreement.pk, "entry": entry.pk},
            changes=[[f"Balance of {entry.account.number}", format_pounds(balance), format_pounds(balance - size)],
                     ["Entry reversed", f"{entry.description} ({entry.reference}), {format_pounds(size)}, dated "
                                        f"{entry.effective_date:%-d %B %Y}", ""]])
        _record(agreement, action="posting_reversal.requested", kind=TimelineKind.LEDGER, actor=actor,
                body=f"{reason.strip()}\n{why}",
                summary=f"Reversal of {entry.reference} ({format_pounds(size)}) asked for ({request.reference}): "
                        "someone else decides", new={"request": request.pk, "entry": entry.pk})
        return request
    reversal = _reverse_posting(agreement, entry, reason=reason.strip(), posted_by=actor, actor=actor)
    money_action_record(action=ControlAction.DPA_REVERSAL, amount=size, client=agreement.client, subject=subject,
                        reference=reversal.reference,
                        summary=f"{entry.get_kind_display()} {entry.reference} reversed on {agreement.reference}",
                        maker=actor)
    return reversal


def _execute_posting_reversal(request: ControlRequest, approver) -> str:
    agreement = _locked(Agreement(pk=request.payload["agreement"]))
    entry = LedgerEntry.objects.select_for_update().get(pk=request.payload["entry"])
    if why := why_not_reversible(agreement, entry, request=request):
        raise DomainError(why)
    suffix = f" (approved by {approver.get_username()}, {request.reference})"
    reversal = _reverse_posting(agreement, entry, reason=request.reason[:300 - len(suffix)] + suffix,
                                posted_by=request.requested_by, actor=approver, request=request)
    return reversal.reference


def _posting_reversal_refused(request: ControlRequest, actor) -> None:
    agreement = Agreement.objects.get(pk=request.payload["agreement"])
    _record(agreement, action=f"posting_reversal.{request.status}", kind=TimelineKind.LEDGER, actor=actor,
            body=request.decision_note,
            summary=f"Reversal of {format_pounds(request.amount)} {request.get_status_display().lower()} "
                    f"({request.reference}): the posting stands", new={"request": request.pk})


register_control(ControlAction.DPA_REVERSAL, _execute_posting_reversal, on_refused=_posting_reversal_refused)
