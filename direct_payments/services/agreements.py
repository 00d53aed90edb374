"""Agreements, their status, and payments to recipients (by the payment run or by hand)."""
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from casework.constants import AccountKind, Capacity, EntryKind, TimelineKind
from casework.models import Client, RunItem, Team
from casework.money import ZERO, format_pounds, to_pennies
from casework.services import DomainError, account_for_client, ledger_post

from ..constants import PLAN_CATEGORIES, AgreementStatus, PaymentSource, RecipientKind, RecoveryRoute, RecoveryStatus
from ..models import Agreement, AgreementEvent, DirectPayment, Recovery
from .common import policy_on, timeline


@transaction.atomic
def agreement_create(*, client: Client, team: Team, weekly_budget: Decimal, start_date: date, actor,
                     weekly_contribution: Decimal = ZERO, recipient_kind: str = RecipientKind.CLIENT,
                     recipient_name: str = "", frequency: str = "four_weekly", account_type: str = "bank",
                     end_date: date | None = None, contingency_weeks: int | None = None,
                     first_audit_weeks: int | None = None, audit_interval_months: int | None = None,
                     risk: str = "standard", support_plan_categories: list[str] | None = None) -> Agreement:
    """Record an agreement; figures not given come from the policy in force on the start date."""
    weekly_budget, weekly_contribution = to_pennies(weekly_budget), to_pennies(weekly_contribution or ZERO)
    if weekly_budget <= 0:
        raise DomainError("Enter a weekly budget more than £0.00", field="weekly_budget")
    if not ZERO <= weekly_contribution <= weekly_budget:
        raise DomainError("The contribution must be between £0.00 and the weekly budget", field="weekly_contribution")
    if end_date and end_date < start_date:
        raise DomainError("The end date must be on or after the start date", field="end_date")
    if recipient_kind != RecipientKind.CLIENT and not recipient_name.strip():
        raise DomainError("Enter the name of the person who receives the payments", field="recipient_name")
    if recipient_kind == RecipientKind.AUTHORISED and client.capacity != Capacity.LACKS:
        raise DomainError("An authorised person receives payments only when the client lacks capacity to manage "
                          "their finances: record the capacity assessment first", field="recipient_kind")
    unknown = set(support_plan_categories or []) - {c.value for c in PLAN_CATEGORIES}
    if unknown:
        raise DomainError(f"Unknown support plan categories: {', '.join(sorted(unknown))}", field="support_plan_categories")
    policy = policy_on(start_date)
    agreement = Agreement.objects.create(
        client=client, team=team, recipient_kind=recipient_kind,
        recipient_name="" if recipient_kind == RecipientKind.CLIENT else recipient_name.strip(),
        weekly_budget=weekly_budget, weekly_contribution=weekly_contribution, frequency=frequency,
        account_type=account_type, start_date=start_date, end_date=end_date,
        contingency_weeks=policy.default_contingency_weeks if contingency_weeks is None else contingency_weeks,
        first_audit_weeks=policy.first_audit_weeks if first_audit_weeks is None else first_audit_weeks,
        audit_interval_months=policy.audit_interval_months if audit_interval_months is None else audit_interval_months,
        risk=risk, support_plan_categories=list(support_plan_categories or []), created_by=actor)
    AgreementEvent.objects.create(agreement=agreement, new_status=agreement.status, reason="Agreement recorded",
                                  actor=actor)
    timeline(client, "direct_payments.agreement.created",
             f"Direct payment agreement {agreement.reference} recorded: {format_pounds(weekly_budget)} a week, "
             f"contribution {format_pounds(weekly_contribution)}", actor,
             new={"agreement": agreement.pk, "weekly_budget": str(weekly_budget)})
    return agreement


@transaction.atomic
def agreement_transition(*, agreement: Agreement, to: str, actor, reason: str) -> Agreement:
    """The one way an agreement changes status (suspend, resume, end), with a reason."""
    if not reason.strip():
        raise DomainError("Give a reason", field="reason")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status == to:
        return agreement
    if not agreement.can_transition_to(to):
        raise DomainError(f"Agreement {agreement.reference} cannot move from "
                          f"{agreement.get_status_display().lower()} to {AgreementStatus(to).label.lower()}")
    old = agreement.status
    agreement.status, agreement.status_reason = to, reason.strip()[:300]
    agreement._history_user = actor
    agreement.save(update_fields=["status", "status_reason"])
    AgreementEvent.objects.create(agreement=agreement, old_status=old, new_status=to, reason=reason.strip()[:300],
                                  actor=actor)
    timeline(agreement.client, "direct_payments.agreement.status",
             f"Direct payment {agreement.reference}: {AgreementStatus(old).label.lower()} to "
             f"{AgreementStatus(to).label.lower()}", actor, kind=TimelineKind.STATUS, body=reason.strip(),
             old={"status": old}, new={"status": to})
    return agreement


def recovery_remaining(recovery: Recovery) -> Decimal:
    taken = recovery.reductions.aggregate(total=Sum("reduction"))["total"] or ZERO
    return to_pennies(recovery.amount - taken)


def _reductions_due(agreement: Agreement) -> list[tuple[Recovery, Decimal]]:
    recoveries = Recovery.objects.select_for_update().filter(
        audit__agreement=agreement, route=RecoveryRoute.REDUCE, status=RecoveryStatus.APPROVED).order_by("decided_at", "id")
    return [(r, left) for r in recoveries if (left := recovery_remaining(r)) > 0]


def _post(agreement: Agreement, amount: Decimal, paid_on: date, reference: str, description: str, actor):
    if amount <= 0:
        return None
    return ledger_post(account=account_for_client(agreement.client, AccountKind.DIRECT_PAYMENT), kind=EntryKind.PAYMENT,
                       amount=amount, effective_date=paid_on, reference=reference, description=description, actor=actor)


def period_amount(agreement: Agreement, start: date) -> tuple[date, Decimal]:
    """(last day paid, net amount) for the period starting on `start`: a part period when the
    agreement ends inside it (weekly amount × days ÷ 7, half up to the penny)."""
    end = start + timedelta(days=agreement.period_days - 1)
    if agreement.end_date and agreement.end_date < end:
        end = agreement.end_date
    days = (end - start).days + 1
    return end, to_pennies(agreement.net_weekly * days / 7)


@transaction.atomic
def payment_for_period(*, agreement: Agreement, period_start: date, paid_on: date, actor,
                       run_item: RunItem | None = None, source: str = PaymentSource.RUN) -> DirectPayment:
    """Pay one period in advance. Unique on (agreement, period_start): asked twice, it refuses.
    An approved recovery by reduction takes what it still needs from the payment first."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(f"Payments are {agreement.get_status_display().lower()}: {agreement.status_reason}")
    if period_start < agreement.start_date or (period_start - agreement.start_date).days % agreement.period_days:
        raise DomainError("That date does not start one of the agreement's payment periods", field="period_start")
    if agreement.end_date and period_start > agreement.end_date:
        raise DomainError("The agreement has ended before that period", field="period_start")
    if DirectPayment.objects.filter(agreement=agreement, period_start=period_start).exists():
        raise DomainError(f"The period from {period_start:%-d %B %Y} is already paid", field="period_start")
    period_end, due = period_amount(agreement, period_start)
    reduction, recovery = ZERO, None
    for recovery, left in _reductions_due(agreement)[:1]:
        reduction = min(left, due)
    amount = to_pennies(due - reduction)
    reference = f"{agreement.reference}-{period_start:%Y%m%d}"
    entry = _post(agreement, amount, paid_on, reference,
                  f"Direct payment {period_start:%-d %b %Y} to {period_end:%-d %b %Y}"
                  + (f" less {format_pounds(reduction)} recovered" if reduction else ""), actor)
    try:
        with transaction.atomic():
            payment = DirectPayment.objects.create(
                agreement=agreement, period_start=period_start, period_end=period_end, paid_on=paid_on, due_amount=due,
                reduction=reduction, amount=amount, recovery=recovery if reduction else None, source=source,
                ledger_entry=entry, run_item=run_item, created_by=actor)
    except IntegrityError as exc:  # the same period paid by another process a moment ago
        raise DomainError(f"The period from {period_start:%-d %B %Y} is already paid") from exc
    if reduction:
        timeline(agreement.client, "direct_payments.recovery.reduced",
                 f"{format_pounds(reduction)} recovered by reducing the payment for {agreement.reference}", actor,
                 new={"payment": payment.pk, "recovery": recovery.pk, "reduction": str(reduction)})
    return payment


@transaction.atomic
def payment_record(*, agreement: Agreement, amount: Decimal, paid_on: date, actor, note: str,
                   period_start: date | None = None) -> DirectPayment:
    """A payment made by hand: for a period (the run then never pays that period) or a one-off."""
    if period_start is not None:
        payment = payment_for_period(agreement=agreement, period_start=period_start, paid_on=paid_on, actor=actor,
                                     source=PaymentSource.MANUAL)
        if note.strip():
            timeline(agreement.client, "direct_payments.payment.note", f"Payment {payment.pk} recorded by hand",
                     actor, body=note.strip())
        return payment
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    if not note.strip():
        raise DomainError("Say what the one-off payment is for", field="note")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(f"Payments are {agreement.get_status_display().lower()}: {agreement.status_reason}")
    count = agreement.payments.filter(period_start__isnull=True).count() + 1
    entry = _post(agreement, amount, paid_on, f"{agreement.reference}-X{count:03d}", f"One-off direct payment: {note.strip()}"[:300],
                  actor)
    return DirectPayment.objects.create(agreement=agreement, paid_on=paid_on, due_amount=amount, amount=amount,
                                        source=PaymentSource.MANUAL, note=note.strip()[:300], ledger_entry=entry,
                                        created_by=actor)
