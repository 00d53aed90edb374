from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from casework.constants import ENTRY_SIGN, AccountKind, EntryKind, TimelineKind
from casework.models import Account, Client, LedgerEntry, TimelineEntry
from casework.money import MoneyError, to_pennies

from .errors import DomainError


ACCOUNT_PREFIXES = {AccountKind.CLIENT_CHARGES: "C", AccountKind.DEFERRED_PAYMENT: "D", AccountKind.DIRECT_PAYMENT: "P"}


def _account_number(client: Client, kind: str) -> str:
    return f"{ACCOUNT_PREFIXES[kind]}-{client.reference}"


def erased_account_number(account: Account) -> str:
    """The number an erased client's account takes: its kind and id, nothing of the person."""
    return f"{ACCOUNT_PREFIXES.get(account.kind, 'A')}-ERASED-{account.pk}"


def account_for_client(client: Client, kind: str = AccountKind.CLIENT_CHARGES) -> Account:
    """The client's account of a kind, opened on first use. Numbers are the client reference and kind."""
    account, _ = Account.objects.get_or_create(client=client, kind=kind, defaults={"number": _account_number(client, kind)})
    return account


def accounts_for_clients(clients: list[Client], kind: str = AccountKind.CLIENT_CHARGES) -> dict[int, Account]:
    """Many clients' accounts of a kind by client pk, in one query, opening the missing ones in one
    INSERT (one that another process opened meanwhile is read back)."""
    found = {a.client_id: a for a in Account.objects.filter(client__in=clients, kind=kind)}
    missing = [Account(client=c, kind=kind, number=_account_number(c, kind)) for c in clients if c.pk not in found]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        found.update((a.client_id, a) for a in Account.objects.filter(client__in=[a.client_id for a in missing], kind=kind))
    by_pk = {c.pk: c for c in clients}
    for account in found.values():
        account.client = by_pk[account.client_id]
    return found


def _signed(kind: str, amount: Decimal) -> Decimal:
    try:
        amount = to_pennies(amount)
    except MoneyError as exc:
        raise DomainError(str(exc), field="amount") from exc
    if amount == 0:
        raise DomainError("Enter an amount other than zero", field="amount")
    sign = ENTRY_SIGN[EntryKind(kind)]
    if sign == 0:
        return amount
    return abs(amount) * sign


@transaction.atomic
def ledger_post(
    *, account: Account, kind: str, amount: Decimal, effective_date: date, reference: str, description: str, actor,
    case=None,
) -> LedgerEntry:
    """Post one entry. The amount's sign follows its kind: a payment of 50 reduces the balance by 50;
    an adjustment keeps the sign given."""
    return ledger_save([ledger_rows(account=account, kind=kind, amount=amount, effective_date=effective_date,
                                    reference=reference, description=description, actor=actor, case=case)])[0]


def ledger_rows(
    *, account: Account, kind: str, amount: Decimal, effective_date: date, reference: str, description: str, actor,
    case=None,
) -> tuple[LedgerEntry, TimelineEntry]:
    """One entry and its timeline entry, checked and unsaved, for `ledger_save` (a set-based run
    posts many entries in two INSERTs)."""
    if kind not in EntryKind.values:
        raise DomainError(f"Unknown kind of entry: {kind}", field="kind")
    if not reference.strip():
        raise DomainError("Enter a reference", field="reference")
    if not description.strip():
        raise DomainError("Enter a description", field="description")
    entry = LedgerEntry(
        account=account, kind=kind, amount=_signed(kind, amount), effective_date=effective_date,
        reference=reference.strip(), description=description.strip(), posted_by=actor,
    )
    timeline = TimelineEntry(
        client_id=account.client_id, case=case, kind=TimelineKind.LEDGER, action=f"ledger.{kind}.posted",
        summary=f"{entry.get_kind_display()} of £{abs(entry.amount):,.2f} posted to {account.number} ({entry.reference})",
        new_value={"entry": None, "amount": str(entry.amount), "effective_date": effective_date.isoformat()},
        actor=actor,
    )
    return entry, timeline


def ledger_save(rows: list[tuple[LedgerEntry, TimelineEntry]]) -> list[LedgerEntry]:
    """Insert entries from `ledger_rows` and their timeline entries: two statements however many."""
    with transaction.atomic(savepoint=False):
        entries = LedgerEntry.objects.bulk_create([entry for entry, _ in rows])
        for entry, timeline in rows:
            timeline.new_value["entry"] = entry.pk
            timeline.occurred_at = entry.posted_at
        TimelineEntry.objects.bulk_create([timeline for _, timeline in rows])
    return entries


@transaction.atomic
def ledger_reverse(*, entry: LedgerEntry, reason: str, actor, effective_date: date | None = None) -> LedgerEntry:
    """Reverse a posted entry with an equal and opposite one. An entry is reversed at most once."""
    if not reason.strip():
        raise DomainError("Give a reason for the reversal", field="reason")
    original = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if original.reverses_id is not None:
        raise DomainError("A reversal cannot itself be reversed: post a new entry instead")
    if LedgerEntry.objects.filter(reverses=original).exists():
        raise DomainError(f"Entry {original.reference} has already been reversed")
    try:
        with transaction.atomic():
            reversal = LedgerEntry.objects.create(
                account=original.account, kind=original.kind, amount=-original.amount,
                effective_date=effective_date or original.effective_date, reference=f"REV-{original.reference}"[:60],
                description=f"Reversal of {original.reference}: {original.description}"[:300],
                posted_by=actor, reverses=original, reason=reason.strip(),
            )
    except IntegrityError as exc:  # another officer reversed it in the same instant
        raise DomainError(f"Entry {original.reference} has already been reversed") from exc
    TimelineEntry.objects.create(
        client=original.account.client, kind=TimelineKind.LEDGER, action="ledger.entry.reversed",
        summary=f"{original.get_kind_display()} {original.reference} of £{abs(original.amount):,.2f} reversed",
        body=reason.strip(), old_value={"entry": original.pk}, new_value={"entry": reversal.pk},
        actor=actor, occurred_at=reversal.posted_at,
    )
    return reversal
