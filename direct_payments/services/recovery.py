"""Approving or rejecting a recovery, and carrying an approved one out: an invoice on the income
ledger (debt.services.billing.invoice_issue, which writes the invoice letter) or reductions of
future payments (taken by payment_for_period). Either way the recipient gets the recovery letter."""
from datetime import date

from django.db import transaction
from django.utils import timezone

from casework.models.controls import ControlAction
from casework.money import format_pounds
from casework.roles import Role, has_any_role
from casework.services import DomainError
from casework.services.controls import money_action_record, why_same_person

from ..constants import AuditStatus, RecoveryBasis, RecoveryRoute, RecoveryStatus
from ..letters import RECOVERY_LETTER
from ..models import Recovery
from ..surplus import Working
from .audits import audit_transition
from .common import timeline

APPROVERS = frozenset({Role.TEAM_LEADER})
RECOVERY_SERVICE_CODE = "DP-RECOVERY"


def why_cannot_decide(recovery: Recovery, user) -> str | None:
    if not has_any_role(user, APPROVERS):
        return "Only a team leader can approve a recovery"
    if reason := why_same_person(user, recovery.requested_by_id, action="approve it"):
        return reason
    if recovery.status != RecoveryStatus.PENDING:
        return f"This recovery is already {recovery.get_status_display().lower()}"
    return None


def _locked(recovery: Recovery, actor) -> Recovery:
    recovery = Recovery.objects.select_for_update().select_related("audit__agreement__client").get(pk=recovery.pk)
    reason = why_cannot_decide(recovery, actor)
    if reason:
        raise DomainError(reason)
    return recovery


def recovery_steps(recovery: Recovery) -> list[tuple[str, str]]:
    if recovery.basis == RecoveryBasis.MISUSE:
        return [("Money spent outside the support plan (lines marked as misuse)", format_pounds(recovery.misuse_total)),
                ("To recover", format_pounds(recovery.amount))]
    liabilities = tuple((l.description, l.amount) for l in recovery.audit.liabilities.all())
    return Working(closing_balance=recovery.closing_balance, liabilities=liabilities,
                   weekly_budget=recovery.weekly_budget, contingency_weeks=recovery.contingency_weeks,
                   contribution_refund=recovery.contribution_refund).steps()


@transaction.atomic
def recovery_approve(*, recovery: Recovery, actor, note: str = "", on: date | None = None) -> Recovery:
    """A team leader (not the officer who asked) approves; the recovery is then carried out."""
    recovery = _locked(recovery, actor)
    on = on or timezone.localdate()
    recovery.status, recovery.decided_by, recovery.decided_at = RecoveryStatus.APPROVED, actor, timezone.now()
    recovery.decision_note = note.strip()[:300]
    if recovery.route == RecoveryRoute.INVOICE:
        recovery.invoice = _invoice(recovery, on, actor)
        next_step = (f"We have sent an invoice, {recovery.invoice.number}, for {format_pounds(recovery.amount)}. "
                     f"Please pay it by the date on the invoice.")
    else:
        next_step = (f"We will take {format_pounds(recovery.amount)} off your next direct payments until it is "
                     f"repaid. You do not need to send us anything.")
    recovery.letter = _letter(recovery, on, actor, next_step)
    recovery._history_user = actor
    recovery.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "invoice", "letter"])
    audit = recovery.audit
    timeline(audit.agreement.client, "direct_payments.recovery.approved",
             f"Recovery of {format_pounds(recovery.amount)} from audit {audit.reference} approved: "
             f"{recovery.get_route_display().lower()}", actor, body=note.strip(),
             new={"recovery": recovery.pk, "invoice": recovery.invoice.number if recovery.invoice else None})
    money_action_record(action=ControlAction.DP_SURPLUS_RECOVERY, amount=recovery.amount,
                        client=audit.agreement.client, subject=f"Audit {audit.reference}",
                        reference=recovery.invoice.number if recovery.invoice else f"{audit.reference}-RECOVERY",
                        summary=f"{recovery.get_basis_display()} of {format_pounds(recovery.amount)} from audit "
                                f"{audit.reference} recovered by {recovery.get_route_display().lower()}",
                        maker=recovery.requested_by, made_at=recovery.requested_at, checker=actor)
    audit_transition(audit=audit, to=AuditStatus.COMPLETED, actor=actor, reason="Recovery approved")
    return recovery


@transaction.atomic
def recovery_reject(*, recovery: Recovery, actor, note: str) -> Recovery:
    """Send the audit back to the officer with the reason; nothing is recovered."""
    if not note.strip():
        raise DomainError("Say why, so the officer can put it right", field="note")
    recovery = _locked(recovery, actor)
    recovery.status, recovery.decided_by, recovery.decided_at = RecoveryStatus.REJECTED, actor, timezone.now()
    recovery.decision_note = note.strip()[:300]
    recovery._history_user = actor
    recovery.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit = recovery.audit
    timeline(audit.agreement.client, "direct_payments.recovery.rejected",
             f"Recovery of {format_pounds(recovery.amount)} from audit {audit.reference} not approved", actor,
             body=note.strip(), new={"recovery": recovery.pk})
    audit = audit_transition(audit=audit, to=AuditStatus.IN_REVIEW, actor=actor,
                             reason=f"Recovery not approved: {note.strip()}")
    audit.outcome, audit.misuse_referral = "", ""
    audit._history_user = actor
    audit.save(update_fields=["outcome", "misuse_referral"])
    return recovery


def recovery_service():
    from debt.models import ChargeableService

    service, _ = ChargeableService.objects.get_or_create(code=RECOVERY_SERVICE_CODE,
                                                         defaults={"name": "Direct payment recovery"})
    return service


def _invoice(recovery: Recovery, on: date, actor):
    from debt import billing
    from debt.constants import LineKind
    from debt.services.billing import invoice_issue

    audit = recovery.audit
    service = recovery_service()
    days = billing.days_between(audit.period_start, audit.period_end)
    explanation = (f"Direct payment {audit.agreement.reference}, audit {audit.reference} "
                   f"({billing.date_range(audit.period_start, audit.period_end)}): "
                   f"{recovery.get_basis_display().lower()} to be returned")
    line = billing.Line(kind=LineKind.CHARGE, service_id=service.pk, service_name=service.name,
                        date_from=audit.period_start, date_to=audit.period_end, days=days,
                        weekly_rate=recovery.weekly_budget, amount=recovery.amount, explanation=explanation[:400])
    draft = billing.Draft(period=billing.Period(audit.period_start, audit.period_end), lines=[line])
    return invoice_issue(client=audit.agreement.client, draft=draft, issue_date=on, actor=actor)


def _letter(recovery: Recovery, on: date, actor, next_step: str):
    from casework.letters.services import letter_produce
    from casework.letters.types import get_letter_type

    client = recovery.audit.agreement.client
    context = get_letter_type(RECOVERY_LETTER).build_context(client, on, recovery=recovery,
                                                             steps=recovery_steps(recovery), next_step=next_step)
    return letter_produce(client=client, letter_type=RECOVERY_LETTER, on=on, actor=actor, context=context)
