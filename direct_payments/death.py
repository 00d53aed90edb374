"""What a client's death does to their direct payments (DC-09), as a handler for casework.deaths.

For each agreement still paying (or suspended), two consequences the officer confirms one by one:
1. payments stop: the agreement is suspended with the reason "client died" through
   agreement_transition, so the payment run makes no further payments;
2. a final audit is opened through audit_request for the period from the day after the last
   audit ended (or the agreement's start) to the date of death, so the unspent balance is worked
   out and recovered through the audit's surplus recovery.

Reversal (the death was recorded in error) resumes the agreement to the status it had, and cancels
the final audit through audit_transition if nothing has been done on it yet.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from casework.money import ZERO, format_pounds, to_pennies
from casework.services import DomainError

from .constants import OPEN_AUDIT_STATUSES, AgreementStatus, AuditStatus
from .models import Agreement, Audit, DirectPayment
from .services.agreements import agreement_transition
from .services.audits import audit_request, audit_transition

KIND = "direct_payments.stop_payments"
SUSPEND, FINAL_AUDIT = "suspend", "final_audit"
OPEN_STATUSES = (AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED)


def _long(on: date) -> str:
    return f"{on:%-d %B %Y}"


def paid_after(agreement: Agreement, date_of_death: date) -> Decimal:
    """What was paid in advance for days after the death: each period's payment × its days after
    the death ÷ its days (half up to the penny on each payment)."""
    total = ZERO
    for payment in DirectPayment.objects.filter(agreement=agreement, period_start__isnull=False,
                                                period_end__gt=date_of_death):
        days = (payment.period_end - payment.period_start).days + 1
        after = (payment.period_end - max(payment.period_start, date_of_death + timedelta(days=1))).days + 1
        total += to_pennies(payment.due_amount * after / days)
    return to_pennies(total)


def final_audit_period(agreement: Agreement, date_of_death: date) -> tuple[date, date] | None:
    """From the day after the last audit (not cancelled) ended, or the start, to the date of death."""
    last = (agreement.audits.exclude(status=AuditStatus.CANCELLED).order_by("-period_end").values_list(
        "period_end", flat=True).first())
    start = last + timedelta(days=1) if last else agreement.start_date
    return (start, date_of_death) if start <= date_of_death else None


def propose(client, date_of_death: date) -> list:
    from casework.deaths.registry import Proposal

    proposals = []
    for agreement in Agreement.objects.filter(client=client, status__in=OPEN_STATUSES,
                                              start_date__lte=date_of_death).order_by("pk"):
        if agreement.status == AgreementStatus.ACTIVE:
            after = paid_after(agreement, date_of_death)
            summary = (f"Stop direct payments {agreement.reference} to {agreement.recipient}: suspend the agreement "
                       f"(client died on {_long(date_of_death)}); no further payments are made")
            if after:
                summary += f". {format_pounds(after)} was paid in advance for days after the death"
            proposals.append(Proposal(summary=summary[:500], object_ref=agreement.reference,
                                      payload={"action": SUSPEND, "agreement": agreement.pk}))
        period = final_audit_period(agreement, date_of_death)
        if period is None:
            continue
        summary = (f"Open the final audit of direct payments {agreement.reference} for {_long(period[0])} to "
                   f"{_long(period[1])}, to recover the unspent balance")
        open_audit = agreement.audits.filter(status__in=OPEN_AUDIT_STATUSES).first()
        if open_audit:
            summary += f" (audit {open_audit.reference} is still open: finish or cancel it first)"
        proposals.append(Proposal(summary=summary[:500], object_ref=agreement.reference, payload={
            "action": FINAL_AUDIT, "agreement": agreement.pk, "period_start": period[0].isoformat(),
            "period_end": period[1].isoformat()}))
    return proposals


@transaction.atomic
def apply(client, date_of_death: date, payload: dict, actor) -> dict:
    agreement = Agreement.objects.get(pk=payload["agreement"])
    if payload["action"] == SUSPEND:
        if agreement.status != AgreementStatus.ACTIVE:
            raise DomainError(f"Direct payment agreement {agreement.reference} is already "
                              f"{agreement.get_status_display().lower()} ({agreement.status_reason}): payments have "
                              "stopped")
        previous = {"previous_status": agreement.status, "previous_reason": agreement.status_reason}
        agreement_transition(agreement=agreement, to=AgreementStatus.SUSPENDED, actor=actor,
                             reason=f"Client died on {_long(date_of_death)}")
        return {"action": SUSPEND, "agreement": agreement.pk, **previous}
    start, end = date.fromisoformat(payload["period_start"]), date.fromisoformat(payload["period_end"])
    if agreement.audits.filter(period_start=start, period_end=end).exclude(status=AuditStatus.CANCELLED).exists():
        raise DomainError(f"The final audit of {agreement.reference} for {_long(start)} to {_long(end)} is already "
                          "open")
    audit = audit_request(agreement=agreement, period_start=start, period_end=end, actor=actor)
    return {"action": FINAL_AUDIT, "agreement": agreement.pk, "audit": audit.pk}


def _work_done(audit: Audit) -> list[str]:
    done = []
    if audit.status != AuditStatus.REQUESTED:
        done.append(f"it is {audit.get_status_display().lower()}")
    if audit.uploads.exists():
        done.append("statements have been uploaded")
    if audit.liabilities.exists():
        done.append("liabilities have been recorded")
    return done


@transaction.atomic
def reverse(client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    reason = f"Death on {_long(date_of_death)} recorded in error"
    if result["action"] == SUSPEND:
        agreement = Agreement.objects.get(pk=result["agreement"])
        if agreement.status != AgreementStatus.SUSPENDED:
            raise DomainError(f"Direct payment agreement {agreement.reference} is "
                              f"{agreement.get_status_display().lower()}, no longer suspended on the death: change it "
                              "by hand")
        agreement_transition(agreement=agreement, to=result["previous_status"], actor=actor,
                             reason=f"Resumed: {reason[0].lower()}{reason[1:]}")
        return
    audit = Audit.objects.get(pk=result["audit"])
    if audit.status == AuditStatus.CANCELLED:
        return
    done = _work_done(audit)
    if done:
        raise DomainError(f"The final audit {audit.reference} cannot be cancelled: {', '.join(done)}. Finish or "
                          "close it by hand")
    audit_transition(audit=audit, to=AuditStatus.CANCELLED, actor=actor, reason=reason)


def register() -> None:
    from casework.deaths.registry import register_death_handler

    register_death_handler(kind=KIND, label="Direct payments", propose=propose, apply=apply, reverse=reverse,
                           order=45)
