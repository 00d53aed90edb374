"""Money controls: the one two-person rule, limits as data, requests another person decides, and
the record of every money-moving action (maker and checker).

- `why_same_person` / `require_other_person`: "someone other than who asked must decide", used by
  every approval in every app.
- `limits_for(user, action, ...)`: what the user may do alone and approve, from `ControlLimit`.
- `why_cannot_do_alone(...)`: None within the maker's limit (the service acts and records it done
  alone); otherwise `control_request_raise(...)` makes a request, and `control_request_transition`
  approves (running the executor registered for the action), rejects or withdraws it.
- `money_action_record(...)`: one `MoneyAction` row for the separation report.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from casework.constants import TimelineKind
from casework.models import Client, TimelineEntry
from casework.models.controls import (
    ControlAction,
    ControlLimit,
    ControlRequest,
    ControlRequestStatus,
    Direction,
    MoneyAction,
)
from casework.money import ZERO, format_pounds, to_pennies

from .errors import DomainError, NotAllowed


# The two-person rule -----------------------------------------------------------------------------

def why_same_person(actor, *makers, action: str = "decide this") -> str | None:
    """Why `actor` may not decide: they are one of `makers` (who asked, imported, overrode or
    otherwise made what is to be decided). None when someone else is deciding."""
    ids = {getattr(m, "pk", m) for m in makers if m is not None}
    if actor is not None and actor.pk in ids:
        return f"You made or changed this, so someone else must {action}"
    return None


def require_other_person(actor, *makers, action: str = "decide this") -> None:
    if reason := why_same_person(actor, *makers, action=action):
        raise DomainError(reason)


# Limits as data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """What one user may do for one action on one day. `alone` None: never alone; `approve` False:
    may not approve, None: any amount; `period_days`: limits count the debtor's total over it."""

    alone: Decimal | None
    approve: Decimal | None | bool
    period_days: int | None

    def may_approve(self, amount: Decimal) -> bool:
        return self.approve is None or (self.approve is not False and amount <= self.approve)


def _groups(user) -> set[str]:
    """Every group the user holds: their roles and any approver group (a limit may name either)."""
    if not getattr(user, "pk", None):
        return set()
    return set(user.groups.values_list("name", flat=True))


def limits_for(user, action: str, *, on: date | None = None, entry_kind: str = "", direction: str = "") -> Limits:
    """The most generous limits among the user's groups, from the rows in force on `on`. Within one
    group, a row for the exact kind and direction wins over a row for any kind or either direction:
    the most specific row sets the limit for acting alone, and the most specific row that says
    anything of approving sets the approval limit."""
    on = on or timezone.localdate()
    rows = ControlLimit.objects.filter(
        action=action, group_name__in=_groups(user), effective_from__lte=on,
        entry_kind__in={"", entry_kind}, direction__in={Direction.ANY, direction},
    ).order_by("-effective_from")

    def rank(row: ControlLimit) -> tuple:
        return ((row.entry_kind == entry_kind) + (row.direction == direction), row.effective_from)

    alone_rows: dict[str, ControlLimit] = {}
    approve_rows: dict[str, ControlLimit] = {}
    for row in rows:
        if row.group_name not in alone_rows or rank(row) > rank(alone_rows[row.group_name]):
            alone_rows[row.group_name] = row
        if row.approve_any_amount or row.approve_up_to is not None:
            if row.group_name not in approve_rows or rank(row) > rank(approve_rows[row.group_name]):
                approve_rows[row.group_name] = row
    alone: Decimal | None = None
    period = None
    for row in alone_rows.values():
        if row.alone_up_to is not None and (alone is None or row.alone_up_to > alone):
            alone = row.alone_up_to
        if row.period_days and (period is None or row.period_days > period):
            period = row.period_days
    approve: Decimal | None | bool = False
    for row in approve_rows.values():
        if row.approve_any_amount:
            approve = None
        elif approve is not None and (approve is False or row.approve_up_to > approve):
            approve = row.approve_up_to
        if row.period_days and (period is None or row.period_days > period):
            period = row.period_days
    return Limits(alone=alone, approve=approve, period_days=period)


def period_total(action: str, *, client: Client | None, subject: str = "", days: int | None,
                 on: date | None = None, waiting: bool = True) -> Decimal:
    """What has already been done of `action` for this debtor in the `days` before `on` (approved
    or done alone), plus (with `waiting`) what waits for a decision: the total a new one adds to."""
    if not days or (client is None and not subject):
        return ZERO
    on = on or timezone.localdate()
    since = timezone.make_aware(datetime.combine(on - timedelta(days=days), time.min))
    who = Q(client=client) if client is not None else Q(subject=subject)
    done = MoneyAction.objects.filter(who, action=action, occurred_at__gte=since).aggregate(t=Sum("amount"))["t"]
    pending = None
    if waiting:
        pending = ControlRequest.objects.filter(who, action=action, status=ControlRequestStatus.REQUESTED).aggregate(
            t=Sum("amount"))["t"]
    return to_pennies((done or ZERO) + (pending or ZERO))


def why_cannot_do_alone(user, action: str, amount: Decimal, *, client: Client | None = None, subject: str = "",
                        entry_kind: str = "", direction: str = "", on: date | None = None) -> str | None:
    """None when `user` may do this alone now; otherwise the reason, in words, naming who decides."""
    limits = limits_for(user, action, on=on, entry_kind=entry_kind, direction=direction)
    label = ControlAction(action).label.lower()
    if limits.alone is None:
        return f"A {label} needs a second person's approval: a team leader decides"
    total = amount + period_total(action, client=client, subject=subject, days=limits.period_days, on=on)
    if total > limits.alone:
        over = (f"with the {format_pounds(total - amount)} already done for this account in the last "
                f"{limits.period_days} days, " if total != amount else "")
        return (f"You may make a {label} of up to {format_pounds(limits.alone)} yourself; {over}this one comes to "
                f"{format_pounds(total)}, so a team leader must approve it")
    return None


# Requests another person decides -----------------------------------------------------------------

Executor = Callable[[ControlRequest, object], str]
_EXECUTORS: dict[str, Executor] = {}
_ON_REFUSED: dict[str, Callable[[ControlRequest, object], None]] = {}


def register_control(action: str, execute: Executor,
                     on_refused: Callable[[ControlRequest, object], None] | None = None) -> None:
    """`execute(request, approver)` carries out an approved request and returns the reference of
    what it produced (a ledger entry's, a waiver's); it runs inside the approval's transaction.
    `on_refused(request, actor)`, if given, runs inside a rejection's or withdrawal's transaction,
    to release what waited for the decision (an audit held for approval goes back to review)."""
    _EXECUTORS[str(action)] = execute
    if on_refused is not None:
        _ON_REFUSED[str(action)] = on_refused


def _timeline(request: ControlRequest, action: str, summary: str, actor, body: str = "") -> None:
    if request.client_id is None:
        return
    TimelineEntry.objects.create(
        client_id=request.client_id, kind=TimelineKind.LEDGER, action=action, summary=summary[:300], body=body,
        new_value={"request": request.pk, "amount": str(request.amount), "action": request.action},
        actor=actor, occurred_at=timezone.now())


@transaction.atomic
def control_request_raise(*, action: str, amount: Decimal, subject: str, summary: str, reason: str, actor,
                          payload: dict, client: Client | None = None, changes: list | None = None) -> ControlRequest:
    """Ask another person to approve an action above the maker's limit. Nothing moves until then."""
    if str(action) not in _EXECUTORS:
        raise DomainError(f"{ControlAction(action).label} cannot be requested for approval")
    amount = to_pennies(amount)
    if amount <= 0:
        raise DomainError("Enter an amount more than £0.00", field="amount")
    if not reason.strip():
        raise DomainError("Give a reason, for the person who will decide", field="reason")
    request = ControlRequest(action=action, amount=amount, client=client, subject=subject[:200],
                             summary=summary[:300], reason=reason.strip()[:1000], payload=payload,
                             changes=changes or [], requested_by=actor)
    request._history_user = actor
    request.save()
    _timeline(request, "controls.request.raised",
              f"{request.reference}: {request.summary} ({format_pounds(amount)}), sent for approval", actor,
              body=request.reason)
    return request


def why_cannot_decide(request: ControlRequest, user) -> str | None:
    """Why `user` may not approve or reject `request`; None if they may."""
    if request.status != ControlRequestStatus.REQUESTED:
        return f"{request.reference} is {request.get_status_display().lower()}: there is nothing to decide"
    if reason := why_same_person(user, request.requested_by_id, action="decide it"):
        return reason
    payload = request.payload or {}
    limits = limits_for(user, request.action, entry_kind=payload.get("kind", ""),
                        direction=payload.get("direction", ""))
    if limits.approve is False:
        return f"Your role cannot approve a {ControlAction(request.action).label.lower()}: a team leader decides"
    total = request.amount + period_total(request.action, client=request.client, subject=request.subject,
                                          days=limits.period_days, waiting=False)
    if not limits.may_approve(total):
        done = (f" with the {format_pounds(total - request.amount)} already done for this account in the last "
                f"{limits.period_days} days" if total != request.amount else "")
        return (f"You may approve up to {format_pounds(limits.approve)}; this comes to {format_pounds(total)}{done}, "
                f"so someone with a higher limit must decide")
    return None


@transaction.atomic
def control_request_transition(*, request: ControlRequest, to: str, actor, note: str = "") -> ControlRequest:
    """Approve (and carry out), reject or withdraw a request. Re-reads it under a row lock, so of two
    deciders acting at once the second finds it decided. Only the maker may withdraw."""
    locked = ControlRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status == to:
        return locked
    if not locked.can_transition_to(to):
        raise DomainError(f"{locked.reference} is {locked.get_status_display().lower()} and cannot become "
                          f"{ControlRequestStatus(to).label.lower()}")
    if to == ControlRequestStatus.WITHDRAWN:
        if locked.requested_by_id != actor.pk:
            raise NotAllowed("Only the person who asked can withdraw a request")
    else:
        if reason := why_cannot_decide(locked, actor):
            raise NotAllowed(reason)
        if to == ControlRequestStatus.REJECTED and not note.strip():
            raise DomainError("Say why you are rejecting it, for the person who asked", field="note")
    locked.status = to
    locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note.strip()[:1000]
    if to == ControlRequestStatus.WITHDRAWN:
        locked.decided_by = None
    if to == ControlRequestStatus.APPROVED:
        locked.result_reference = (_EXECUTORS[locked.action](locked, actor) or "")[:100]
        money_action_record(action=locked.action, amount=locked.amount, client=locked.client,
                            subject=locked.subject, reference=locked.result_reference or locked.reference,
                            summary=locked.summary, maker=locked.requested_by, made_at=locked.requested_at,
                            checker=actor, request=locked)
    locked._history_user = actor
    locked.save()
    if to in (ControlRequestStatus.REJECTED, ControlRequestStatus.WITHDRAWN) and locked.action in _ON_REFUSED:
        _ON_REFUSED[locked.action](locked, actor)
    words = {ControlRequestStatus.APPROVED: "approved", ControlRequestStatus.REJECTED: "rejected",
             ControlRequestStatus.WITHDRAWN: "withdrawn"}[to]
    _timeline(locked, f"controls.request.{words}", f"{locked.reference}: {locked.summary} {words}", actor,
              body=locked.decision_note)
    return locked


# The record of money-moving actions --------------------------------------------------------------

def money_action_record(*, action: str, amount: Decimal, maker, reference: str, summary: str,
                        client: Client | None = None, subject: str = "", checker=None, made_at=None,
                        checked_at=None, request: ControlRequest | None = None) -> MoneyAction:
    """Record one money-moving action with its maker and (if another person checked it) checker."""
    now = timezone.now()
    if not subject and client is not None:
        subject = f"Client {client.reference}"
    return MoneyAction.objects.create(
        action=action, amount=to_pennies(abs(amount)), client=client, subject=subject[:200],
        reference=reference[:100], summary=summary[:300], maker=maker, made_at=made_at or now, checker=checker,
        checked_at=(checked_at or now) if checker is not None else None, request=request)
