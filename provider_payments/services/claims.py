"""Claims: import (all or nothing), validation results, officers' overrides, approval.

Two money controls apply here (docs/security.md, "Provider payments controls"):
- an override that pays a line more than it paid, and more than the provider claimed or more than
  the line's commissioned cost and the visit tolerance (`line_ceiling`), waits as an approval
  request (CLAIM_OVERRIDE) until someone else approves it within their limit; reductions and
  overrides within those bounds happen at once;
- a claim is approved only by someone other than who imported it or overrode any of its lines,
  and not while an override waits for a decision.
Every override and every approval is one MoneyAction row, with maker and checker.
"""
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from casework.models import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError, NotAllowed
from casework.services.controls import (
    control_request_raise,
    money_action_record,
    register_control,
    why_cannot_do_alone,
    why_same_person,
)

from ..claim_files import ImportRejected, parse_claim_file
from ..constants import ClaimSource, ClaimStatus, LineResult, ProviderEntryKind, Unit
from ..models import Claim, ClaimLine, ClaimLineOverride, Provider
from .common import event, ledger_post, provider_subject, refuse_transition, require_role
from .payable import claim_payable
from .rates import package_unit_rate
from .validation import Tolerances, commissioned_cost_for, validate_rows

MAX_PERIOD_DAYS = 92
#: Who may approve a claim for payment.
CLAIM_APPROVERS = frozenset({Role.PROVIDER_PAYMENT_OFFICER, Role.TEAM_LEADER})
#: Who may decide instead, in the words a refusal uses.
CLAIM_APPROVERS_WORDS = "another provider payment officer or a team leader"


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
    """Claimed, payable (by the payable rule: each rate period's hours × rate, rounded once), the
    payable hours and rate periods, the variance against the commissioned cost, and the count of
    each result."""
    lines = ClaimLine.objects.filter(claim=claim)
    sums = lines.aggregate(claimed=Sum("amount"))
    counts = {r: 0 for r in LineResult.values}
    for result, n in lines.order_by().values_list("result").annotate(n=Count("id")).values_list("result", "n"):
        counts[result] = n
    rule = claim_payable(claim)
    claimed, payable = to_pennies(sums["claimed"] or ZERO), rule.total
    return {"claimed": claimed, "payable": payable, "payable_hours": rule.hours, "rate_periods": rule.periods,
            "set_by_hand": to_pennies(sum(rule.set_by_hand.values(), ZERO)), "commissioned": claim.commissioned_cost,
            "variance": payable - claim.commissioned_cost, "change": payable - claimed, **counts}


@dataclass(frozen=True)
class Ceiling:
    """What an officer may pay on a line alone: no more than the provider claimed, and no more than
    the line's commissioned cost plus the visit tolerance's worth."""

    claimed: Decimal
    commissioned: Decimal
    tolerance: Decimal
    why: str

    @property
    def commissioned_limit(self) -> Decimal:
        return self.commissioned + self.tolerance

    def why_above(self, amount: Decimal) -> str | None:
        """Why paying `amount` needs a second person, or None."""
        if amount > self.claimed:
            return f"{format_pounds(amount)} is more than the {format_pounds(self.claimed)} claimed"
        if amount > self.commissioned_limit:
            return (f"{format_pounds(amount)} is more than the line's commissioned cost of "
                    f"{format_pounds(self.commissioned)}" + (f" and the {format_pounds(self.tolerance)} tolerance"
                                                             if self.tolerance else "") + f" ({self.why})")
        return None


def line_ceiling(line: ClaimLine) -> Ceiling:
    """The line's commissioned cost: the care package's rate on the date (the agreed rate, or the
    card's) times the commissioned quantity (a monitored visit's planned time; an invoice line's
    units, at most the package's units a week). The tolerance is the validation engine's visit
    tolerance in force for the service on the date (ToleranceRule.tolerance_minutes, data) at that
    rate, for hourly services. A line with no package or no rate has nothing commissioned."""
    package = line.package
    if package is None:
        return Ceiling(line.amount, ZERO, ZERO, "no approved package covers it")
    rate = package_unit_rate(package, line.service_date)
    if rate is None:
        return Ceiling(line.amount, ZERO, ZERO, "no rate on the card for the date")
    service = line.service_type or package.service_type
    hourly = service.unit == Unit.HOUR
    if line.claim.source == ClaimSource.ECM:
        quantity = Decimal(line.planned_minutes or 0) / 60 if hourly else Decimal(1)
        what = f"{line.planned_minutes or 0} planned minutes" if hourly else "one visit"
    else:
        quantity = min(line.units, package.units_per_week)
        what = f"{quantity.normalize():f} {service.get_unit_display().lower()}s"
    tolerance = ZERO
    if hourly:
        rule = Tolerances().on(service.pk, line.service_date)
        tolerance = to_pennies(Decimal(rule.tolerance_minutes) * rate / 60) if rule else ZERO
    return Ceiling(line.amount, to_pennies(quantity * rate), tolerance, f"{what} at {format_pounds(rate)}")


def pending_overrides(claim: Claim):
    """Override requests for the claim's lines still waiting for a decision."""
    return ControlRequest.objects.filter(action=ControlAction.CLAIM_OVERRIDE, status=ControlRequestStatus.REQUESTED,
                                         payload__claim=claim.pk).order_by("pk")


def pending_override_for(line: ClaimLine) -> ControlRequest | None:
    return ControlRequest.objects.filter(action=ControlAction.CLAIM_OVERRIDE, status=ControlRequestStatus.REQUESTED,
                                         payload__line=line.pk).order_by("pk").first()


def _payable_for(line: ClaimLine, result: str, payable_amount) -> Decimal:
    if result not in LineResult.values:
        raise DomainError("Choose accepted, adjusted or rejected", field="result")
    if result == LineResult.ACCEPTED:
        return line.amount
    if result == LineResult.REJECTED:
        return ZERO
    if payable_amount is None:
        raise DomainError("Enter the amount to pay", field="payable_amount")
    try:
        amount = to_pennies(payable_amount)
    except MoneyError as exc:
        raise DomainError(str(exc), field="payable_amount") from exc
    if amount < 0:
        raise DomainError("The amount to pay cannot be negative", field="payable_amount")
    return amount


def _label(result: str) -> str:
    return LineResult(result).label.lower()


@transaction.atomic
def claim_line_override(*, line: ClaimLine, result: str, note: str, actor,
                        payable_amount: Decimal | None = None,
                        payable_units: Decimal | None = None) -> ClaimLine | ControlRequest:
    """An officer's decision on a line, with a note; the engine's result is kept beside it.

    A reduction, or an increase within the line's ceiling (no more than claimed, no more than its
    commissioned cost and the tolerance), is made at once and recorded as done alone. Any other
    increase becomes an approval request (returned) that someone else decides; the line shows it
    waiting and the claim cannot be approved until it is decided.

    A rejected line carries no payable hours. `payable_units` gives a line its payable hours back
    (a death recorded in error restores what the line had)."""
    line = ClaimLine.objects.select_for_update(of=("self",)).select_related(
        "claim__provider", "package__service_type", "service_type", "client").get(pk=line.pk)
    claim = line.claim
    if claim.status != ClaimStatus.VALIDATED:
        raise DomainError("Only the lines of a claim not yet approved can be changed")
    amount = _payable_for(line, result, payable_amount)
    if not note.strip():
        raise DomainError("Give the reason for overriding the result", field="note")
    if waiting := pending_override_for(line):
        raise DomainError(f"An override of row {line.row_number} is already waiting for approval ({waiting.reference}): "
                          f"it must be decided, or withdrawn, first")
    before = line.payable_amount
    if amount > before:
        ceiling = line_ceiling(line)
        above = ceiling.why_above(amount)
        subject = provider_subject(claim.provider)
        if above and (why := why_cannot_do_alone(actor, ControlAction.CLAIM_OVERRIDE, amount - before,
                                                 client=line.client, subject=subject)):
            request = control_request_raise(
                action=ControlAction.CLAIM_OVERRIDE, amount=amount - before, client=line.client, subject=subject,
                summary=f"Claim {claim.reference} row {line.row_number}: pay {format_pounds(amount)} "
                        f"({_label(result)}) instead of {format_pounds(before)}",
                reason=note, actor=actor,
                payload={"claim": claim.pk, "line": line.pk, "result": result, "payable_amount": str(amount),
                         "payable_before": str(before), "note": note.strip()[:300],
                         **({"payable_units": str(payable_units)} if payable_units is not None else {})},
                changes=[[f"Row {line.row_number} payable", str(before), str(amount)],
                         ["Result", line.get_result_display(), LineResult(result).label],
                         ["Claimed", "", str(line.amount)],
                         ["Commissioned cost of the line", "", f"{ceiling.commissioned} ({ceiling.why})"],
                         ["Tolerance", "", str(ceiling.tolerance)],
                         ["Why a second person decides", "", f"{above}. {why}"]])
            event(claim.provider, "provider.claim.line_override_requested",
                  f"Claim {claim.reference} row {line.row_number}: {format_pounds(amount)} asked for "
                  f"({request.reference})", actor, old={"result": line.result, "payable_amount": str(before)},
                  new={"result": result, "payable_amount": str(amount), "note": note.strip(),
                       "request": request.pk})
            return request
    line = _apply_override(line, result=result, amount=amount, note=note.strip(), actor=actor, units=payable_units)
    if amount != before:
        money_action_record(action=ControlAction.CLAIM_OVERRIDE, amount=amount - before, client=line.client,
                            subject=provider_subject(claim.provider),
                            reference=f"{claim.reference} row {line.row_number}",
                            summary=f"Row {line.row_number} of claim {claim.reference} {_label(result)}: "
                                    f"{format_pounds(before)} to {format_pounds(amount)}", maker=actor)
    return line


def _apply_override(line: ClaimLine, *, result: str, amount: Decimal, note: str, actor, approver=None,
                    request: ControlRequest | None = None, units: Decimal | None = None) -> ClaimLine:
    """Change the line and keep the override's record (and the provider's event)."""
    old = {"result": line.result, "payable_amount": str(line.payable_amount)}
    ClaimLineOverride.objects.create(
        claim=line.claim, line=line, result_before=line.result, payable_before=line.payable_amount, result=result,
        payable_amount=amount, note=note[:300], made_by=actor,
        made_at=request.requested_at if request else timezone.now(), request=request, approved_by=approver,
        approved_at=timezone.now() if approver else None)
    if not line.validated_result:
        line.validated_result = line.result
    line.result, line.payable_amount = result, amount
    if result == LineResult.ACCEPTED:
        line.payable_units, line.payable_rate = line.units, line.unit_rate or line.payable_rate
    elif result == LineResult.REJECTED:
        line.payable_units = ZERO  # nothing of a rejected line is payable, its hours included
    if units is not None and result != LineResult.REJECTED:
        line.payable_units = Decimal(units)
    line.override_note, line.overridden_by = note, actor
    line.save(update_fields=["result", "payable_amount", "payable_units", "payable_rate", "validated_result",
                             "override_note", "overridden_by"])
    new = {"result": result, "payable_amount": str(amount), "note": note}
    if request is not None:
        new.update({"request": request.pk, "approved_by": approver.pk})
    event(line.claim.provider, "provider.claim.line_overridden",
          f"Claim {line.claim.reference} row {line.row_number}: {old['result']} -> {result}", actor, old=old, new=new)
    return line


def _execute_claim_override(request: ControlRequest, approver) -> str:
    """Carry out an approved override, as its maker asked for it, if the line is as it was then."""
    data = request.payload
    line = ClaimLine.objects.select_for_update().select_related("claim__provider").get(pk=data["line"])
    claim = line.claim
    if claim.status != ClaimStatus.VALIDATED:
        raise DomainError(f"Claim {claim.reference} is {claim.get_status_display().lower()}: its lines can no longer "
                          f"be changed, so reject this request")
    if line.payable_amount != Decimal(data["payable_before"]):
        raise DomainError(f"Row {line.row_number} of claim {claim.reference} has changed since the override was asked "
                          f"for ({format_pounds(line.payable_amount)} payable now): reject this request")
    _apply_override(line, result=data["result"], amount=Decimal(data["payable_amount"]), note=data["note"],
                    actor=request.requested_by, approver=approver, request=request,
                    units=Decimal(data["payable_units"]) if data.get("payable_units") else None)
    return f"{claim.reference} row {line.row_number}"


register_control(ControlAction.CLAIM_OVERRIDE, _execute_claim_override)


def claim_makers(claim: Claim) -> dict[int, list[str]]:
    """Who made what an approver of the claim decides, by user id: who imported it and who overrode
    any of its lines (each override, and any line's last overrider)."""
    makers: dict[int, list[str]] = {claim.imported_by_id: ["imported it"]}
    rows: dict[int, set[int]] = {}
    for user_id, row in ClaimLineOverride.objects.filter(claim=claim).values_list("made_by_id", "line__row_number"):
        rows.setdefault(user_id, set()).add(row)
    for user_id, row in ClaimLine.objects.filter(claim=claim, overridden_by__isnull=False).values_list(
            "overridden_by_id", "row_number"):
        rows.setdefault(user_id, set()).add(row)
    for user_id, numbers in rows.items():
        ordered = sorted(numbers)
        words = f"overrode row{'s' if len(ordered) > 1 else ''} {', '.join(map(str, ordered))}"
        makers.setdefault(user_id, []).append(words)
    return makers


def _why_waiting(claim: Claim) -> str | None:
    waiting = list(pending_overrides(claim))
    if not waiting:
        return None
    refs = ", ".join(r.reference for r in waiting)
    many = len(waiting) > 1
    return (f"{len(waiting)} override{'s' if many else ''} of this claim's lines {'are' if many else 'is'} waiting "
            f"for approval ({refs}): the claim can be approved once {'they are' if many else 'it is'} decided")


def _why_maker(claim: Claim, actor) -> str | None:
    makers = claim_makers(claim)
    if why := why_same_person(actor, *makers, action="approve this claim"):
        return f"{why}: you {' and '.join(makers[actor.pk])}. {CLAIM_APPROVERS_WORDS.capitalize()} may approve it"
    return None


def why_cannot_approve(claim: Claim, actor) -> str | None:
    """Why `actor` may not approve the claim now (an override waiting, or they made part of it)."""
    return _why_waiting(claim) or _why_maker(claim, actor)


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
        if why := _why_waiting(claim):
            raise DomainError(why)
        if why := _why_maker(claim, actor):
            raise NotAllowed(why)
        totals = claim_totals(claim)
        claim.approved_by, claim.approved_at = actor, timezone.now()
        fields += ["approved_by", "approved_at"]
        ledger_post(provider=claim.provider, kind=ProviderEntryKind.CLAIM, amount=totals["payable"],
                    on=on or timezone.localdate(), reference=claim.reference,
                    description=f"Claim {claim.reference} approved, {claim.period_start:%d %b %Y} to "
                                f"{claim.period_end:%d %b %Y}", actor=actor)
        money_action_record(action=ControlAction.CLAIM_APPROVAL, amount=totals["payable"],
                            subject=provider_subject(claim.provider), reference=claim.reference,
                            summary=f"Claim {claim.reference} approved: {format_pounds(totals['payable'])} payable of "
                                    f"{format_pounds(totals['claimed'])} claimed",
                            maker=claim.imported_by, made_at=claim.imported_at, checker=actor)
    if to_status == ClaimStatus.WITHDRAWN and not reason.strip():
        raise DomainError("Give the reason for withdrawing the claim", field="reason")
    old = claim.status
    claim.status = to_status
    claim.save(update_fields=fields)
    event(claim.provider, "provider.claim.status", f"Claim {claim.reference} {ClaimStatus(to_status).label.lower()}",
          actor, old={"status": old}, new={"status": to_status, "reason": reason})
    return claim


__all__ = ["ImportRejected", "claim_import", "claim_line_override", "claim_makers", "claim_totals", "claim_transition",
           "line_ceiling", "pending_override_for", "pending_overrides", "why_cannot_approve"]
