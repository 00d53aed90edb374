"""Urgent payments outside the run (CHAPS or faster payment): a reason, a second person's
approval, and the payment on the provider's ledger."""
from datetime import date
from decimal import Decimal

from django.db import transaction

from casework.models import ControlAction
from casework.money import MoneyError, format_pounds, to_pennies
from casework.roles import Role
from casework.services import DomainError
from casework.services.controls import money_action_record, require_other_person

from ..constants import ProviderEntryKind, UrgentMethod, UrgentStatus
from ..models import Provider, UrgentPayment
from .common import event, ledger_post, provider_subject, refuse_transition, require_role
from .providers import provider_is_payable

URGENT_APPROVERS = frozenset({Role.TEAM_LEADER})


@transaction.atomic
def urgent_request(*, provider: Provider, amount: Decimal, method: str, reason: str, actor) -> UrgentPayment:
    try:
        amount = to_pennies(amount)
    except MoneyError as exc:
        raise DomainError(str(exc), field="amount") from exc
    if amount <= 0:
        raise DomainError("Enter an amount above zero", field="amount")
    if method not in UrgentMethod.values:
        raise DomainError("Choose CHAPS or faster payment", field="method")
    if not reason.strip():
        raise DomainError("Give the reason the payment cannot wait for the run", field="reason")
    held = provider_is_payable(provider)
    if held:
        raise DomainError(f"{provider.name} cannot be paid: {held}")
    urgent = UrgentPayment.objects.create(provider=provider, amount=amount, method=method, reason=reason.strip(),
                                          requested_by=actor)
    event(provider, "provider.urgent.requested", f"Urgent {urgent.get_method_display()} of {format_pounds(amount)} "
          f"requested", actor, new={"urgent": urgent.pk, "reason": reason.strip()})
    return urgent


@transaction.atomic
def urgent_transition(*, urgent: UrgentPayment, to_status: str, actor, paid_on: date | None = None,
                      reason: str = "") -> UrgentPayment:
    """The one way an urgent payment changes status; approval by a team leader other than the
    requester; paid puts it on the provider's ledger."""
    urgent = UrgentPayment.objects.select_for_update().select_related("provider").get(pk=urgent.pk)
    if urgent.status == to_status:
        return urgent
    if not urgent.can_transition_to(to_status):
        raise refuse_transition("Urgent payment", f"#{urgent.pk}", urgent.get_status_display(),
                                UrgentStatus(to_status).label)
    fields = ["status"]
    if to_status in (UrgentStatus.APPROVED, UrgentStatus.REJECTED):
        require_role(actor, URGENT_APPROVERS, "decide urgent payments")
        require_other_person(actor, urgent.requested_by_id, action="decide the urgent payment you asked for: "
                                                                  "another team leader decides")
        urgent.approved_by = actor
        fields.append("approved_by")
    if to_status == UrgentStatus.REJECTED and not reason.strip():
        raise DomainError("Give the reason for rejecting", field="reason")
    if to_status == UrgentStatus.PAID:
        if paid_on is None:
            raise DomainError("Enter the date it was paid", field="paid_on")
        urgent.paid_on = paid_on
        fields.append("paid_on")
        ledger_post(provider=urgent.provider, kind=ProviderEntryKind.URGENT, amount=urgent.amount, on=paid_on,
                    reference=f"URG-{urgent.pk:06d}", description=f"Urgent {urgent.get_method_display()}: {urgent.reason}",
                    actor=actor)
    old = urgent.status
    urgent.status = to_status
    urgent.save(update_fields=fields)
    if to_status == UrgentStatus.APPROVED:
        money_action_record(action=ControlAction.URGENT_PAYMENT, amount=urgent.amount,
                            subject=provider_subject(urgent.provider), reference=f"URG-{urgent.pk:06d}",
                            summary=f"Urgent {urgent.get_method_display()} of {format_pounds(urgent.amount)} approved: "
                                    f"{urgent.reason}", maker=urgent.requested_by, made_at=urgent.requested_at,
                            checker=actor)
    event(urgent.provider, "provider.urgent.status", f"Urgent payment of {format_pounds(urgent.amount)} "
          f"{UrgentStatus(to_status).label.lower()}", actor, old={"status": old}, new={"status": to_status, "reason": reason})
    return urgent
