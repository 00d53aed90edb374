"""Providers and their bank details. A change of bank details is a request that a second person
approves; only then is the provider's row changed, and both steps are on the provider's audit trail."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from casework.models import ControlAction
from casework.money import ZERO
from casework.services import DomainError
from casework.services.controls import money_action_record, require_other_person

from ..constants import BankChangeStatus, ProviderStatus
from ..models import BankDetailsChange, PaymentSchedule, Provider
from ..models.providers import normalise_account_name, normalise_account_number, normalise_sort_code
from .common import event, provider_subject

PROVIDER_FIELDS = ["name", "supplier_number", "cqc_location_id", "contact_name", "contact_phone", "remittance_email",
                   "address", "payment_terms_days", "payment_schedule", "status", "ecm_mapping"]


def _clean_bank(sort_code: str, account_number: str, account_name: str) -> tuple[str, str, str]:
    cleaned = []
    for field, value, fn in (("sort_code", sort_code, normalise_sort_code),
                             ("account_number", account_number, normalise_account_number),
                             ("account_name", account_name, normalise_account_name)):
        try:
            cleaned.append(fn(value))
        except ValidationError as exc:
            raise DomainError(exc.messages[0], field=field) from exc
    return cleaned[0], cleaned[1], cleaned[2]


@transaction.atomic
def provider_create(*, actor, name: str, supplier_number: str, payment_schedule: PaymentSchedule | None = None,
                    **fields) -> Provider:
    if not name.strip():
        raise DomainError("Enter the provider's name", field="name")
    if Provider.objects.filter(supplier_number__iexact=supplier_number.strip()).exists():
        raise DomainError(f"Supplier number {supplier_number} is already used", field="supplier_number")
    provider = Provider.objects.create(name=name.strip(), supplier_number=supplier_number.strip(),
                                       payment_schedule=payment_schedule,
                                       **{k: v for k, v in fields.items() if k in PROVIDER_FIELDS})
    event(provider, "provider.created", f"Provider {provider.name} added", actor, new={"supplier_number": supplier_number})
    return provider


@transaction.atomic
def provider_update(*, provider: Provider, actor, **fields) -> Provider:
    """Change a provider's details (never its bank details: see bank_change_request)."""
    provider = Provider.objects.select_for_update().get(pk=provider.pk)
    old, new = {}, {}
    for name, value in fields.items():
        if name not in PROVIDER_FIELDS:
            raise DomainError(f"{name} cannot be changed here")
        current = getattr(provider, name)
        if current != value:
            old[name], new[name] = str(current), str(value)
            setattr(provider, name, value)
    if new:
        provider.save(update_fields=list(new))
        event(provider, "provider.updated", f"Changed {', '.join(sorted(new))}", actor, old=old, new=new)
    return provider


def _masked(sort_code: str, account_number: str) -> str:
    return f"{sort_code[:2]}-**-** ****{account_number[-4:]}" if sort_code else "none"


@transaction.atomic
def bank_change_request(*, provider: Provider, sort_code: str, account_number: str, account_name: str,
                        evidence: str, actor) -> BankDetailsChange:
    sort_code, account_number, account_name = _clean_bank(sort_code, account_number, account_name)
    if not evidence.strip():
        raise DomainError("Say how the new details were verified (for example a call back to a known number)",
                          field="evidence")
    if provider.bank_changes.filter(status=BankChangeStatus.PENDING).exists():
        raise DomainError("A change of bank details is already waiting for approval")
    change = BankDetailsChange.objects.create(provider=provider, sort_code=sort_code, account_number=account_number,
                                              account_name=account_name, evidence=evidence.strip(), requested_by=actor)
    event(provider, "provider.bank.requested", "Change of bank details requested", actor,
          old={"account": _masked(provider.sort_code, provider.account_number)},
          new={"account": _masked(sort_code, account_number), "evidence": evidence.strip()})
    return change


@transaction.atomic
def bank_change_decide(*, change: BankDetailsChange, approve: bool, actor, note: str = "") -> BankDetailsChange:
    """Approve (the provider's details change now) or reject. The requester cannot decide."""
    change = BankDetailsChange.objects.select_for_update().get(pk=change.pk)
    if change.status != BankChangeStatus.PENDING:
        raise DomainError(f"This change was already {change.get_status_display().lower()}")
    require_other_person(actor, change.requested_by_id,
                         action="decide the change of bank details you asked for: another officer or a team leader "
                                "decides")
    if not approve and not note.strip():
        raise DomainError("Give the reason for rejecting the change", field="note")
    change.status = BankChangeStatus.APPROVED if approve else BankChangeStatus.REJECTED
    change.decided_by, change.decided_at, change.decision_note = actor, timezone.now(), note.strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    provider = Provider.objects.select_for_update().get(pk=change.provider_id)
    old = {"account": _masked(provider.sort_code, provider.account_number), "name": provider.account_name}
    if approve:
        provider.sort_code, provider.account_number = change.sort_code, change.account_number
        provider.account_name = change.account_name
        provider.save(update_fields=["sort_code", "account_number", "account_name"])
        # Moves no money itself, but decides where every later payment goes.
        money_action_record(action=ControlAction.BANK_DETAILS, amount=ZERO, subject=provider_subject(provider),
                            reference=f"Bank change {change.pk}",
                            summary=f"Bank details changed from {old['account']} to "
                                    f"{_masked(change.sort_code, change.account_number)}",
                            maker=change.requested_by, made_at=change.requested_at, checker=actor)
    event(provider, f"provider.bank.{change.status}",
          f"Change of bank details {change.get_status_display().lower()}", actor, old=old,
          new={"account": _masked(change.sort_code, change.account_number), "name": change.account_name,
               "note": note.strip()})
    return change


def provider_is_payable(provider: Provider) -> str:
    """Why the provider cannot be paid now, or '' when it can."""
    if provider.status != ProviderStatus.ACTIVE:
        return f"Provider is {provider.get_status_display().lower()}"
    if not provider.has_bank_details:
        return "No approved bank details"
    return ""
