from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from casework.constants import ENTRY_SIGN, AccountKind, EntryKind, TimelineKind
from casework.models import Account, Client, LedgerEntry, TimelineEntry
from casework.selectors import account_balance
from casework.models.controls import ControlAction, ControlRequest, ControlRequestStatus, Direction
from casework.money import MoneyError, format_pounds, to_pennies

from .controls import control_request_raise, money_action_record, register_control, why_cannot_do_alone
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
    case=None, reason: str = "",
) -> LedgerEntry:
    """Post one entry. The amount's sign follows its kind: a payment of 50 reduces the balance by 50;
    an adjustment keeps the sign given. For the services of each app, which carry their own
    controls; an entry an officer or a system types in goes through `ledger_post_by_hand`."""
    return ledger_save([ledger_rows(account=account, kind=kind, amount=amount, effective_date=effective_date,
                                    reference=reference, description=description, actor=actor, case=case,
                                    reason=reason)])[0]


#: Kinds never posted by hand: each has its own service and control.
NOT_BY_HAND = {
    EntryKind.WRITE_OFF: "A write-off is asked for from the client's invoices (Write off), and approved by someone else",
}


@transaction.atomic
def ledger_post_by_hand(
    *, account: Account, kind: str, amount: Decimal, effective_date: date, reference: str, description: str, actor,
    reason: str = "", case=None,
) -> LedgerEntry | ControlRequest:
    """An entry an officer types in (the web form) or a system sends (the API). Within what the
    maker's role may post alone (`ControlLimit` rows for this kind and direction, counting the
    account's total in their period) it is posted at once and recorded as done alone. Anything
    else (every reduction, for an officer) becomes a request that someone else approves: the
    entry is posted only then. Returns the entry, or the request."""
    if kind in NOT_BY_HAND:
        raise DomainError(NOT_BY_HAND[kind], field="kind")
    entry, _ = ledger_rows(account=account, kind=kind, amount=amount, effective_date=effective_date,
                           reference=reference, description=description, actor=actor, case=case, reason=reason)
    direction = Direction.REDUCE if entry.amount < 0 else Direction.INCREASE
    size = abs(entry.amount)
    client = account.client
    label = entry.get_kind_display()
    why = why_cannot_do_alone(actor, ControlAction.MANUAL_POSTING, size, client=client, entry_kind=kind,
                              direction=direction)
    if why:
        if not reason.strip():
            raise DomainError(f"{why}. Give a reason for the person who will decide", field="reason")
        balance = account_balance(account)
        return control_request_raise(
            action=ControlAction.MANUAL_POSTING, amount=size, client=client, subject=f"Account {account.number}",
            summary=f"{label} of {format_pounds(size)} to {'reduce' if entry.amount < 0 else 'increase'} "
                    f"what is owed on {account.number} ({entry.reference})",
            reason=reason, actor=actor,
            payload={"account": account.pk, "kind": kind, "amount": str(entry.amount), "direction": direction,
                     "effective_date": effective_date.isoformat(), "reference": entry.reference,
                     "description": entry.description, "case": getattr(case, "pk", None)},
            changes=[["Balance of " + account.number, str(balance), str(to_pennies(balance + entry.amount))],
                     ["Entry", "", f"{label} {entry.amount} ({entry.reference}): {entry.description}"]])
    posted = ledger_post(account=account, kind=kind, amount=amount, effective_date=effective_date,
                         reference=reference, description=description, actor=actor, case=case, reason=reason)
    money_action_record(action=ControlAction.MANUAL_POSTING, amount=posted.amount, client=client,
                        subject=f"Account {account.number}", reference=posted.reference,
                        summary=f"{label} of {format_pounds(abs(posted.amount))} posted by hand", maker=actor)
    return posted


def _execute_manual_posting(request: ControlRequest, approver) -> str:
    data = request.payload
    account = Account.objects.select_related("client").get(pk=data["account"])
    entry = ledger_post(account=account, kind=data["kind"], amount=Decimal(data["amount"]),
                        effective_date=date.fromisoformat(data["effective_date"]), reference=data["reference"],
                        description=data["description"], actor=request.requested_by,
                        reason=f"{request.reason} (approved by {approver.get_username()}, {request.reference})")
    return entry.reference


register_control(ControlAction.MANUAL_POSTING, _execute_manual_posting)


def ledger_rows(
    *, account: Account, kind: str, amount: Decimal, effective_date: date, reference: str, description: str, actor,
    case=None, reason: str = "",
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
        reference=reference.strip(), description=description.strip(), posted_by=actor, reason=reason.strip()[:300],
    )
    timeline = TimelineEntry(
        client_id=account.client_id, case=case, kind=TimelineKind.LEDGER, action=f"ledger.{kind}.posted",
        summary=f"{entry.get_kind_display()} of £{abs(entry.amount):,.2f} posted to {account.number} ({entry.reference})",
        new_value={"entry": None, "amount": str(entry.amount), "effective_date": effective_date.isoformat()},
        actor=actor, body=entry.reason,
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


@transaction.atomic
def ledger_reverse_by_hand(*, entry: LedgerEntry, reason: str, actor) -> LedgerEntry | ControlRequest:
    """A team leader reverses a posted entry. Reversing a charge, fee or interest reduces what is
    owed: within the reverser's limit for the account's period it happens at once; above it,
    another team leader approves. Reversing a payment or credit (which puts the debt back) is
    limited only by the increase row. Returns the reversal, or the request."""
    if not reason.strip():
        raise DomainError("Give a reason for the reversal", field="reason")
    original = LedgerEntry.objects.select_related("account__client").get(pk=entry.pk)
    if original.reverses_id is not None:
        raise DomainError("A reversal cannot itself be reversed: post a new entry instead")
    if LedgerEntry.objects.filter(reverses=original).exists():
        raise DomainError(f"Entry {original.reference} has already been reversed")
    direction = Direction.REDUCE if original.amount > 0 else Direction.INCREASE
    size = abs(original.amount)
    account = original.account
    why = why_cannot_do_alone(actor, ControlAction.LEDGER_REVERSAL, size, client=account.client, direction=direction)
    if why:
        if ControlRequest.objects.filter(action=ControlAction.LEDGER_REVERSAL, payload__entry=original.pk,
                                         status=ControlRequestStatus.REQUESTED).exists():
            raise DomainError(f"A reversal of {original.reference} is already waiting for a decision")
        balance = account_balance(account)
        return control_request_raise(
            action=ControlAction.LEDGER_REVERSAL, amount=size, client=account.client,
            subject=f"Account {account.number}",
            summary=f"Reverse {original.get_kind_display().lower()} {original.reference} of {format_pounds(size)}",
            reason=reason, actor=actor, payload={"entry": original.pk, "direction": direction},
            changes=[["Balance of " + account.number, str(balance), str(to_pennies(balance - original.amount))],
                     ["Entry reversed", f"{original.get_kind_display()} {original.amount} ({original.reference}), "
                      f"posted {original.posted_at:%d %B %Y} by {original.posted_by.get_username()}", ""]])
    reversal = ledger_reverse(entry=original, reason=reason, actor=actor)
    money_action_record(action=ControlAction.LEDGER_REVERSAL, amount=size, client=account.client,
                        subject=f"Account {account.number}", reference=reversal.reference,
                        summary=f"{original.get_kind_display()} {original.reference} reversed", maker=actor)
    return reversal


def _execute_reversal(request: ControlRequest, approver) -> str:
    entry = LedgerEntry.objects.get(pk=request.payload["entry"])
    reversal = ledger_reverse(entry=entry, actor=request.requested_by,
                              reason=f"{request.reason} (approved by {approver.get_username()}, {request.reference})"[:300])
    return reversal.reference


register_control(ControlAction.LEDGER_REVERSAL, _execute_reversal)
