"""Helpers every provider payments service uses: the audit event, the provider ledger, role checks."""
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from casework.constants import TimelineKind
from casework.models import TimelineEntry
from casework.money import ZERO, to_pennies
from casework.roles import has_any_role
from casework.services import DomainError, NotAllowed

from ..constants import ENTRY_SIGN, ProviderEntryKind
from ..models import Provider, ProviderEvent, ProviderLedgerEntry


def event(provider: Provider, action: str, summary: str, actor, old=None, new=None) -> ProviderEvent:
    return ProviderEvent.objects.create(provider=provider, action=action, summary=summary[:300], old_value=old,
                                        new_value=new, actor=actor)


def client_timeline(client, action: str, summary: str, actor, old=None, new=None, body: str = "") -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary[:300],
                                 body=body, old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())


def ledger_post(*, provider: Provider, kind: str, amount: Decimal, on: date, reference: str, description: str,
                actor) -> ProviderLedgerEntry | None:
    """Post to the provider's ledger with the kind's sign; nothing for a zero amount."""
    amount = to_pennies(abs(amount))
    if amount == 0:
        return None
    return ProviderLedgerEntry.objects.create(
        provider=provider, kind=kind, amount=amount * ENTRY_SIGN[ProviderEntryKind(kind)], effective_date=on,
        reference=reference[:60], description=description[:300], posted_by=actor)


def provider_balance(provider: Provider) -> Decimal:
    """What the provider owes the council (negative: what the council owes the provider)."""
    return to_pennies(ProviderLedgerEntry.objects.filter(provider=provider).aggregate(t=Sum("amount"))["t"] or ZERO)


def require_role(actor, roles, action: str) -> None:
    if not has_any_role(actor, roles):
        raise NotAllowed(f"Your role does not allow you to {action}")


def provider_subject(provider: Provider) -> str:
    """How a provider is named on the money controls' records: name and supplier number."""
    return f"{provider.name} ({provider.supplier_number})"


def refuse_transition(kind: str, reference: str, current_label: str, target_label: str):
    return DomainError(f"{kind} {reference} cannot move from {current_label.lower()} to {target_label.lower()}")
