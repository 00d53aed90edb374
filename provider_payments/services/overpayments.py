"""Overpayments to providers: identified, approved by a second person, then recovered by offset in
the next payment runs or by an invoice to the provider. Every step is on the provider's ledger."""
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError

from ..constants import ClaimStatus, LineResult, OverpaymentSource, OverpaymentStatus, ProviderEntryKind, RecoveryMethod
from ..models import ClaimLine, Overpayment, OverpaymentRecovery, Provider
from .common import event, ledger_post, refuse_transition, require_other_person, require_role

OVERPAYMENT_APPROVERS = frozenset({Role.TEAM_LEADER})


def overpayment_outstanding(overpayment: Overpayment) -> Decimal:
    recovered = OverpaymentRecovery.objects.filter(overpayment=overpayment).aggregate(t=Sum("amount"))["t"] or ZERO
    return to_pennies(overpayment.amount - recovered)


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
        require_other_person(actor, overpayment.identified_by, "approve the recovery")
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
    if to_status == OverpaymentStatus.CANCELLED and not reason.strip():
        raise DomainError("Give the reason for cancelling", field="reason")
    if to_status == OverpaymentStatus.RECOVERED and overpayment_outstanding(overpayment) != 0:
        raise DomainError(f"{overpayment.reference} still has {format_pounds(overpayment_outstanding(overpayment))} "
                          f"to recover")
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


LIVE_OVERPAYMENT = [OverpaymentStatus.IDENTIFIED, OverpaymentStatus.APPROVED, OverpaymentStatus.RECOVERED]


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
