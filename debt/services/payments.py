"""Payments: recording, allocating to invoices, reversing, refunding, importing and suspense.

A refund is a money control (ControlAction.REFUND): within the maker's limit it is paid at once,
above it a team leader approves it first; either way a MoneyAction records it.

Money moves only through casework's ledger; allocations say which invoice a payment paid and are
append-only (undoing one is a negative allocation with a reason). Each function is one transaction.
"""
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.models import (
    Account,
    Client,
    ControlAction,
    ControlRequest,
    ControlRequestStatus,
    LedgerEntry,
    TimelineEntry,
)
from casework.money import ZERO, format_pounds, to_pennies
from casework.selectors import client_balance
from casework.services import DomainError, account_for_client, ledger_post, ledger_reverse
from casework.services.controls import (
    control_request_raise,
    money_action_record,
    register_control,
    why_cannot_do_alone,
)

from .. import selectors
from ..constants import PaymentMethod, SuspenseStatus
from ..models import Invoice, Payment, PaymentAllocation, PaymentImport, SuspensePayment
from ..payment_import import ImportRejected, PaymentRow, file_sha256, parse_payment_file, storage_name

Allocation = tuple[Invoice, Decimal]


def _timeline(client: Client, action: str, summary: str, actor, body: str = "", **values) -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.LEDGER, action=action, summary=summary[:300],
                                 body=body, new_value=values or None, actor=actor, occurred_at=timezone.now())


def _method_label(method: str) -> str:
    if method not in PaymentMethod.values:
        raise DomainError("Choose how the payment was made", field="method")
    return PaymentMethod(method).label


def _check_payment(amount: Decimal, received_on: date, reference: str) -> Decimal:
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    if received_on > timezone.localdate():
        raise DomainError("The date received cannot be in the future", field="received_on")
    if not reference.strip():
        raise DomainError("Enter the payment's reference", field="reference")
    return amount


def _locked_outstanding(client: Client) -> list[Invoice]:
    """The client's unpaid invoices, oldest first, with their rows locked so two payments
    arriving together cannot both pay the same pounds of one invoice."""
    list(Invoice.objects.select_for_update().filter(client=client, total__gt=0).values_list("pk", flat=True))
    return list(selectors.unpaid_invoices(client))


def _oldest_first(client: Client, amount: Decimal) -> list[Allocation]:
    plan, left = [], amount
    for invoice in _locked_outstanding(client):
        if left <= 0:
            break
        share = min(left, to_pennies(invoice.outstanding))
        plan.append((invoice, share))
        left -= share
    return plan


def _checked_choice(client: Client, amount: Decimal, allocate_to: list[Allocation]) -> list[Allocation]:
    outstanding = {inv.pk: to_pennies(inv.outstanding) for inv in _locked_outstanding(client)}
    plan, seen = [], set()
    for invoice, share in allocate_to:
        share = to_pennies(share)
        if share == 0:
            continue
        if invoice.client_id != client.pk:
            raise DomainError(f"Invoice {invoice.number} is not this client's", field="allocate_to")
        if invoice.pk in seen:
            raise DomainError(f"Invoice {invoice.number} is listed twice", field="allocate_to")
        if share < 0 or share > outstanding.get(invoice.pk, ZERO):
            raise DomainError(f"Invoice {invoice.number} has {format_pounds(outstanding.get(invoice.pk, ZERO))} "
                              f"outstanding: allocate no more than that", field="allocate_to")
        seen.add(invoice.pk)
        plan.append((invoice, share))
    if sum((share for _, share in plan), ZERO) > amount:
        raise DomainError("The amounts allocated add up to more than the payment", field="allocate_to")
    return plan


def _describe(plan: list[Allocation], remainder: Decimal) -> str:
    parts = ["paid " + ", ".join(f"{inv.number} {format_pounds(share)}" for inv, share in plan)] if plan else []
    if remainder > 0:
        parts.append(f"{format_pounds(remainder)} left on the account as a credit")
    return "; ".join(parts)


@transaction.atomic
def payment_record(*, client: Client, amount: Decimal, method: str, received_on: date, reference: str, actor,
                   allocate_to: list[Allocation] | None = None, import_batch: PaymentImport | None = None) -> Payment:
    """Post the payment to the client's ledger, then allocate it: to the invoices chosen in
    `allocate_to`, or else to unpaid invoices oldest first. Any remainder stays a credit."""
    amount = _check_payment(amount, received_on, reference)
    label = _method_label(method)
    plan = _checked_choice(client, amount, allocate_to) if allocate_to else _oldest_first(client, amount)
    entry = ledger_post(account=account_for_client(client), kind=EntryKind.PAYMENT, amount=amount,
                        effective_date=received_on, reference=reference.strip(), description=f"{label} payment",
                        actor=actor)
    payment = Payment.objects.create(client=client, account=entry.account, amount=amount, method=method,
                                     received_on=received_on, reference=reference.strip(), ledger_entry=entry,
                                     import_batch=import_batch, created_by=actor)
    for invoice, share in plan:
        PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=share, created_by=actor)
    remainder = amount - sum((share for _, share in plan), ZERO)
    detail = _describe(plan, remainder)
    _timeline(client, "debt.payment.received",
              f"Payment of {format_pounds(amount)} by {label} received ({payment.reference}): {detail}", actor,
              payment=payment.pk, amount=str(amount), unallocated=str(remainder))
    return payment


def _take_back(payment: Payment, amount: Decimal, from_invoice: Invoice | None, to_invoice: Invoice, reason: str,
               actor) -> None:
    """Free `amount` of the payment: its unallocated part first (unless an invoice is named),
    then its allocations to other invoices, latest first, each with a negative allocation."""
    by_invoice = selectors.payment_allocated_by_invoice(payment)
    if from_invoice is None:
        amount -= min(amount, selectors.payment_unallocated(payment))
        sources = sorted((pk for pk in by_invoice if pk != to_invoice.pk), reverse=True)
    else:
        sources = [from_invoice.pk]
    for invoice_id in sources:
        if amount <= 0:
            return
        share = min(amount, by_invoice.get(invoice_id, ZERO))
        if share > 0:
            PaymentAllocation.objects.create(payment=payment, invoice_id=invoice_id, amount=-share,
                                             reason=reason, created_by=actor)
            amount -= share
    if amount > 0:
        raise DomainError("The payment does not have that much to move", field="amount")


@transaction.atomic
def payment_reallocate(*, payment: Payment, invoice: Invoice, amount: Decimal, actor, reason: str,
                       from_invoice: Invoice | None = None) -> Payment:
    """Move `amount` of a payment onto `invoice`: a negative allocation (with the reason) on the
    invoice it leaves (`from_invoice`, or else the unallocated part then the latest invoices),
    a positive one on the new invoice."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    amount = to_pennies(amount)
    if not reason.strip():
        raise DomainError("Give a reason for moving the payment", field="reason")
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    if selectors.payment_is_reversed(payment):
        raise DomainError("This payment has been reversed: it cannot be moved")
    if invoice.client_id != payment.client_id:
        raise DomainError(f"Invoice {invoice.number} is not this client's", field="invoice")
    if from_invoice is not None and from_invoice.pk == invoice.pk:
        raise DomainError("Choose a different invoice to move the payment to", field="invoice")
    _take_back(payment, amount, from_invoice, invoice, reason.strip(), actor)
    if amount > selectors.invoice_outstanding(invoice):
        raise DomainError(f"Invoice {invoice.number} has {format_pounds(selectors.invoice_outstanding(invoice))} "
                          "outstanding: move no more than that", field="amount")
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=amount, reason=reason.strip(),
                                     created_by=actor)
    _timeline(payment.client, "debt.payment.reallocated",
              f"{format_pounds(amount)} of payment {payment.reference} moved to {invoice.number}", actor,
              body=reason.strip(), payment=payment.pk, invoice=invoice.pk, amount=str(amount))
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str, actor) -> Payment:
    """A bounced cheque or recalled Direct Debit: reverse the ledger entry (at most once) and undo
    every allocation with a negative one."""
    if not reason.strip():
        raise DomainError("Give a reason for the reversal", field="reason")
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if selectors.payment_is_reversed(payment):
        raise DomainError(f"Payment {payment.reference} has already been reversed")
    ledger_reverse(entry=payment.ledger_entry, reason=reason.strip(), actor=actor)
    for invoice_id, net in selectors.payment_allocated_by_invoice(payment).items():
        PaymentAllocation.objects.create(payment=payment, invoice_id=invoice_id, amount=-net,
                                         reason=f"Payment reversed: {reason.strip()}"[:300], created_by=actor)
    _timeline(payment.client, "debt.payment.reversed",
              f"Payment of {format_pounds(payment.amount)} ({payment.reference}) reversed", actor,
              body=reason.strip(), payment=payment.pk)
    return payment


def refunds_waiting(client: Client) -> Decimal:
    """What the client's refunds waiting for a decision would pay out."""
    waiting = ControlRequest.objects.filter(action=ControlAction.REFUND, status=ControlRequestStatus.REQUESTED,
                                            client=client).aggregate(t=Sum("amount"))["t"]
    return to_pennies(waiting or ZERO)


def _refund_checked(client: Client, amount: Decimal, reason: str, method: str, *, waiting: Decimal = ZERO):
    """(amount, method label, locked account) for a refund of the client's credit; the account row
    is locked so two refunds cannot both spend it. `waiting`: credit already asked for by refunds
    waiting for a decision, which this one may not spend too."""
    amount = to_pennies(amount)
    label = _method_label(method)
    if not reason.strip():
        raise DomainError("Give a reason for the refund", field="reason")
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    account = Account.objects.select_for_update().get(pk=account_for_client(client).pk)
    credit = max(-client_balance(client), ZERO)
    if amount > credit - waiting:
        if waiting:
            raise DomainError(f"The account is {format_pounds(credit)} in credit and refunds of "
                              f"{format_pounds(waiting)} are waiting for a decision: refund no more than "
                              f"{format_pounds(max(credit - waiting, ZERO))}", field="amount")
        raise DomainError(f"The account is {format_pounds(credit)} in credit: refund no more than that", field="amount")
    return amount, label, account


def _refund_post(client: Client, account: Account, amount: Decimal, label: str, reason: str, reference: str,
                 actor) -> LedgerEntry:
    today = timezone.localdate()
    entry = ledger_post(account=account, kind=EntryKind.REFUND, amount=amount, effective_date=today,
                        reference=(reference.strip() or f"REFUND-{today:%Y%m%d}")[:60],
                        description=f"Refund by {label}: {reason.strip()}"[:300], actor=actor)
    _timeline(client, "debt.refund.issued", f"Refund of {format_pounds(amount)} by {label}", actor,
              body=reason.strip(), entry=entry.pk, amount=str(amount))
    return entry


@transaction.atomic
def refund_issue(*, client: Client, amount: Decimal, reason: str, actor, method: str,
                 reference: str = "") -> LedgerEntry | ControlRequest:
    """Pay back a client's credit (the web page and the API). Within the maker's REFUND limit
    (ControlLimit rows, counting the client's refunds over the row's period) it is paid at once and
    recorded as done alone; above it, it becomes a request a team leader approves, and the refund
    is paid only then (the credit checked again). Returns the refund's entry, or the request."""
    amount, label, account = _refund_checked(client, amount, reason, method, waiting=refunds_waiting(client))
    if why_cannot_do_alone(actor, ControlAction.REFUND, amount, client=client):
        balance = client_balance(client)
        return control_request_raise(
            action=ControlAction.REFUND, amount=amount, client=client, subject=f"Account {account.number}",
            summary=f"Refund of {format_pounds(amount)} by {label} from the credit on {account.number}",
            reason=reason, actor=actor,
            payload={"client": client.pk, "amount": str(amount), "method": method, "reference": reference.strip()},
            changes=[[f"Balance of {account.number}", format_pounds(balance), format_pounds(balance + amount)]])
    entry = _refund_post(client, account, amount, label, reason, reference, actor)
    money_action_record(action=ControlAction.REFUND, amount=amount, client=client, subject=f"Account {account.number}",
                        reference=entry.reference, summary=f"Refund of {format_pounds(amount)} by {label}",
                        maker=actor)
    return entry


def _execute_refund(request: ControlRequest, approver) -> str:
    """Pay the approved refund, if the account still holds the credit."""
    data = request.payload
    client = Client.objects.get(pk=data["client"])
    waiting = refunds_waiting(client) - request.amount  # this request is still waiting while it is carried out
    amount, label, account = _refund_checked(client, Decimal(data["amount"]), request.reason, data["method"],
                                             waiting=max(waiting, ZERO))
    entry = _refund_post(client, account, amount, label, f"{request.reason} (approved, {request.reference})",
                         data.get("reference", ""), request.requested_by)
    return entry.reference


register_control(ControlAction.REFUND, _execute_refund)


def _client_for(row: PaymentRow) -> Client | None:
    if row.client_reference:
        client = Client.objects.filter(reference__iexact=row.client_reference).first()
        if client:
            return client
    invoice = Invoice.objects.filter(number__iexact=row.reference).select_related("client").first()
    return invoice.client if invoice else None


def _store(data: bytes, name: str) -> str:
    """Save the file through Django's storage. If the transaction later rolls back the file is
    left behind but nothing refers to it."""
    stamp = timezone.now()
    return default_storage.save(f"imports/payments/{stamp:%Y/%m}/{storage_name(name, 'payments.csv')}",
                                ContentFile(data))


def payment_import(*, file, source: str, actor) -> PaymentImport:
    """1. Read and check every row (nothing written on any problem). 2. Refuse a file already
    imported. 3. In one transaction: store the file, record the import, and turn each row into a
    payment (when a client is found) or a suspense row."""
    data = file.read()
    rows = parse_payment_file(data)
    digest = file_sha256(data)
    if PaymentImport.objects.filter(sha256=digest).exists():
        raise ImportRejected(["This file has already been imported"])
    try:
        with transaction.atomic():
            return _import_rows(data, digest, getattr(file, "name", ""), rows, source, actor)
    except IntegrityError as exc:  # the same file imported by someone else at the same moment
        raise ImportRejected(["This file has already been imported"]) from exc


def _import_rows(data: bytes, digest: str, name: str, rows: list[PaymentRow], source: str, actor) -> PaymentImport:
    batch = PaymentImport.objects.create(
        source=source, original_name=(name or "payments.csv")[:255], file=_store(data, name.rsplit("/", 1)[-1]),
        sha256=digest, rows=len(rows), total=to_pennies(sum((r.amount for r in rows), ZERO)), imported_by=actor)
    for row in rows:
        client = _client_for(row)
        if client:
            payment_record(client=client, amount=row.amount, method=row.method, received_on=row.received_on,
                           reference=row.reference, actor=actor, import_batch=batch)
        else:
            SuspensePayment.objects.create(amount=row.amount, method=row.method, received_on=row.received_on,
                                           reference=row.reference, payer=row.payer, import_batch=batch,
                                           row_number=row.row_number)
    return batch


def _locked_unmatched(suspense: SuspensePayment) -> SuspensePayment:
    row = SuspensePayment.objects.select_for_update().get(pk=suspense.pk)
    if row.status != SuspenseStatus.UNMATCHED:
        raise DomainError(f"This payment is already {row.get_status_display().lower()}")
    return row


@transaction.atomic
def suspense_match(*, suspense: SuspensePayment, client: Client, actor, note: str = "") -> Payment:
    """Record a suspense payment for the client (allocated oldest first) and mark it matched."""
    row = _locked_unmatched(suspense)
    payment = payment_record(client=client, amount=row.amount, method=row.method, received_on=row.received_on,
                             reference=row.reference, actor=actor, import_batch=row.import_batch)
    row.status, row.matched_payment, row.note = SuspenseStatus.MATCHED, payment, note.strip()[:300]
    row._history_user = actor
    row.save(update_fields=["status", "matched_payment", "note"])
    return payment


@transaction.atomic
def suspense_return(*, suspense: SuspensePayment, actor, note: str) -> SuspensePayment:
    """Mark a suspense payment as returned to the payer (the money goes back outside Careledger)."""
    if not note.strip():
        raise DomainError("Say how and why the payment was returned", field="note")
    row = _locked_unmatched(suspense)
    row.status, row.note = SuspenseStatus.REFUNDED, note.strip()[:300]
    row._history_user = actor
    row.save(update_fields=["status", "note"])
    return row
