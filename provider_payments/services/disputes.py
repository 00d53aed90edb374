"""Disputes: a provider challenges adjusted or rejected lines. One transition service decides
them; an upheld outcome is paid on the provider's next payment run."""
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from casework.money import MoneyError, format_pounds, to_pennies
from casework.services import DomainError

from ..constants import ClaimStatus, DisputeStatus, LineResult
from ..models import Claim, ClaimLine, Dispute, DisputeNote
from .common import event, refuse_transition

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


@transaction.atomic
def dispute_open(*, claim: Claim, lines: list[ClaimLine], reason: str, actor) -> Dispute:
    claim = Claim.objects.select_related("provider").get(pk=claim.pk)
    if claim.status not in (ClaimStatus.APPROVED, ClaimStatus.PAID):
        raise DomainError("Only lines of an approved or paid claim can be disputed (change a claim not yet "
                          "approved by overriding its lines)")
    if not lines:
        raise DomainError("Choose the lines in dispute", field="lines")
    wrong = [l.row_number for l in lines if l.claim_id != claim.pk or l.result == LineResult.ACCEPTED]
    if wrong:
        raise DomainError(f"Only adjusted or rejected lines of this claim can be disputed (rows "
                          f"{', '.join(map(str, wrong))})", field="lines")
    if not reason.strip():
        raise DomainError("Give the provider's reason", field="reason")
    dispute = Dispute.objects.create(provider=claim.provider, claim=claim, reason=reason.strip(), opened_by=actor)
    dispute.lines.set(lines)
    event(claim.provider, "provider.dispute.opened", f"{dispute.reference} on claim {claim.reference}: "
          f"{len(lines)} line(s)", actor, new={"dispute": dispute.pk, "rows": [l.row_number for l in lines]})
    return dispute


@transaction.atomic
def dispute_add_note(*, dispute: Dispute, text: str, actor, evidence: UploadedFile | None = None) -> DisputeNote:
    if not text.strip():
        raise DomainError("Enter the note", field="text")
    if evidence is not None and evidence.size > MAX_EVIDENCE_BYTES:
        raise DomainError("The evidence file must be smaller than 10 MB", field="evidence")
    note = DisputeNote(dispute=dispute, text=text.strip(), added_by=actor)
    if evidence is not None:
        note.evidence.save(evidence.name, evidence, save=False)
    note.save()
    return note


@transaction.atomic
def dispute_transition(*, dispute: Dispute, to_status: str, actor, note: str = "",
                       amount: Decimal | None = None) -> Dispute:
    """The one way a dispute changes status. Upheld needs the amount to pay (at most what the
    disputed lines claimed beyond what was paid); every decision needs a note."""
    dispute = Dispute.objects.select_for_update().select_related("provider").get(pk=dispute.pk)
    if dispute.status == to_status:
        return dispute
    if not dispute.can_transition_to(to_status):
        raise refuse_transition("Dispute", dispute.reference, dispute.get_status_display(),
                                DisputeStatus(to_status).label)
    fields = ["status"]
    if to_status in (DisputeStatus.UPHELD, DisputeStatus.NOT_UPHELD):
        if not note.strip():
            raise DomainError("Give the reason for the outcome", field="note")
        dispute.outcome_note, dispute.decided_by, dispute.decided_at = note.strip(), actor, timezone.now()
        fields += ["outcome_note", "decided_by", "decided_at"]
    if to_status == DisputeStatus.UPHELD:
        try:
            amount = to_pennies(amount) if amount is not None else None
        except MoneyError as exc:
            raise DomainError(str(exc), field="amount") from exc
        most = to_pennies(sum(l.amount - l.payable_amount for l in dispute.lines.all()))
        if amount is None or amount <= 0 or amount > most:
            raise DomainError(f"Enter an amount above zero and no more than {format_pounds(most)}, what the disputed "
                              f"lines were not paid", field="amount")
        dispute.outcome_amount = amount
        fields.append("outcome_amount")
    old = dispute.status
    dispute.status = to_status
    dispute.save(update_fields=fields)
    event(dispute.provider, "provider.dispute.status", f"{dispute.reference} {DisputeStatus(to_status).label.lower()}"
          + (f": {format_pounds(dispute.outcome_amount)} to pay on the next run" if to_status == DisputeStatus.UPHELD else ""),
          actor, old={"status": old}, new={"status": to_status, "note": note})
    return dispute
