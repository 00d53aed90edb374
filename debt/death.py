"""What the income team's records do when a client dies (handlers for casework.deaths.registry).

1. Charges after the death (`debt.credit_after_death`): each issued invoice whose lines cover
   days after the date of death gets a part credit note for exactly those days, through
   `credit_note_raise`. A line's credit is what it billed less what billing would bill for its
   days up to the death (weekly rate × days ÷ 7, to the penny, as debt/billing.py pro-rates), so
   the invoice is left owing exactly what a billing run that knew of the death would have billed.
   Reversed (the death was recorded in error) by re-billing those days: a new invoice for the same
   period whose ledger entry reverses the credit note's, never by deleting anything; payments
   the credit note left unallocated go back onto it where they are still unallocated.
   It reduces what is owed, so it is a money control (the handler's `credit`): confirmed alone only
   when the death is verified, otherwise by a team leader other than who recorded the death
   (casework.deaths.services.why_cannot_confirm).
2. Recovery stops (`debt.stop_recovery`): recovery already derives a "deceased" hold from the
   client's date of death (debt.services.recovery.client_state_holds); this records it as a hold an
   officer can see (with each open debt and its stage), released on reversal.
3. Repayment plans (`debt.cancel_plans`): each active plan is cancelled with the reason through
   plan_transition. A cancelled plan cannot be reopened: on reversal the timeline says so and a
   new plan must be agreed.

Billing itself runs charges up to and including the date of death only (debt/billing.py).
`death_credits_billed` gives the billing run the lines of the credit notes raised here, so that
its automatic adjustments for earlier periods count them and never credit the same days twice;
`death_adjusts_after` keeps those adjustments off what was invoiced before the death was recorded
while its credits wait for confirmation, or when the death is not verified and no one has
confirmed them, so the billing run is never a way round the credit's control.
"""
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Q
from django.utils import timezone

from casework.deaths.registry import Proposal, register_death_handler
from casework.letters.types import long_date
from casework.models import Client, TimelineEntry
from casework.constants import TimelineKind
from casework.money import ZERO, format_pounds, to_pennies
from casework.services import ledger_reverse

from . import billing
from .constants import HoldKind, LineKind

CREDIT_KIND = "debt.credit_after_death"
RECOVERY_KIND = "debt.stop_recovery"
PLANS_KIND = "debt.cancel_plans"


def _timeline(client: Client, action: str, summary: str, actor, new=None, body: str = "") -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary[:300],
                                 body=body, new_value=new, actor=actor, occurred_at=timezone.now())


# 1. Charges for days after the death -----------------------------------------------------------

def _days_after(line, died: date) -> int:
    start = max(line.date_from, died + timedelta(days=1))
    return max((line.date_to - start).days + 1, 0)


def line_credit_after_death(line, died: date) -> Decimal:
    """What a line billed for days after the death: all of it when every day is after; otherwise
    the line less the pro-rated amount for its days up to and including the death (a charge line
    at its weekly rate, an adjustment line in proportion to its days)."""
    after = _days_after(line, died)
    if after == 0 or line.amount <= 0:
        return ZERO
    if line.date_from > died:
        return to_pennies(line.amount)
    kept = (died - line.date_from).days + 1
    if line.kind == LineKind.CHARGE and line.weekly_rate > 0:
        return to_pennies(line.amount - billing.pro_rata(line.weekly_rate, kept))
    span = (line.date_to - line.date_from).days + 1  # an adjustment's `days` counts only the days that changed
    return to_pennies(line.amount - to_pennies(line.amount * kept / span))


def credits_after_death(client: Client, died: date) -> list[dict]:
    """Per issued invoice covering days after the death: its lines' credits, capped at what each
    line has not yet been credited."""
    from .models import Invoice
    from .services.billing import credit_remaining_by_line

    proposals = []
    invoices = (Invoice.objects.filter(client=client, corrects__isnull=True, total__gt=0, period_end__gt=died)
                .order_by("period_start", "number"))
    for invoice in invoices:
        remaining = credit_remaining_by_line(invoice)
        lines, days = [], set()
        for line in invoice.lines.order_by("id"):
            amount = min(line_credit_after_death(line, died), max(remaining.get(line.pk, ZERO), ZERO))
            if amount > 0:
                lines.append([line.pk, str(amount)])
                first = max(line.date_from, died + timedelta(days=1))
                days |= {first + timedelta(days=n) for n in range((line.date_to - first).days + 1)}
        if lines:
            total = to_pennies(sum((Decimal(a) for _, a in lines), ZERO))
            proposals.append({"invoice": invoice.pk, "number": invoice.number, "lines": lines, "amount": str(total),
                              "first": min(days).isoformat(), "last": max(days).isoformat(), "days": len(days)})
    return proposals


def propose_credits(client: Client, date_of_death: date) -> list[Proposal]:
    return [Proposal(
        summary=(f"Credit invoice {p['number']} {format_pounds(Decimal(p['amount']))} for {p['days']} "
                 f"day{'s' if p['days'] != 1 else ''} after the death "
                 f"({billing.date_range(date.fromisoformat(p['first']), date.fromisoformat(p['last']))})"),
        object_ref=p["number"], payload=p) for p in credits_after_death(client, date_of_death)]


def apply_credit(client: Client, date_of_death: date, payload: dict, actor) -> dict:
    from .models import Invoice, InvoiceLine
    from .services.billing import credit_note_raise

    invoice = Invoice.objects.get(pk=payload["invoice"], client=client)
    lines = {line.pk: line for line in InvoiceLine.objects.filter(invoice=invoice)}
    chosen = [(lines[pk], Decimal(amount)) for pk, amount in payload["lines"] if pk in lines]
    reason = (f"Charges after the client's death on {long_date(date_of_death)}: {payload['days']} "
              f"day{'s' if payload['days'] != 1 else ''} not chargeable")
    credit = credit_note_raise(invoice=invoice, reason=reason, actor=actor, lines=chosen)
    return {"credit_note": credit.pk, "number": credit.number, "reference": credit.number,
            "amount": str(-credit.total), "freed": str(getattr(credit, "freed", ZERO))}


def credit_of(payload: dict) -> Decimal:
    """What a proposed credit takes off what the client owes."""
    return Decimal(payload.get("amount") or "0")


def _rebill_lines(rebill, credit, died: date) -> list:
    from .models import InvoiceLine

    rows = []
    for line in credit.lines.order_by("id"):
        first = max(line.date_from, died + timedelta(days=1))
        days = max((line.date_to - first).days + 1, 1)
        rows.append(InvoiceLine(
            invoice=rebill, kind=LineKind.ADJUSTMENT, assessed_charge_id=line.assessed_charge_id,
            service_id=line.service_id, date_from=min(first, line.date_to), date_to=line.date_to, days=days,
            weekly_rate=line.weekly_rate, cap=line.cap, amount=-line.amount,
            explanation=(f"Charged again: credit note {credit.number} cancelled because the death was recorded in "
                         f"error. {line.explanation}")[:400]))
    return rows


def reverse_credit(client: Client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    """Re-bill the credited days: the credit note's ledger entry is reversed, and a new invoice for
    the same period (due when the original was) carries that reversing entry and the days."""
    from .models import Invoice, InvoiceLine
    from .services.billing import INVOICE_SERIES, _next_number

    credit = Invoice.objects.select_related("corrects", "ledger_entry").get(pk=result["credit_note"])
    original = credit.corrects
    reason = f"Death recorded in error: credit note {credit.number} cancelled"
    entry = ledger_reverse(entry=credit.ledger_entry, reason=reason, actor=actor, effective_date=timezone.localdate())
    number = _next_number(INVOICE_SERIES)
    rebill = Invoice.objects.create(
        number=number, client=original.client, account=original.account, period_start=original.period_start,
        period_end=original.period_end, issue_date=timezone.localdate(), due_date=original.due_date,
        total=-credit.total, reason=f"Re-bills credit note {credit.number}: the death was recorded in error"[:300],
        ledger_entry=entry, created_by=actor)
    InvoiceLine.objects.bulk_create(_rebill_lines(rebill, credit, date_of_death))
    _timeline(client, "debt.death.credit_rebilled",
              f"Invoice {number} of {format_pounds(rebill.total)} charges again what credit note {credit.number} "
              f"credited on invoice {original.number}: the death was recorded in error", actor,
              new={"invoice": rebill.pk, "credit_note": credit.pk})
    _reallocate_freed(original, credit, rebill, actor)


def _reallocate_freed(original, credit, rebill, actor) -> None:
    """Payments the credit note took off the invoice go onto the re-bill, as far as they are
    still unallocated (an officer may have refunded or moved them since)."""
    from .models import PaymentAllocation
    from .selectors import payment_unallocated
    from .services.payments import payment_reallocate

    taken = PaymentAllocation.objects.filter(invoice=original, amount__lt=0,
                                             reason__startswith=f"Credit note {credit.number} ").select_related("payment")
    for allocation in taken:
        amount = min(-allocation.amount, payment_unallocated(allocation.payment))
        if amount > 0:
            payment_reallocate(payment=allocation.payment, invoice=rebill, amount=amount, actor=actor,
                               reason=f"Back onto the re-billed days: credit note {credit.number} cancelled")


def death_adjusts_after(client_ids) -> dict[int, date]:
    """client id -> the last day invoiced before the client's death was recorded, for each death
    whose credits for care after it are still waiting for confirmation, or which is not verified
    and none of whose credits anyone confirmed. The billing run adjusts earlier periods for the
    death only after that day: what was invoiced before the death was recorded is credited only
    through the death's credits, with their control."""
    from django.db.models import Exists, Max, OuterRef, Subquery

    from casework.models.deaths import ConsequenceStatus, DeathConsequence, DeathRecord, DeathRecordStatus

    from .models import Invoice

    credits = DeathConsequence.objects.filter(death=OuterRef("pk"), kind=CREDIT_KIND)
    invoiced = (Invoice.objects.filter(client_id=OuterRef("client_id"), corrects__isnull=True,
                                       created_at__lt=OuterRef("recorded_at"))
                .order_by().values("client_id").annotate(last=Max("period_end")).values("last"))
    deaths = (DeathRecord.objects.filter(client_id__in=list(client_ids), status=DeathRecordStatus.RECORDED)
              .annotate(waiting=Exists(credits.filter(status=ConsequenceStatus.PROPOSED)),
                        confirmed=Exists(credits.filter(status=ConsequenceStatus.APPLIED)),
                        last=Subquery(invoiced))
              .filter(Q(waiting=True) | Q(verified=False, confirmed=False)).values_list("client_id", "last"))
    # One query for the whole chunk, whatever its size.
    return {client_id: last for client_id, last in deaths if last is not None}


def death_credits_billed(client_ids) -> dict[int, list[billing.Billed]]:
    """client id -> the lines of credit notes raised for days after a death, as billed amounts
    (negative), for debt.services.billing.load_billing_data to count alongside the invoices'
    lines, so a billing run's adjustments for earlier periods never credit those days again."""
    from casework.models.deaths import ConsequenceStatus, DeathConsequence

    from .models import InvoiceLine

    ids = [r.get("credit_note") for r in DeathConsequence.objects.filter(
        kind=CREDIT_KIND, death__client_id__in=list(client_ids),
        status__in=[ConsequenceStatus.APPLIED, ConsequenceStatus.REVERSED]).values_list("result", flat=True)]
    result: dict[int, list[billing.Billed]] = defaultdict(list)
    rows = InvoiceLine.objects.filter(invoice_id__in=[i for i in ids if i]).order_by("invoice_id", "id").values_list(
        "invoice__client_id", "service_id", "date_from", "date_to", "weekly_rate", "amount")
    for client_id, *fields in rows:
        result[client_id].append(billing.Billed(*fields))
    return dict(result)


# 2. Recovery stops ------------------------------------------------------------------------------

def open_debts(client: Client) -> list:
    from .models import Invoice
    from .selectors import with_balances

    return list(with_balances(Invoice.objects.filter(client=client, total__gt=0)).filter(outstanding__gt=0)
                .order_by("due_date", "number"))


def propose_stop_recovery(client: Client, date_of_death: date) -> list[Proposal]:
    from .models import DebtRecovery

    debts = open_debts(client)
    if not debts:
        return []
    position = DebtRecovery.objects.filter(client=client).select_related("stage").first()
    stage = position.stage.name if position and position.stage else "not yet on the recovery ladder"
    balance = to_pennies(sum((d.outstanding for d in debts), ZERO))
    listed = ", ".join(f"{d.number} {format_pounds(d.outstanding)}" for d in debts[:6])
    more = f" and {len(debts) - 6} more" if len(debts) > 6 else ""
    return [Proposal(
        summary=(f"Stop recovery of {format_pounds(balance)} owed on {len(debts)} invoice{'s' if len(debts) != 1 else ''} "
                 f"({listed}{more}); stage: {stage}. Recover from the estate instead"),
        object_ref=client.reference,
        payload={"balance": str(balance), "stage": stage,
                 "invoices": [{"number": d.number, "outstanding": str(d.outstanding)} for d in debts]})]


def apply_stop_recovery(client: Client, date_of_death: date, payload: dict, actor) -> dict:
    from .estates import death_hold_review_months
    from .services.recovery import hold_place

    today = timezone.localdate()
    # Reviewed after the personal representatives' notice period for claims (data: DeathHoldReviewRule).
    review = today + relativedelta(months=death_hold_review_months(today))
    hold = hold_place(client=client, kind=HoldKind.DECEASED, actor=actor, on=today, review_date=review,
                      note=(f"The client died on {long_date(date_of_death)}: no reminders; recover "
                            f"{format_pounds(Decimal(payload['balance']))} from the estate"))
    return {"hold": hold.pk}


def reverse_stop_recovery(client: Client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    from .models import DebtHold
    from .services.recovery import hold_release

    hold_release(hold=DebtHold.objects.get(pk=result["hold"]), actor=actor,
                 note="The death was recorded in error: recovery resumes")


# 3. Repayment plans -----------------------------------------------------------------------------

def propose_cancel_plans(client: Client, date_of_death: date) -> list[Proposal]:
    from .models import RepaymentPlan

    return [Proposal(
        summary=(f"Cancel repayment plan {plan.pk} ({format_pounds(plan.instalment_amount)} "
                 f"{plan.get_frequency_display().lower()} from {long_date(plan.start_date)}): the estate pays "
                 "instead. A cancelled plan cannot be reopened"),
        object_ref=f"Plan {plan.pk}", payload={"plan": plan.pk})
        for plan in RepaymentPlan.objects.filter(client=client).in_good_standing().order_by("start_date", "pk")]


def apply_cancel_plan(client: Client, date_of_death: date, payload: dict, actor) -> dict:
    from .models import RepaymentPlan
    from .models.relief import PlanStatus
    from .services.relief import plan_transition

    plan = RepaymentPlan.objects.get(pk=payload["plan"], client=client)
    plan_transition(plan=plan, to_status=PlanStatus.CANCELLED, actor=actor,
                    reason=f"The client died on {long_date(date_of_death)}: the estate pays instead")
    return {"plan": plan.pk}


def reverse_cancel_plan(client: Client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    _timeline(client, "debt.death.plan_not_reopened",
              f"Repayment plan {result['plan']} stays cancelled (a cancelled plan cannot be reopened): agree a new "
              "plan with the client", actor, new={"plan": result["plan"]})


def register() -> None:
    register_death_handler(kind=CREDIT_KIND, label="Charges for days after the death", propose=propose_credits,
                           apply=apply_credit, reverse=reverse_credit, order=20, credit=credit_of)
    register_death_handler(kind=RECOVERY_KIND, label="Debt recovery", propose=propose_stop_recovery,
                           apply=apply_stop_recovery, reverse=reverse_stop_recovery, order=30)
    register_death_handler(kind=PLANS_KIND, label="Repayment plans", propose=propose_cancel_plans,
                           apply=apply_cancel_plan, reverse=reverse_cancel_plan, order=35)
