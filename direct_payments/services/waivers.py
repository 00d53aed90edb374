"""Waiving an audit's surplus instead of recovering it. The officer asks, with the reason; the
audit waits for approval (DP_SURPLUS_WAIVER, decided by someone else within their ControlLimit
approval limit); on approval the working is frozen in a SurplusWaiver, the outcome is recorded
and the audit completes, all through `audit_transition`. Nothing is recovered. A rejection or
withdrawal sends the audit back to review, so the officer can recover the surplus instead."""
from django.db import transaction

from casework.models.controls import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import format_pounds
from casework.services import DomainError
from casework.services.controls import control_request_raise, register_control

from ..constants import AuditStatus, Outcome, RecoveryStatus, WaiverReason
from ..models import Audit, SurplusWaiver
from .audits import _in_review, audit_transition, working_for
from .common import timeline


def _working_payload(working) -> dict:
    return {"closing_balance": str(working.closing_balance), "liabilities": str(working.liabilities_total),
            "weekly_budget": str(working.weekly_budget), "contingency_weeks": working.contingency_weeks,
            "contingency": str(working.contingency), "contribution_refund": str(working.contribution_refund),
            "recoverable": str(working.recoverable)}


def waiting_waiver(audit: Audit) -> ControlRequest | None:
    """The waiver of this audit's surplus waiting for a decision, if there is one."""
    return ControlRequest.objects.filter(action=ControlAction.DP_SURPLUS_WAIVER, status=ControlRequestStatus.REQUESTED,
                                         payload__audit=audit.pk).first()


@transaction.atomic
def surplus_waiver_request(*, audit: Audit, reason_kind: str, reason: str, actor) -> ControlRequest:
    """Ask for the audit's surplus (the working's amount to recover) to be waived. Every flagged
    line must be reviewed first, as for any outcome. Always another person's decision."""
    audit = Audit.objects.select_for_update().select_related("agreement__client").get(pk=audit.pk)
    _in_review(audit)
    if not audit.uploads.exists():
        raise DomainError("Upload the statements first: there is no surplus without them")
    waiting = audit.flags.filter(decision="").count()
    if waiting:
        raise DomainError(f"Review every flagged line first: {waiting} still to review")
    if reason_kind not in WaiverReason.values:
        raise DomainError("Choose why the surplus should be waived", field="reason_kind")
    if not reason.strip():
        raise DomainError("Explain the reason, for the person who will decide", field="reason")
    working = working_for(audit)
    if working.recoverable <= 0:
        raise DomainError(f"There is no surplus to waive: the working gives {format_pounds(working.recoverable)}")
    label = WaiverReason(reason_kind).label
    agreement = audit.agreement
    request = control_request_raise(
        action=ControlAction.DP_SURPLUS_WAIVER, amount=working.recoverable, client=agreement.client,
        subject=f"Audit {audit.reference}",
        summary=f"Waive the surplus of {format_pounds(working.recoverable)} found by audit {audit.reference} of "
                f"{agreement.reference}, instead of recovering it",
        reason=f"{label}: {reason.strip()}", actor=actor,
        payload={"audit": audit.pk, "reason_kind": reason_kind, "explanation": reason.strip()[:900],
                 "working": _working_payload(working)},
        changes=[[step, value, ""] for step, value in working.steps()]
        + [["Recovered from the recipient", "", "Nothing"]])
    timeline(agreement.client, "direct_payments.surplus_waiver.requested",
             f"Audit {audit.reference}: waiver of the {format_pounds(working.recoverable)} surplus asked for "
             f"({request.reference})", actor, body=f"{label}: {reason.strip()}",
             new={"audit": audit.pk, "request": request.pk})
    audit_transition(audit=audit, to=AuditStatus.AWAITING_APPROVAL, actor=actor,
                     reason=f"Waiver of the {format_pounds(working.recoverable)} surplus for approval ({request.reference})")
    return request


def _execute_surplus_waiver(request: ControlRequest, approver) -> str:
    audit = Audit.objects.select_for_update().select_related("agreement__client").get(pk=request.payload["audit"])
    if audit.status != AuditStatus.AWAITING_APPROVAL:
        raise DomainError(f"Audit {audit.reference} is {audit.get_status_display().lower()}: there is no surplus "
                          "waiting to be waived")
    if audit.recoveries.filter(status__in=[RecoveryStatus.PENDING, RecoveryStatus.APPROVED]).exists():
        raise DomainError(f"Audit {audit.reference} has a recovery: its surplus cannot also be waived")
    working = working_for(audit)
    if working.recoverable != request.amount:
        raise DomainError(f"The audit's working now gives {format_pounds(working.recoverable)}, not "
                          f"{format_pounds(request.amount)}: reject this request so the officer asks again")
    data = request.payload
    waiver = SurplusWaiver.objects.create(
        audit=audit, reason_kind=data["reason_kind"], reason=data.get("explanation", "") or request.reason,
        closing_balance=working.closing_balance, liabilities=working.liabilities_total,
        weekly_budget=working.weekly_budget, contingency_weeks=working.contingency_weeks,
        contingency=working.contingency, contribution_refund=working.contribution_refund, amount=working.recoverable,
        request=request, requested_by=request.requested_by, approved_by=approver)
    audit.outcome, audit.outcome_note, audit.misuse_referral = Outcome.WAIVED, request.reason, ""
    audit._history_user = approver
    audit.save(update_fields=["outcome", "outcome_note", "misuse_referral"])
    timeline(audit.agreement.client, "direct_payments.surplus_waiver.approved",
             f"Audit {audit.reference}: surplus of {format_pounds(waiver.amount)} waived, approved by "
             f"{approver.get_username()} ({request.reference}); nothing is recovered", approver, body=request.reason,
             new={"audit": audit.pk, "waiver": waiver.pk, "request": request.pk})
    audit_transition(audit=audit, to=AuditStatus.COMPLETED, actor=approver,
                     reason=f"Surplus of {format_pounds(waiver.amount)} waived ({request.reference})")
    return waiver.reference


def _surplus_waiver_refused(request: ControlRequest, actor) -> None:
    """Not approved (or withdrawn): the audit goes back to review for the officer to decide again."""
    audit = Audit.objects.select_for_update().get(pk=request.payload["audit"])
    if audit.status != AuditStatus.AWAITING_APPROVAL:
        return
    words = "not approved" if request.status == ControlRequestStatus.REJECTED else "withdrawn"
    note = f": {request.decision_note}" if request.decision_note else ""
    audit_transition(audit=audit, to=AuditStatus.IN_REVIEW, actor=actor,
                     reason=f"Waiver of the surplus {words} ({request.reference}){note}"[:300])


register_control(ControlAction.DP_SURPLUS_WAIVER, _execute_surplus_waiver, on_refused=_surplus_waiver_refused)
