"""Every change to Breathing Space moratoria and repayment plans, and the reads other areas use.

Each write is one function, keyword-only with `actor`, in a transaction, with its timeline entry.
"""
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.calendar import WorkingCalendar, working_due_date
from casework.constants import CaseStatus, CaseType, TimelineKind
from casework.in_force import in_force
from casework.models import Case, Client, LedgerEntry, Team, TimelineEntry
from casework.money import ZERO, to_pennies
from casework.services import DomainError
from casework.services.cases import case_create, case_transition

from .. import relief as rules
from ..models import (
    BreathingSpaceRule,
    FinancialStatement,
    FinancialStatementLine,
    Invoice,
    Moratorium,
    Payment,
    PlanRule,
    RepaymentPlan,
    SpendingGuideline,
    SuppressedAction,
)
from ..models.relief import (
    INCOME_CATEGORIES,
    SPENDING_CATEGORIES,
    MoratoriumEndReason,
    MoratoriumKind,
    PlanStatus,
)


def _timeline(client: Client, action: str, summary: str, actor, new=None, old=None, reason: str = "",
              case: Case | None = None) -> None:
    TimelineEntry.objects.create(client=client, case=case, kind=TimelineKind.SYSTEM, action=action,
                                 summary=summary[:300], body=reason, old_value=old, new_value=new, actor=actor,
                                 occurred_at=timezone.now())


def _in_force(model, on: date, label: str):
    return in_force(model, on, f"{label} are")


def breathing_space_rule(on: date) -> BreathingSpaceRule:
    return _in_force(BreathingSpaceRule, on, "Breathing Space rules")


def plan_rule(on: date) -> PlanRule:
    return _in_force(PlanRule, on, "repayment plan rules")


# Breathing Space --------------------------------------------------------------------------------

@transaction.atomic
def moratorium_record(*, client: Client, kind: str, register_entry_date: date, adviser_name: str,
                      adviser_organisation: str, insolvency_reference: str, actor, adviser_contact: str = "",
                      invoices: list[Invoice] | None = None, treatment_ended_on: date | None = None) -> Moratorium:
    """Record a moratorium from the Insolvency Service notice. With no `invoices` it covers every
    debt owed at the start (BS-06: debts arising later are not moratorium debts)."""
    reference = insolvency_reference.strip()
    if Moratorium.objects.filter(client=client, insolvency_reference=reference).exists():
        raise DomainError(f"Moratorium {reference} is already recorded for {client.reference}",
                          field="insolvency_reference")
    if invoices and any(i.client_id != client.pk for i in invoices):
        raise DomainError("Every invoice covered must be this client's", field="invoices")
    start = register_entry_date + timedelta(days=1)
    rule = breathing_space_rule(start)
    dates = rules.moratorium_dates(kind=kind, register_entry=register_entry_date, rule=rule,
                                   treatment_ended_on=treatment_ended_on)
    warning = rules.repeat_warning(
        kind=kind, start=dates.start, months=rule.standard_repeat_months,
        earlier_standard_starts=Moratorium.objects.filter(client=client, kind=MoratoriumKind.STANDARD)
        .values_list("start_date", flat=True))
    moratorium = Moratorium.objects.create(
        client=client, kind=kind, register_entry_date=register_entry_date, start_date=dates.start,
        expected_end=dates.expected_end, treatment_ended_on=treatment_ended_on, review_due_on=dates.review_due,
        adviser_name=adviser_name.strip(), adviser_organisation=adviser_organisation.strip(),
        adviser_contact=adviser_contact.strip(), insolvency_reference=reference, covers_all_debts=not invoices,
        eligibility_warning=warning, created_by=actor)
    if invoices:
        moratorium.invoices.set(invoices)
    _timeline(client, "debt.breathing_space.recorded",
              f"{moratorium.get_kind_display()} {reference} recorded: from {dates.start:%d %B %Y}", actor,
              new={"moratorium": moratorium.pk, "start": str(dates.start), "expected_end": str(dates.expected_end),
                   "covers": "all" if not invoices else [i.number for i in invoices]}, reason=warning)
    return moratorium


def _locked(moratorium: Moratorium) -> Moratorium:
    return Moratorium.objects.select_for_update().get(pk=moratorium.pk)


@transaction.atomic
def moratorium_end(*, moratorium: Moratorium, ended_on: date, reason: str, actor, note: str = "") -> Moratorium:
    """End (notice received), cancel, or expire a moratorium. Ending an ended one changes nothing."""
    moratorium = _locked(moratorium)
    if moratorium.ended_on is not None:
        return moratorium
    if reason not in MoratoriumEndReason.values:
        raise DomainError("Choose why the moratorium ended", field="reason")
    if ended_on < moratorium.start_date:
        raise DomainError("The end cannot be before the start", field="ended_on")
    moratorium.ended_on, moratorium.end_reason = ended_on, reason
    moratorium.save(update_fields=["ended_on", "end_reason"])
    _timeline(moratorium.client, "debt.breathing_space.ended",
              f"Breathing Space {moratorium.insolvency_reference} {MoratoriumEndReason(reason).label.lower()} "
              f"on {ended_on:%d %B %Y}", actor, new={"ended_on": str(ended_on), "reason": reason}, reason=note)
    return moratorium


@transaction.atomic
def moratorium_treatment_ended(*, moratorium: Moratorium, treatment_ended_on: date, actor) -> Moratorium:
    """A crisis moratorium's treatment has ended: it now ends that date + the rule's extra days."""
    moratorium = _locked(moratorium)
    if moratorium.kind != MoratoriumKind.MENTAL_HEALTH:
        raise DomainError("Only a mental health crisis breathing space depends on treatment", field="treatment_ended_on")
    if treatment_ended_on < moratorium.start_date:
        raise DomainError("The treatment end cannot be before the start", field="treatment_ended_on")
    dates = rules.moratorium_dates(kind=moratorium.kind, register_entry=moratorium.register_entry_date,
                                   rule=breathing_space_rule(moratorium.start_date),
                                   treatment_ended_on=treatment_ended_on)
    old = str(moratorium.expected_end)
    moratorium.treatment_ended_on, moratorium.expected_end = treatment_ended_on, dates.expected_end
    moratorium.save(update_fields=["treatment_ended_on", "expected_end"])
    _timeline(moratorium.client, "debt.breathing_space.treatment_ended",
              f"Crisis treatment ended {treatment_ended_on:%d %B %Y}: Breathing Space expected to end "
              f"{dates.expected_end:%d %B %Y}", actor, old={"expected_end": old},
              new={"expected_end": str(dates.expected_end)})
    return moratorium


@transaction.atomic
def moratorium_review_request(*, moratorium: Moratorium, requested_on: date, grounds: str, actor,
                              outcome: str = "") -> Moratorium:
    """Record the creditor's request to the debt adviser for a review (BS-07), or its outcome."""
    moratorium = _locked(moratorium)
    if not grounds.strip():
        raise DomainError("Give the grounds for the review", field="grounds")
    if moratorium.review_requested_on is None and moratorium.review_due_on and requested_on > moratorium.review_due_on:
        raise DomainError(f"A review had to be requested by {moratorium.review_due_on:%d %B %Y}", field="requested_on")
    moratorium.review_requested_on, moratorium.review_grounds = requested_on, grounds.strip()
    moratorium.review_outcome = outcome.strip()[:300]
    moratorium.save(update_fields=["review_requested_on", "review_grounds", "review_outcome"])
    _timeline(moratorium.client, "debt.breathing_space.review_requested",
              f"Review of Breathing Space {moratorium.insolvency_reference} requested {requested_on:%d %B %Y}", actor,
              new={"requested_on": str(requested_on), "outcome": moratorium.review_outcome}, reason=grounds)
    return moratorium


def active_moratorium(client_id: int, on: date) -> Moratorium | None:
    return Moratorium.objects.active_on(on).filter(client_id=client_id).first()


def covered_invoice_ids(moratorium: Moratorium) -> set[int]:
    """The invoices a moratorium covers: those chosen, or every invoice issued by its start."""
    return set(covered_invoice_ids_for([moratorium])[moratorium.pk])


def covered_invoice_ids_for(moratoria: list[Moratorium]) -> dict[int, frozenset[int]]:
    """{moratorium pk: the invoices it covers} for many moratoria, in two queries at most: those
    chosen in the notice, or (covering all debts) every invoice issued by its start (BS-06)."""
    covered: dict[int, set[int]] = {m.pk: set() for m in moratoria}
    chosen = [m.pk for m in moratoria if not m.covers_all_debts]
    if chosen:
        for moratorium_id, invoice_id in (Moratorium.invoices.through.objects.filter(moratorium_id__in=chosen)
                                          .values_list("moratorium_id", "invoice_id")):
            covered[moratorium_id].add(invoice_id)
    everything: dict[int, list[Moratorium]] = defaultdict(list)
    for m in moratoria:
        if m.covers_all_debts:
            everything[m.client_id].append(m)
    if everything:
        for pk, client_id, issued in (Invoice.objects.filter(client_id__in=list(everything), total__gt=0)
                                      .values_list("pk", "client_id", "issue_date")):
            for m in everything[client_id]:
                if issued <= m.start_date:
                    covered[m.pk].add(pk)
    return {pk: frozenset(ids) for pk, ids in covered.items()}


def breathing_spaces_for(client_ids, on: date) -> dict[int, list[rules.Protection]]:
    """Each client's moratoria started by `on`, with the days they protect so far and the invoices
    they cover: what the recovery ladder moves its dates on by."""
    moratoria = list(Moratorium.objects.filter(client_id__in=list(client_ids), start_date__lte=on))
    covered = covered_invoice_ids_for(moratoria)
    result: dict[int, list[rules.Protection]] = defaultdict(list)
    for m in moratoria:
        result[m.client_id].append(rules.Protection(start=m.start_date, last=min(m.last_day or on, on),
                                                    invoice_ids=covered[m.pk]))
    return dict(result)


def suppression_record(*, client: Client, action: str, detail: str, on: date | None = None,
                       moratorium: Moratorium | None = None) -> SuppressedAction:
    """Log something not done because of a Breathing Space. For any area to call."""
    on = on or timezone.localdate()
    moratorium = moratorium or active_moratorium(client.pk, on)
    return SuppressedAction.objects.create(client=client, moratorium=moratorium, action=action,
                                           detail=detail[:400], occurred_on=on)


def suppressions_record(rows: list[tuple[Client, int | None, str]], *, on: date, action: str) -> int:
    """Log many things not done because of a Breathing Space, each (client, moratorium pk, detail),
    in one INSERT; a detail already logged for that client and moratorium is not logged again (a
    nightly run finds the same stage held every night). Returns how many were new."""
    if not rows:
        return 0
    seen = set(SuppressedAction.objects.filter(client_id__in={c.pk for c, _, _ in rows}, action=action)
               .values_list("client_id", "moratorium_id", "detail"))
    new = []
    for client, moratorium_id, detail in rows:
        key = (client.pk, moratorium_id, detail[:400])
        if key not in seen:
            seen.add(key)
            new.append(SuppressedAction(client=client, moratorium_id=moratorium_id, action=action, detail=key[2],
                                        occurred_on=on))
    SuppressedAction.objects.bulk_create(new)
    return len(new)


def moratorium_days(moratorium: Moratorium) -> int:
    """The moratorium's length in days, start and last day included; 0 while it has no last day."""
    last = moratorium.last_day
    return (last - moratorium.start_date).days + 1 if last else 0


def recovery_pause_days(client_id: int, from_date: date, to_date: date) -> int:
    """Days from `from_date` to `to_date` (inclusive) when the client was in a Breathing Space:
    how far the recovery ladder moves its dates on. An open-ended one counts up to `to_date`."""
    periods = [(p.start, p.last) for p in breathing_spaces_for([client_id], to_date).get(client_id, [])]
    return rules.days_covered(periods, from_date, to_date)


# Financial statements and plans -----------------------------------------------------------------

def guidelines_for(household_type: str, on: date) -> dict[str, Decimal]:
    """The spending guideline in force on `on` for each category, for this household type."""
    result: dict[str, Decimal] = {}
    for row in SpendingGuideline.objects.filter(household_type=household_type, effective_from__lte=on) \
            .order_by("category", "-effective_from"):
        result.setdefault(row.category, row.monthly_trigger)
    return result


def assess(amounts: dict[str, Decimal], household_type: str, on: date) -> rules.Affordability:
    return rules.affordability(amounts, INCOME_CATEGORIES, SPENDING_CATEGORIES, guidelines_for(household_type, on))


def outstanding_balance(client: Client) -> Decimal:
    from ..selectors import unpaid_invoices

    return to_pennies(sum((i.outstanding for i in unpaid_invoices(client)), ZERO))


def plan_schedule(plan: RepaymentPlan) -> list[rules.Instalment]:
    """The plan's instalments, each due date that falls on a non-working day (council closures
    count) moved to the next working day; the calendar is read once for the whole plan."""
    nominal = rules.schedule(total=plan.total, instalment_amount=plan.instalment_amount, frequency=plan.frequency,
                             start=plan.start_date)
    calendar = WorkingCalendar.between(plan.start_date, nominal[-1].due_on + timedelta(days=21))
    return rules.schedule(total=plan.total, instalment_amount=plan.instalment_amount, frequency=plan.frequency,
                          start=plan.start_date, roll=lambda day: working_due_date(day, calendar).due)


def paid_towards(plan: RepaymentPlan, on: date) -> Decimal:
    """Payments received from the plan's start to `on`, leaving out reversed payments."""
    reversed_ids = LedgerEntry.objects.filter(reverses__isnull=False).values("reverses_id")
    total = (Payment.objects.filter(client_id=plan.client_id, received_on__gte=plan.start_date, received_on__lte=on)
             .exclude(ledger_entry_id__in=reversed_ids).aggregate(s=Sum("amount"))["s"])
    return to_pennies(total or ZERO)


@transaction.atomic
def plan_agree(*, client: Client, household_type: str, amounts: dict[str, Decimal], instalment_amount: Decimal,
               frequency: str, start_date: date, method: str, actor, notes: str = "",
               produce_letter: bool = True) -> RepaymentPlan:
    """Save the financial statement and the plan for the balance outstanding now, then (after
    commit) the confirmation letter. Refused if the instalment is more than the disposable income."""
    if client.repayment_plans.filter(status=PlanStatus.ACTIVE).exists():
        raise DomainError(f"{client.reference} already has an active repayment plan")
    total = outstanding_balance(client)
    if total <= 0:
        raise DomainError(f"{client.reference} owes nothing, so there is nothing to plan")
    if not instalment_amount or instalment_amount <= 0:
        raise DomainError("Enter an instalment amount", field="instalment_amount")
    today = timezone.localdate()
    check = assess(amounts, household_type, today)
    if rules.monthly_equivalent(instalment_amount, frequency) > check.disposable:
        raise DomainError(f"The instalments come to more a month than the disposable income of £{check.disposable:,.2f}",
                          field="instalment_amount")
    statement = FinancialStatement.objects.create(client=client, household_type=household_type, taken_on=today,
                                                  notes=notes, created_by=actor)
    FinancialStatementLine.objects.bulk_create([FinancialStatementLine(statement=statement, category=c, monthly_amount=a)
                                                for c, a in amounts.items() if a])
    plan = RepaymentPlan.objects.create(client=client, statement=statement, total=total,
                                        instalment_amount=instalment_amount, frequency=frequency,
                                        start_date=start_date, method=method, agreed_by=actor)
    _timeline(client, "debt.plan.agreed", f"Repayment plan agreed: £{total:,.2f} in instalments of up to "
              f"£{instalment_amount:,.2f} ({plan.get_frequency_display().lower()}) from {start_date:%d %B %Y}", actor,
              new={"plan": plan.pk, "total": str(total), "flagged": [c.category for c in check.flagged]})
    if produce_letter:
        transaction.on_commit(lambda: plan_confirmation_send(plan_id=plan.pk, actor=actor))
    return plan


def plan_confirmation_send(*, plan_id: int, actor) -> None:
    """Produce the confirmation letter once (a second call finds it already recorded)."""
    from casework.letters.services import letter_produce

    from ..relief_letters import PLAN_CONFIRMATION, confirmation_context

    plan = RepaymentPlan.objects.select_related("client").get(pk=plan_id)
    if plan.confirmation_letter_id:
        return
    on = timezone.localdate()
    letter = letter_produce(client=plan.client, letter_type=PLAN_CONFIRMATION, on=on, actor=actor,
                            context=confirmation_context(plan, on))
    RepaymentPlan.objects.filter(pk=plan.pk, confirmation_letter__isnull=True).update(confirmation_letter=letter)


@transaction.atomic
def plan_transition(*, plan: RepaymentPlan, to_status: str, actor, reason: str = "", on: date | None = None) -> RepaymentPlan:
    """The one way a plan changes status, checked against RepaymentPlan.ALLOWED_TRANSITIONS."""
    plan = RepaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == to_status:
        return plan
    if to_status not in PlanStatus.values or not plan.can_transition_to(to_status):
        raise DomainError(f"Plan {plan.pk} cannot move from {plan.get_status_display().lower()} to "
                          f"{PlanStatus(to_status).label.lower() if to_status in PlanStatus.values else to_status}",
                          field="status")
    if to_status in (PlanStatus.CANCELLED, PlanStatus.BROKEN) and not reason.strip():
        raise DomainError("Give a reason", field="reason")
    old = plan.status
    plan.status, plan.status_reason = to_status, reason.strip()[:300]
    plan.status_changed_on = on or timezone.localdate()
    plan.save(update_fields=["status", "status_reason", "status_changed_on"])
    _timeline(plan.client, "debt.plan.status.changed",
              f"Repayment plan {PlanStatus(old).label.lower()} → {plan.get_status_display().lower()}", actor,
              old={"status": old}, new={"status": to_status}, reason=reason)
    return plan


def _recovery_case(client: Client, actor) -> Case:
    """The client's open debt recovery case, or a new one in the team of their latest case."""
    open_case = (Case.objects.filter(client=client, case_type=CaseType.DEBT_RECOVERY)
                 .exclude(status=CaseStatus.CLOSED).order_by("-pk").first())
    if open_case:
        return open_case
    latest = Case.objects.filter(client=client).order_by("-pk").first()
    team = latest.team if latest else (Team.objects.order_by("pk").first()
                                       or Team.objects.get_or_create(name="Income team")[0])
    return case_create(client=client, case_type=CaseType.DEBT_RECOVERY, title="Broken repayment plan",
                       team=team, actor=actor)


def plan_break(*, plan: RepaymentPlan, actor, on: date, reason: str) -> RepaymentPlan:
    """Set the plan broken (its hold ends, so the ladder resumes) and escalate the recovery case
    so the team leader's queue shows it."""
    plan = plan_transition(plan=plan, to_status=PlanStatus.BROKEN, actor=actor, reason=reason, on=on)
    case = _recovery_case(plan.client, actor)
    case = case_transition(case=case, to_status=CaseStatus.ESCALATED, actor=actor,
                           reason=f"Repayment plan {plan.pk} broken: {reason}")
    RepaymentPlan.objects.filter(pk=plan.pk).update(case=case)
    plan.case = case
    return plan
