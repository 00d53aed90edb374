"""Claims: import (all or nothing), validation results, officers' overrides, approval."""
import hashlib
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError

from ..claim_files import ImportRejected, parse_claim_file
from ..constants import ClaimSource, ClaimStatus, LineResult, ProviderEntryKind
from ..models import Claim, ClaimLine, Provider
from .common import event, ledger_post, refuse_transition, require_role
from .validation import commissioned_cost_for, validate_rows

MAX_PERIOD_DAYS = 92
#: Who may approve a claim for payment.
CLAIM_APPROVERS = frozenset({Role.PROVIDER_PAYMENT_OFFICER, Role.TEAM_LEADER})


def _line_rows(claim: Claim, outcomes) -> list[ClaimLine]:
    return [ClaimLine(
        claim=claim, row_number=o.row.row_number, client_reference=o.row.client_reference, client_id=o.client_id,
        service_code=o.row.service_code, service_type_id=o.service_type_id, service_date=o.row.service_date,
        start_time=o.row.start_time, planned_minutes=o.row.planned_minutes, actual_minutes=o.row.actual_minutes,
        units=o.units, unit_rate=o.unit_rate, amount=o.amount, package_id=o.package_id, rate_id=o.rate_id,
        result=o.result, reason=o.reason, payable_units=o.payable_units, payable_rate=o.payable_rate,
        payable_amount=o.payable_amount, duplicate_key=o.duplicate_key) for o in outcomes]


@transaction.atomic
def claim_import(*, provider: Provider, source: str, reference: str, period_start: date, period_end: date,
                 data: bytes, filename: str, actor) -> Claim:
    """Check the whole file, then store it with every line validated, or refuse it all."""
    reference = reference.strip()
    if source not in ClaimSource.values:
        raise DomainError("Choose invoice lines or call monitoring", field="source")
    if not reference:
        raise DomainError("Enter the provider's invoice or claim reference", field="reference")
    if period_end < period_start:
        raise DomainError("The period must end on or after its start", field="period_end")
    if (period_end - period_start).days + 1 > MAX_PERIOD_DAYS:
        raise DomainError(f"A claim period is at most {MAX_PERIOD_DAYS} days", field="period_end")
    if Claim.objects.filter(provider=provider, reference__iexact=reference).exists():
        raise DomainError(f"{provider.name} already has a claim {reference}", field="reference")
    digest = hashlib.sha256(data).hexdigest()
    same = Claim.objects.filter(provider=provider, file_sha256=digest).exclude(status=ClaimStatus.WITHDRAWN).first()
    if same:
        raise DomainError(f"This file was already imported as claim {same.reference}", field="file")
    rows = parse_claim_file(data, source, provider.ecm_mapping)
    outcomes = validate_rows(provider_id=provider.pk, period_start=period_start, period_end=period_end, rows=rows,
                             ecm=source == ClaimSource.ECM)
    claim = Claim(provider=provider, reference=reference, source=source, period_start=period_start,
                  period_end=period_end, imported_by=actor, file_sha256=digest,
                  commissioned_cost=commissioned_cost_for(provider.pk, period_start, period_end))
    claim.file.save(filename or f"{reference}.csv", ContentFile(data), save=False)
    claim.save()
    ClaimLine.objects.bulk_create(_line_rows(claim, outcomes), batch_size=2000)
    totals = claim_totals(claim)
    event(provider, "provider.claim.imported",
          f"Claim {reference}: {len(rows)} lines, {format_pounds(totals['payable'])} payable of "
          f"{format_pounds(totals['claimed'])} claimed", actor,
          new={"claim": claim.pk, "rejected": totals["rejected"], "adjusted": totals["adjusted"]})
    return claim


def claim_totals(claim: Claim) -> dict:
    """Claimed, payable, the variance against the commissioned cost, and the count of each result."""
    lines = ClaimLine.objects.filter(claim=claim)
    sums = lines.aggregate(claimed=Sum("amount"), payable=Sum("payable_amount"))
    counts = {r: 0 for r in LineResult.values}
    for result, n in lines.order_by().values_list("result").annotate(n=Count("id")).values_list("result", "n"):
        counts[result] = n
    claimed, payable = to_pennies(sums["claimed"] or ZERO), to_pennies(sums["payable"] or ZERO)
    return {"claimed": claimed, "payable": payable, "commissioned": claim.commissioned_cost,
            "variance": payable - claim.commissioned_cost, "change": payable - claimed, **counts}


@transaction.atomic
def claim_line_override(*, line: ClaimLine, result: str, note: str, actor,
                        payable_amount: Decimal | None = None) -> ClaimLine:
    """An officer's decision on a line, with a note; the engine's result is kept beside it."""
    line = ClaimLine.objects.select_for_update().select_related("claim__provider").get(pk=line.pk)
    if line.claim.status != ClaimStatus.VALIDATED:
        raise DomainError("Only the lines of a claim not yet approved can be changed")
    if result not in LineResult.values:
        raise DomainError("Choose accepted, adjusted or rejected", field="result")
    if not note.strip():
        raise DomainError("Give the reason for overriding the result", field="note")
    if result == LineResult.ACCEPTED:
        amount = line.amount
    elif result == LineResult.REJECTED:
        amount = ZERO
    else:
        if payable_amount is None:
            raise DomainError("Enter the amount to pay", field="payable_amount")
        try:
            amount = to_pennies(payable_amount)
        except MoneyError as exc:
            raise DomainError(str(exc), field="payable_amount") from exc
        if amount < 0:
            raise DomainError("The amount to pay cannot be negative", field="payable_amount")
    old = {"result": line.result, "payable_amount": str(line.payable_amount)}
    if not line.validated_result:
        line.validated_result = line.result
    line.result, line.payable_amount = result, amount
    if result == LineResult.ACCEPTED:
        line.payable_units, line.payable_rate = line.units, line.unit_rate or line.payable_rate
    line.override_note, line.overridden_by = note.strip(), actor
    line.save(update_fields=["result", "payable_amount", "payable_units", "payable_rate", "validated_result",
                             "override_note", "overridden_by"])
    event(line.claim.provider, "provider.claim.line_overridden",
          f"Claim {line.claim.reference} row {line.row_number}: {old['result']} -> {result}", actor, old=old,
          new={"result": result, "payable_amount": str(amount), "note": note.strip()})
    return line


@transaction.atomic
def claim_transition(*, claim: Claim, to_status: str, actor, reason: str = "", on: date | None = None) -> Claim:
    """The one way a claim changes status. Approval posts the payable total to the provider's ledger."""
    claim = Claim.objects.select_for_update().select_related("provider").get(pk=claim.pk)
    if claim.status == to_status:
        return claim
    if not claim.can_transition_to(to_status):
        raise refuse_transition("Claim", claim.reference, claim.get_status_display(), ClaimStatus(to_status).label)
    fields = ["status"]
    if to_status == ClaimStatus.APPROVED:
        require_role(actor, CLAIM_APPROVERS, "approve claims")
        totals = claim_totals(claim)
        claim.approved_by, claim.approved_at = actor, timezone.now()
        fields += ["approved_by", "approved_at"]
        ledger_post(provider=claim.provider, kind=ProviderEntryKind.CLAIM, amount=totals["payable"],
                    on=on or timezone.localdate(), reference=claim.reference,
                    description=f"Claim {claim.reference} approved, {claim.period_start:%d %b %Y} to "
                                f"{claim.period_end:%d %b %Y}", actor=actor)
    if to_status == ClaimStatus.WITHDRAWN and not reason.strip():
        raise DomainError("Give the reason for withdrawing the claim", field="reason")
    old = claim.status
    claim.status = to_status
    claim.save(update_fields=fields)
    event(claim.provider, "provider.claim.status", f"Claim {claim.reference} {ClaimStatus(to_status).label.lower()}",
          actor, old={"status": old}, new={"status": to_status, "reason": reason})
    return claim


__all__ = ["ImportRejected", "claim_import", "claim_line_override", "claim_totals", "claim_transition"]
