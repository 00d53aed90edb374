"""Scheduled jobs on the runs engine.

The payment run (`dp-payments`):
1. plan: every active or suspended agreement whose payment period containing the business date
   has started and is not yet paid ("agreement:<pk>:<period start>").
2. process: skip a suspended agreement with its reason; otherwise pay the period in advance
   (services.payment_for_period, unique per agreement and period: a re-run pays nothing twice).

The statements reminder (`dp-reminders`): every audit whose statements are overdue by the
policy's reminder days with nothing uploaded gets one reminder letter (AuditReminder is unique on
the audit, so a re-run never sends a second).
"""
from datetime import date, timedelta

from django.db.models import Q

from casework.models import Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError
from casework.services.system import system_user

from .constants import AgreementStatus, AuditStatus
from .models import Agreement, Audit, AuditReminder, DirectPayment


def plan_payments(business_date: date) -> list[str]:
    agreements = Agreement.objects.filter(
        status__in=[AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED], start_date__lte=business_date).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=business_date - timedelta(days=27)))
    paid = set(DirectPayment.objects.filter(period_start__isnull=False, agreement__in=agreements)
               .values_list("agreement_id", "period_start"))
    subjects = []
    for agreement in agreements.order_by("pk"):
        start, _ = agreement.period_containing(business_date)
        if agreement.end_date and start > agreement.end_date:
            continue
        if (agreement.pk, start) not in paid:
            subjects.append(f"agreement:{agreement.pk}:{start.isoformat()}")
    return subjects


def process_payment(run: Run, item: RunItem, prepared: dict) -> str:
    from .services.agreements import payment_for_period

    _, pk, start = item.subject.split(":")
    agreement = Agreement.objects.filter(pk=int(pk)).select_related("client").first()
    if agreement is None:
        raise Skip("The agreement no longer exists")
    if agreement.status != AgreementStatus.ACTIVE:
        raise Skip(f"Payments {agreement.get_status_display().lower()}: {agreement.status_reason}")
    try:
        payment = payment_for_period(agreement=agreement, period_start=date.fromisoformat(start),
                                     paid_on=run.business_date, actor=run.started_by or system_user(), run_item=item)
    except DomainError as exc:
        raise Skip(exc.message) from exc
    text = f"£{payment.amount:,.2f} to {agreement.recipient} for {agreement.reference}"
    return text + (f" (£{payment.reduction:,.2f} kept back to recover)" if payment.reduction else "")


PAYMENTS = register_job(Job(
    code="dp-payments",
    name="Direct payments",
    description="Pays each active direct payment agreement for the period that has started, in advance.",
    plan=plan_payments,
    process=process_payment,
    chunk_size=100,
    schedule={"minute": "15", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))


def plan_reminders(business_date: date) -> list[str]:
    from .services.common import policy_on

    try:
        policy = policy_on(business_date)
    except DomainError:
        return []
    due_before = business_date - timedelta(days=policy.reminder_after_days)
    audits = Audit.objects.filter(status=AuditStatus.REQUESTED, statements_due_on__lte=due_before,
                                  reminder__isnull=True, uploads__isnull=True).order_by("pk")
    return [f"audit:{pk}" for pk in audits.values_list("pk", flat=True)]


def process_reminder(run: Run, item: RunItem, prepared: dict) -> str:
    from .services.audits import _letter

    audit = Audit.objects.filter(pk=int(item.subject.split(":")[1])).select_related("agreement__client").first()
    if audit is None or audit.status != AuditStatus.REQUESTED or audit.uploads.exists():
        raise Skip("The statements have arrived or the audit is no longer waiting for them")
    if AuditReminder.objects.filter(audit=audit).exists():
        raise Skip("A reminder was already sent")
    letter = _letter(audit, "dp_statement_reminder", run.business_date, None, run_item=item)
    AuditReminder.objects.create(audit=audit, letter=letter, run_item=item, sent_on=run.business_date)
    return f"Reminder {letter.reference} to {letter.recipient_name} for {audit.reference}"


REMINDERS = register_job(Job(
    code="dp-reminders",
    name="Direct payment statement reminders",
    description="A reminder letter for each audit whose statements are overdue, with a print batch.",
    plan=plan_reminders,
    process=process_reminder,
    finish=print_batch_build,
    chunk_size=25,
    schedule={"minute": "45", "hour": "2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
