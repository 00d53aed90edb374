"""Overpayments to providers: identified, approved by a second person, then recovered by offset in
the next payment runs or by an invoice to the provider. Every step is on the provider's ledger."""
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.models.controls import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError
from casework.services.controls import (
    control_request_raise,
    money_action_record,
    register_control,
    require_other_person,
)

from ..constants import ClaimStatus, LineResult, OverpaymentSource, OverpaymentStatus, ProviderEntryKind, RecoveryMethod
from ..models import ClaimLine, Overpayment, OverpaymentRecovery, OverpaymentWaiver, Provider
from .common import event, ledger_post, refuse_transition, require_role

OVERPAYMENT_APPROVERS = frozenset({Role.TEAM_LEADER})


def _provider_subject(provider: Provider) -> str:
    """How a provider is named on the money controls' records (the same across its requests, so a
    period's limit counts them together)."""
    return f"{provider.name} ({provider.supplier_number})"


def overpayment_recovered(overpayment: Overpayment) -> Decimal:
    return to_pennies(OverpaymentRecovery.objects.filter(overpayment=overpayment).aggregate(t=Sum("amount"))["t"])


def overpayment_waived(overpayment: Overpayment) -> Decimal:
    return to_pennies(OverpaymentWaiver.objects.filter(overpayment=overpayment).aggregate(t=Sum("amount"))["t"])


def overpayment_outstanding(overpayment: Overpayment) -> Decimal:
    """What the provider still owes of it: the amount, less what was recovered and what was waived."""
    return to_pennies(overpayment.amount - overpayment_recovered(overpayment) - overpayment_waived(overpayment))


def overpayment_waivers_waiting(overpayment: Overpayment):
    return ControlRequest.objects.filter(action=ControlAction.OVERPAYMENT_WAIVER, status=ControlRequestStatus.REQUESTED,
                                         payload__overpayment=overpayment.pk)


def overpayment_waivable(overpayment: Overpayment) -> Decimal:
    """The most a new waiver may ask for: what is still owed, less the waivers waiting for a decision."""
    if overpayment.status != OverpaymentStatus.APPROVED:
        return ZERO
    waiting = to_pennies(overpayment_waivers_waiting(overpayment).aggregate(t=Sum("amount"))["t"])
    return max(ZERO, to_pennies(overpayment_outstanding(overpayment) - waiting))


@transaction.atomic
def overpayment_record(*, provider: Provider, amount: Decimal, source: str, description: str, actor,
                       method: str = RecoveryMethod.OFFSET, claim_lines=None) -> Overpayment:
    try:
        amount = to_pennies(amount)
    except MoneyError as exc:
        raise DomainError(str(exc), field="amount") from exc
    if amount <= 0:
        raise DomainError("Enter an amount above zero", field="amount")
    if source not in OverpaymentSource.values:
        raise DomainError("Say how the overpayment was found", field="source")
    if method not in RecoveryMethod.values:
        raise DomainError("Choose offset or invoice", field="method")
    if not description.strip():
        raise DomainError("Describe the overpayment", field="description")
    overpayment = Overpayment.objects.create(provider=provider, amount=amount, source=source, method=method,
                                             description=description.strip(), identified_by=actor)
    if claim_lines:
        overpayment.claim_lines.set(claim_lines)
    event(provider, "provider.overpayment.identified", f"{overpayment.reference}: {format_pounds(amount)} "
          f"({overpayment.get_source_display().lower()})", actor, new={"overpayment": overpayment.pk})
    return overpayment


@transaction.atomic
def overpayment_transition(*, overpayment: Overpayment, to_status: str, actor, reason: str = "",
                           invoice_number: str = "", on: date | None = None) -> Overpayment:
    """The one way an overpayment changes status. Approval (a team leader other than who found it)
    puts the debt on the provider's ledger; an invoice recovery needs the invoice number."""
    overpayment = Overpayment.objects.select_for_update().select_related("provider").get(pk=overpayment.pk)
    if overpayment.status == to_status:
        return overpayment
    if not overpayment.can_transition_to(to_status):
        raise refuse_transition("Overpayment", overpayment.reference, overpayment.get_status_display(),
                                OverpaymentStatus(to_status).label)
    fields = ["status"]
    if to_status == OverpaymentStatus.APPROVED:
        require_role(actor, OVERPAYMENT_APPROVERS, "approve overpayment recovery")
        require_other_person(actor, overpayment.identified_by, action="approve the recovery")
        if overpayment.method == RecoveryMethod.INVOICE:
            if not invoice_number.strip():
                raise DomainError("Enter the number of the invoice sent to the provider", field="invoice_number")
            overpayment.invoice_number = invoice_number.strip()
            fields.append("invoice_number")
        overpayment.approved_by = actor
        fields.append("approved_by")
        ledger_post(provider=overpayment.provider, kind=ProviderEntryKind.OVERPAYMENT, amount=overpayment.amount,
                    on=on or timezone.localdate(), reference=overpayment.reference,
                    description=f"Overpayment: {overpayment.description}", actor=actor)
        money_action_record(action=ControlAction.OVERPAYMENT_RECOVERY, amount=overpayment.amount,
                            subject=_provider_subject(overpayment.provider), reference=overpayment.reference,
                            summary=f"Overpayment {overpayment.reference} of {format_pounds(overpayment.amount)} approved "
                                    f"for recovery by {overpayment.get_method_display().lower()}",
                            maker=overpayment.identified_by, made_at=overpayment.identified_at, checker=actor)
    if to_status == OverpaymentStatus.CANCELLED and not reason.strip():
        raise DomainError("Give the reason for cancelling", field="reason")
    if to_status in (OverpaymentStatus.RECOVERED, OverpaymentStatus.WAIVED) and overpayment_outstanding(overpayment) != 0:
        raise DomainError(f"{overpayment.reference} still has {format_pounds(overpayment_outstanding(overpayment))} "
                          f"to recover")
    if to_status == OverpaymentStatus.WAIVED and not overpayment_waived(overpayment):
        raise DomainError(f"Nothing of {overpayment.reference} was waived: it is closed as recovered")
    old = overpayment.status
    overpayment.status = to_status
    overpayment.save(update_fields=fields)
    event(overpayment.provider, "provider.overpayment.status",
          f"{overpayment.reference} {OverpaymentStatus(to_status).label.lower()}", actor,
          old={"status": old}, new={"status": to_status, "reason": reason})
    return overpayment


@transaction.atomic
def overpayment_receipt(*, overpayment: Overpayment, amount: Decimal, received_on: date, actor) -> OverpaymentRecovery:
    """The provider paid (some of) the invoice for an overpayment."""
    overpayment = Overpayment.objects.select_for_update().get(pk=overpayment.pk)
    if overpayment.status != OverpaymentStatus.APPROVED or overpayment.method != RecoveryMethod.INVOICE:
        raise DomainError("Only an approved overpayment recovered by invoice takes receipts")
    amount = to_pennies(amount)
    outstanding = overpayment_outstanding(overpayment)
    if amount <= 0 or amount > outstanding:
        raise DomainError(f"Enter an amount above zero and no more than {format_pounds(outstanding)}", field="amount")
    recovery = OverpaymentRecovery.objects.create(overpayment=overpayment, amount=amount, recorded_by=actor)
    ledger_post(provider=overpayment.provider, kind=ProviderEntryKind.RECEIPT, amount=amount, on=received_on,
                reference=overpayment.invoice_number or overpayment.reference,
                description=f"Received against {overpayment.reference}", actor=actor)
    if overpayment_outstanding(overpayment) == 0:
        overpayment_transition(overpayment=overpayment, to_status=OverpaymentStatus.RECOVERED, actor=actor)
    return recovery


# Waiving ------------------------------------------------------------------------------------------

@transaction.atomic
def overpayment_waiver_request(*, overpayment: Overpayment, amount: Decimal, reason: str, actor) -> ControlRequest:
    """Ask for all or part of what a provider still owes of an approved overpayment to be waived.
    Always another person's decision (OVERPAYMENT_WAIVER, within their ControlLimit approval
    limit): nothing is posted until it is approved."""
    overpayment = Overpayment.objects.select_for_update().select_related("provider").get(pk=overpayment.pk)
    if overpayment.status != OverpaymentStatus.APPROVED:
        hint = (": cancel it instead if it is not owed" if overpayment.status == OverpaymentStatus.IDENTIFIED else "")
        raise DomainError(f"{overpayment.reference} is {overpayment.get_status_display().lower()}: only an overpayment "
                          f"approved for recovery is owed, and can be waived{hint}")
    try:
        amount = to_pennies(amount)
    except MoneyError:
        raise DomainError("Enter the amount to waive in pounds and pence, such as 120.00", field="amount") from None
    if amount <= 0:
        raise DomainError("Enter an amount to waive of more than £0.00", field="amount")
    outstanding = overpayment_outstanding(overpayment)
    waivable = overpayment_waivable(overpayment)
    if amount > waivable:
        waiting = f"; {format_pounds(outstanding - waivable)} already waits for a decision" if waivable != outstanding else ""
        raise DomainError(f"The amount to waive must be no more than {format_pounds(waivable)}: the provider still owes "
                          f"{format_pounds(outstanding)} of {overpayment.reference}{waiting}", field="amount")
    if not reason.strip():
        raise DomainError("Give the reason for waiving it, for the person who will decide", field="reason")
    provider = overpayment.provider
    request = control_request_raise(
        action=ControlAction.OVERPAYMENT_WAIVER, amount=amount, subject=_provider_subject(provider),
        summary=f"Waive {format_pounds(amount)} of overpayment {overpayment.reference} to {provider.name}",
        reason=reason, actor=actor, payload={"overpayment": overpayment.pk},
        changes=[[f"Still owed of {overpayment.reference}", format_pounds(outstanding),
                  format_pounds(outstanding - amount)],
                 ["Recovered so far", format_pounds(overpayment_recovered(overpayment)), ""],
                 ["Recovery", overpayment.get_method_display(), ""]])
    event(provider, "provider.overpayment.waiver_requested",
          f"{overpayment.reference}: waiver of {format_pounds(amount)} asked for ({request.reference})", actor,
          new={"overpayment": overpayment.pk, "request": request.pk, "amount": str(amount)})
    return request


def _execute_overpayment_waiver(request: ControlRequest, approver) -> str:
    overpayment = Overpayment.objects.select_for_update().select_related("provider").get(
        pk=request.payload["overpayment"])
    if overpayment.status != OverpaymentStatus.APPROVED:
        raise DomainError(f"{overpayment.reference} is {overpayment.get_status_display().lower()} now: reject this "
                          "request")
    outstanding = overpayment_outstanding(overpayment)
    if request.amount > outstanding:
        raise DomainError(f"Only {format_pounds(outstanding)} of {overpayment.reference} is still owed now (the rest "
                          "was recovered meanwhile): reject this request and ask again")
    reference = f"{overpayment.reference}-WVR-{request.reference}"
    entry = ledger_post(provider=overpayment.provider, kind=ProviderEntryKind.WAIVER, amount=request.amount,
                        on=timezone.localdate(), reference=reference,
                        description=f"Overpayment {overpayment.reference} waived ({request.reference})",
                        actor=request.requested_by)
    OverpaymentWaiver.objects.create(overpayment=overpayment, amount=request.amount, reason=request.reason, entry=entry,
                                     request=request, requested_by=request.requested_by, approved_by=approver)
    event(overpayment.provider, "provider.overpayment.waived",
          f"{overpayment.reference}: {format_pounds(request.amount)} waived, approved by {approver.get_username()} "
          f"({request.reference})", approver, new={"overpayment": overpayment.pk, "entry": entry.pk,
                                                  "request": request.pk})
    if overpayment_outstanding(overpayment) == 0:
        overpayment_transition(overpayment=overpayment, to_status=OverpaymentStatus.WAIVED, actor=approver,
                               reason=f"The rest waived ({request.reference})")
    return reference


register_control(ControlAction.OVERPAYMENT_WAIVER, _execute_overpayment_waiver)


LIVE_OVERPAYMENT = [OverpaymentStatus.IDENTIFIED, OverpaymentStatus.APPROVED, OverpaymentStatus.RECOVERED,
                    OverpaymentStatus.WAIVED]


def lines_after_death(client, statuses, provider: Provider | None = None,
                      date_of_death: date | None = None) -> dict[int, list[ClaimLine]]:
    """Claim lines (claims in `statuses`, not rejected) for care after the client's care ended
    (the date of death plus the notice period for the line's service), not already in an
    overpayment still standing, by provider."""
    died = date_of_death or client.date_of_death
    if died is None:
        return {}
    from .notice import NoticeBook

    lines = (ClaimLine.objects.filter(client=client, service_date__gt=died, claim__status__in=statuses)
             .exclude(result=LineResult.REJECTED).exclude(overpayments__status__in=LIVE_OVERPAYMENT)
             .select_related("claim__provider", "service_type").order_by("service_date", "pk"))
    if provider is not None:
        lines = lines.filter(claim__provider=provider)
    book = NoticeBook()
    by_provider: dict[int, list[ClaimLine]] = {}
    for line in lines:
        if line.service_type_id and line.service_date <= book.care_ends(line.service_type, died):
            continue  # within the notice period: due
        by_provider.setdefault(line.claim.provider_id, []).append(line)
    return by_provider


@transaction.atomic
def overpayments_after_death(*, client, actor, provider: Provider | None = None,
                             statuses=(ClaimStatus.PAID,)) -> list[Overpayment]:
    """A death recorded late: lines already paid (or, with `statuses`, approved for payment) for
    care after the care ended (the date of death, or the end of the notice period) become an
    overpayment per provider. Lines already in an overpayment are not counted twice, unless that
    overpayment was cancelled."""
    made = []
    for group in lines_after_death(client, list(statuses), provider).values():
        total = to_pennies(sum((l.payable_amount for l in group), ZERO))
        if total > 0:
            made.append(overpayment_record(
                provider=group[0].claim.provider, amount=total, source=OverpaymentSource.LATE_DEATH,
                description=f"Care paid after the death of {client.reference} on {client.date_of_death:%d %B %Y}",
                actor=actor, claim_lines=group))
    return made
