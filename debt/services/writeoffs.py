"""Write-off requests: raise, approve, reject, post. Every status change goes through
`writeoff_transition`, which re-reads the row under a lock and checks the model's table.

An approver's limit (WriteOffLevel) is on the total written off for the client over the level's
period: this request plus those approved or posted in the period, so a debt cannot be split into
requests each under the limit. A posted write-off is recorded as a MoneyAction (maker: who asked,
checker: who approved) for the auditors' separation report."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.models import Client, TimelineEntry
from casework.models.controls import ControlAction
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import roles_of
from casework.selectors import client_balance
from casework.services import DomainError
from casework.services.controls import money_action_record, why_same_person
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

#: The period a write-off limit counts over when the user holds no approving level (for the page).
DEFAULT_PERIOD_DAYS = WriteOffLevel._meta.get_field("period_days").default


def approval_level(user, on: date) -> WriteOffLevel | None:
    """The most generous level in force on `on` among the user's groups (no limit beats any
    amount; of equal amounts, the longer period); None when the user holds no approving group."""
    groups = {role.value for role in roles_of(user)}
    if user.groups.filter(name=UNLIMITED_APPROVER_GROUP).exists():
        groups.add(UNLIMITED_APPROVER_GROUP)
    best: WriteOffLevel | None = None
    for group in groups:
        level = WriteOffLevel.objects.filter(group_name=group, effective_from__lte=on).order_by(
            "-effective_from").first()
        if level is None:
            continue
        if best is None or (best.maximum_amount is not None and (
                level.maximum_amount is None or level.maximum_amount > best.maximum_amount
                or (level.maximum_amount == best.maximum_amount and level.period_days > best.period_days))):
            best = level
    return best


def approval_limit(user, on: date) -> Decimal | None | bool:
    """The largest total `user` may approve for one client in the level's period on `on`: a
    Decimal, None for no limit, or False when the user holds no approving group."""
    level = approval_level(user, on)
    return False if level is None else level.maximum_amount


def period_start(on: date, period_days: int) -> date:
    return on - timedelta(days=period_days)


def written_off_since(client: Client, since: date, *, exclude: WriteOffRequest | None = None) -> Decimal:
    """What was written off (approved or posted) for the client from `since`, by decision date."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    rows = WriteOffRequest.objects.filter(client=client, status__in=[WriteOffStatus.APPROVED, WriteOffStatus.POSTED],
                                          decided_at__gte=start)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return to_pennies(rows.aggregate(t=Sum("amount"))["t"] or ZERO)


def why_cannot_decide(request: WriteOffRequest, user) -> str | None:
    """Why `user` may not approve or reject this request, in words; None if they may."""
    if request.status != WriteOffStatus.REQUESTED:
        return f"This request is {request.get_status_display().lower()}: there is nothing to decide"
    if reason := why_same_person(user, request.requested_by_id, action="decide this write-off"):
        return reason
    today = timezone.localdate()
    level = approval_level(user, today)
    if level is None:
        return "Your role cannot approve write-offs"
    if level.maximum_amount is None:
        return None
    since = period_start(today, level.period_days)
    before = written_off_since(request.client, since, exclude=request)
    total = request.amount + before
    if total <= level.maximum_amount:
        return None
    if before:
        return (f"With the {format_pounds(before)} already written off for this client since {since:%-d %B %Y} "
                f"this comes to {format_pounds(total)}; you may approve up to {format_pounds(level.maximum_amount)}")
    return (f"You may approve write-offs up to {format_pounds(level.maximum_amount)}; this one is "
            f"{format_pounds(request.amount)}")


@dataclass
class WriteOffPosition:
    """What approving a request changes, for the page the approver decides on."""

    lines: list            # (invoice, outstanding now, written off by this request, outstanding after)
    balance_before: Decimal
    balance_after: Decimal
    since: date
    period_days: int
    written_off: Decimal    # approved or posted for the client since `since`, this request apart
    total: Decimal          # with this request
    limit: Decimal | None | bool


def writeoff_position(request: WriteOffRequest, user) -> WriteOffPosition:
    """The invoices, the client's balance before and after, and what was written off for the client
    in the period of `user`'s level (or the usual period when the user holds none)."""
    today = timezone.localdate()
    level = approval_level(user, today)
    days = level.period_days if level else DEFAULT_PERIOD_DAYS
    since = period_start(today, days)
    lines = list(request.lines.select_related("invoice"))
    owing = {i.pk: i.outstanding for i in with_outstanding(Invoice.objects.filter(
        pk__in=[line.invoice_id for line in lines]))}
    waiting = request.status in (WriteOffStatus.REQUESTED, WriteOffStatus.APPROVED)
    rows = []
    for line in lines:
        now = to_pennies(owing.get(line.invoice_id, ZERO))
        rows.append((line.invoice, now, line.amount, to_pennies(now - line.amount) if waiting else now))
    balance = client_balance(request.client)
    after = to_pennies(balance - request.amount) if waiting else balance
    done = written_off_since(request.client, since, exclude=request)
    return WriteOffPosition(lines=rows, balance_before=balance, balance_after=after, since=since, period_days=days,
                            written_off=done, total=to_pennies(done + request.amount),
                            limit=False if level is None else level.maximum_amount)


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
        # One decision at a time per client, so two approvals made together are counted against
        # the period's limit one after the other.
        Client.objects.select_for_update().filter(pk=locked.client_id).exists()
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
        money_action_record(action=ControlAction.WRITE_OFF, amount=locked.amount, client=locked.client,
                            reference=locked.reference,
                            summary=f"Write-off {locked.reference}: {locked.get_reason_display()}",
                            maker=locked.requested_by, made_at=locked.requested_at,
                            checker=locked.decided_by, checked_at=locked.decided_at)
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
