"""Write-off requests: raise, approve, reject, post. Every status change goes through
`writeoff_transition`, which re-reads the row under a lock and checks the model's table."""
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.models import Client, TimelineEntry
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import roles_of
from casework.services import DomainError
from casework.services.ledger import account_for_client, ledger_post

from ..models import (
    UNLIMITED_APPROVER_GROUP,
    Invoice,
    WriteOffLevel,
    WriteOffLine,
    WriteOffRequest,
    WriteOffStatus,
)
from ..reports import with_outstanding


def approval_limit(user, on: date) -> Decimal | None | bool:
    """The largest amount `user` may approve on `on`: a Decimal, None for no limit, or False when
    the user holds no approving group. The highest level among the user's groups wins."""
    groups = {role.value for role in roles_of(user)}
    if user.groups.filter(name=UNLIMITED_APPROVER_GROUP).exists():
        groups.add(UNLIMITED_APPROVER_GROUP)
    best: Decimal | None | bool = False
    for group in groups:
        level = WriteOffLevel.objects.filter(group_name=group, effective_from__lte=on).order_by(
            "-effective_from").first()
        if level is None:
            continue
        if level.maximum_amount is None:
            return None
        if best is False or level.maximum_amount > best:
            best = level.maximum_amount
    return best


def why_cannot_decide(request: WriteOffRequest, user) -> str | None:
    """Why `user` may not approve or reject this request, in words; None if they may."""
    if request.status != WriteOffStatus.REQUESTED:
        return f"This request is {request.get_status_display().lower()}: there is nothing to decide"
    if request.requested_by_id == user.pk:
        return "You asked for this write-off, so someone else must decide it"
    limit = approval_limit(user, timezone.localdate())
    if limit is False:
        return "Your role cannot approve write-offs"
    if limit is not None and request.amount > limit:
        return f"You may approve write-offs up to {format_pounds(limit)}; this one is {format_pounds(request.amount)}"
    return None


def _timeline(request: WriteOffRequest, action: str, summary: str, actor, old=None, new=None, body: str = "") -> None:
    TimelineEntry.objects.create(
        client=request.client, kind=TimelineKind.LEDGER, action=action, summary=summary, body=body,
        old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())


@transaction.atomic
def writeoff_request(*, client: Client, lines: list[tuple[Invoice, Decimal]], reason: str, note: str,
                     actor) -> WriteOffRequest:
    """Ask for amounts to be written off the client's invoices. No line may exceed what the invoice
    still owes less any write-off already waiting or approved for it."""
    lines = [(invoice, to_pennies(amount)) for invoice, amount in lines if amount]
    if not lines:
        raise DomainError("Enter an amount to write off for at least one invoice")
    invoice_ids = [invoice.pk for invoice, _ in lines]
    # Lock the invoices so two requests cannot both claim the same outstanding amount.
    list(Invoice.objects.select_for_update().filter(pk__in=invoice_ids).values_list("pk"))
    owing = {i.pk: i for i in with_outstanding(Invoice.objects.filter(pk__in=invoice_ids, client=client))}
    pending = dict(WriteOffLine.objects.filter(
        invoice_id__in=invoice_ids, request__status__in=[WriteOffStatus.REQUESTED, WriteOffStatus.APPROVED])
        .values("invoice_id").annotate(s=Sum("amount")).values_list("invoice_id", "s"))
    for invoice, amount in lines:
        if invoice.pk not in owing:
            raise DomainError(f"Invoice {invoice.number} is not this client's")
        if amount <= 0:
            raise DomainError(f"Enter a positive amount for {invoice.number}", field=f"invoice_{invoice.pk}")
        available = owing[invoice.pk].outstanding - pending.get(invoice.pk, ZERO)
        if amount > available:
            raise DomainError(f"{invoice.number} has {format_pounds(max(available, ZERO))} that can be written off",
                              field=f"invoice_{invoice.pk}")
    request = WriteOffRequest.objects.create(client=client, amount=sum((a for _, a in lines), ZERO), reason=reason,
                                             note=note.strip(), requested_by=actor)
    WriteOffLine.objects.bulk_create([WriteOffLine(request=request, invoice=i, amount=a) for i, a in lines])
    _timeline(request, "debt.writeoff.requested",
              f"Write-off {request.reference} of {format_pounds(request.amount)} requested "
              f"({request.get_reason_display()})", actor, new={"request": request.pk, "amount": str(request.amount)},
              body=request.note)
    return request


@transaction.atomic
def writeoff_transition(*, request: WriteOffRequest, to: str, actor, note: str = "") -> WriteOffRequest:
    """Move a request to `to`. Re-reads it under a row lock: of two approvers acting at once, the
    second waits, then finds it already decided. Already in `to`: returned unchanged."""
    locked = WriteOffRequest.objects.select_for_update().select_related("client").get(pk=request.pk)
    if locked.status == to:
        return locked
    if not locked.can_transition_to(to):
        raise DomainError(f"Write-off {locked.reference} is {locked.get_status_display().lower()} "
                          f"and cannot become {WriteOffStatus(to).label.lower()}")
    old = locked.status
    fields = ["status"]
    if to in (WriteOffStatus.APPROVED, WriteOffStatus.REJECTED):
        if reason := why_cannot_decide(locked, actor):
            raise DomainError(reason)
        locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note.strip()
        fields += ["decided_by", "decided_at", "decision_note"]
    if to == WriteOffStatus.POSTED:
        locked.ledger_entry = ledger_post(
            account=account_for_client(locked.client), kind=EntryKind.WRITE_OFF, amount=locked.amount,
            effective_date=timezone.localdate(), reference=locked.reference,
            description=f"Write-off: {locked.get_reason_display()}", actor=actor)
        fields.append("ledger_entry")
    locked.status = to
    locked.save(update_fields=fields)
    _timeline(locked, f"debt.writeoff.{to}", f"Write-off {locked.reference} of {format_pounds(locked.amount)}: "
              f"{locked.get_status_display().lower()}", actor, old={"status": old}, new={"status": to},
              body=note.strip())
    return locked


@transaction.atomic
def writeoff_approve(*, request: WriteOffRequest, actor, note: str = "") -> WriteOffRequest:
    """Approve and post at once: an approved write-off is written to the ledger in the same
    transaction, so it is never left approved but unposted."""
    approved = writeoff_transition(request=request, to=WriteOffStatus.APPROVED, actor=actor, note=note)
    return writeoff_transition(request=approved, to=WriteOffStatus.POSTED, actor=actor)


def writeoff_reject(*, request: WriteOffRequest, actor, note: str) -> WriteOffRequest:
    if not note.strip():
        raise DomainError("Say why the write-off is rejected", field="note")
    return writeoff_transition(request=request, to=WriteOffStatus.REJECTED, actor=actor, note=note)
