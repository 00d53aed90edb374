"""A death recorded once and handled everywhere: every write of deaths and their consequences.

1. `client_record_death` (casework.services.clients, the one entry point that sets the client's
   death fields) records the death and calls `death_propose`: each registered handler proposes
   what it would change, one DeathConsequence row (proposed) per proposal. Nothing else changes yet.
2. An officer confirms: `death_consequence_decide` applies one (the handler's `apply`, in a
   savepoint, with the row locked) or declines it with a note; `death_apply_all` decides many, as
   the confirmation page does. A handler that refuses (DomainError) leaves its consequence
   proposed, with the message kept on the row and shown.
3. A death recorded in error: `death_reverse` reverses every applied consequence, latest first,
   through the handler's `reverse`, clears the client's death fields and marks the record reversed.
   Correcting a date of death is a reversal and a new recording.

Status changes are checked in one place (`_move_consequence`, `_move_death`) against the models'
ALLOWED_TRANSITIONS, and every change writes the client's timeline in the same transaction.

A consequence that reduces what the client owes (its handler's `credit`) is a money control: it may
be confirmed alone only when the death is verified (the registrar's notice, Tell Us Once, or an
officer who saw the evidence); otherwise someone other than who recorded the death, whose role may
approve a DEATH_CREDIT, confirms it (`why_cannot_confirm`). Either way a MoneyAction records it,
the recorder as maker and the confirmer, if another person, as checker.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casework.constants import TimelineKind
from casework.models import Client, TimelineEntry
from casework.models.controls import ControlAction
from casework.models.deaths import ConsequenceStatus, DeathConsequence, DeathRecord, DeathRecordStatus
from casework.money import ZERO, format_pounds, to_pennies
from casework.services.controls import limits_for, money_action_record, why_same_person
from casework.services.errors import DomainError

from .registry import HANDLERS, DeathHandler, propose_all


def _timeline(client: Client, action: str, summary: str, actor, *, body: str = "", old=None, new=None) -> None:
    TimelineEntry.objects.create(client=client, kind=TimelineKind.SYSTEM, action=action, summary=summary[:300],
                                 body=body, old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())


def _move_consequence(consequence: DeathConsequence, to_status: str) -> None:
    if not consequence.can_transition_to(to_status):
        raise DomainError(f"“{consequence.summary}” is {consequence.get_status_display().lower()}: it cannot become "
                          f"{ConsequenceStatus(to_status).label.lower()}")
    consequence.status = to_status


def _move_death(death: DeathRecord, to_status: str) -> None:
    if not death.can_transition_to(to_status):
        raise DomainError(f"This death is {death.get_status_display().lower()}: it cannot become "
                          f"{DeathRecordStatus(to_status).label.lower()}")
    death.status = to_status


def recorded_death(client: Client) -> DeathRecord | None:
    """The client's death as recorded now (not reversed), if any."""
    return DeathRecord.objects.filter(client=client, status=DeathRecordStatus.RECORDED).first()


def death_refuse_second(client: Client) -> None:
    """A death is recorded once: correcting it is a reversal and a new recording."""
    existing = recorded_death(client)
    when = existing.date_of_death if existing else client.date_of_death
    if existing is not None or client.date_of_death is not None:
        raise DomainError(f"{client.full_name}'s death is already recorded ({when:%d %B %Y}). To correct it, reverse "
                          "that death as recorded in error, then record it again", field="date_of_death")


def death_propose(*, client: Client, date_of_death: date, source: str, verified: bool, actor) -> DeathRecord:
    """The DeathRecord and one proposed consequence per proposal of every registered handler.
    Called by client_record_death inside its transaction, after the client's fields are set."""
    death = DeathRecord.objects.create(client=client, date_of_death=date_of_death, source=source, verified=verified,
                                       recorded_by=actor)
    rows = [DeathConsequence(death=death, kind=handler.kind, app_label=handler.app_label,
                             object_ref=(proposal.object_ref or "")[:60], summary=proposal.summary[:500],
                             payload=proposal.payload or {}, order=handler.order)
            for handler, proposal in propose_all(client, date_of_death)]
    DeathConsequence.objects.bulk_create(rows)
    if rows:
        _timeline(client, "client.death.consequences_proposed",
                  f"{len(rows)} consequence{'s' if len(rows) != 1 else ''} of the death proposed, awaiting confirmation",
                  actor, new={"death": death.pk, "consequences": [r.kind for r in rows]})
    return death


def death_record(*, client: Client, date_of_death: date, source: str, verified: bool, actor) -> DeathRecord:
    """Record a death (through client_record_death) and return its record with the proposals."""
    from casework.services.clients import client_record_death

    client = client_record_death(client=client, date_of_death=date_of_death, source=source, verified=verified,
                                 actor=actor)
    return client.death_record


def handler_for(consequence: DeathConsequence) -> DeathHandler:
    handler = HANDLERS.get(consequence.kind)
    if handler is None:
        raise DomainError(f"Nothing is registered to handle “{consequence.summary}” any more ({consequence.kind})")
    return handler


def consequence_credit(consequence: DeathConsequence) -> Decimal:
    """What applying the consequence takes off what the client owes (its handler's `credit`)."""
    handler = HANDLERS.get(consequence.kind)
    if handler is None or handler.credit is None:
        return ZERO
    return max(to_pennies(handler.credit(consequence.payload or {}) or ZERO), ZERO)


def why_cannot_confirm(consequence: DeathConsequence, actor) -> str | None:
    """Why `actor` may not apply the consequence: it reduces what is owed, the death is not
    verified, and `actor` recorded the death or may not approve a DEATH_CREDIT. None if they may."""
    amount = consequence_credit(consequence)
    death = consequence.death
    if amount <= 0 or death.verified:
        return None
    if reason := why_same_person(actor, death.recorded_by_id,
                                 action="confirm this credit: the death is not verified"):
        return reason
    if not limits_for(actor, ControlAction.DEATH_CREDIT).may_approve(amount):
        return (f"The death is not verified, so a credit of {format_pounds(amount)} for care after it is confirmed by "
                "a team leader other than who recorded the death")
    return None


def _record_credit(row: DeathConsequence, amount: Decimal, actor) -> None:
    death = row.death
    result = row.result or {}
    reference = str(result.get("reference") or row.object_ref or f"Death {death.pk}")
    checker = None if actor.pk == death.recorded_by_id else actor
    money_action_record(action=ControlAction.DEATH_CREDIT, amount=amount, client=death.client, reference=reference,
                        summary=f"Credit for care after a death ({row.object_ref or row.kind}), "
                                f"death {'verified' if death.verified else 'not verified'}",
                        maker=death.recorded_by, made_at=death.recorded_at, checker=checker)


def _locked(consequence: DeathConsequence) -> DeathConsequence:
    return DeathConsequence.objects.select_for_update().select_related("death__client").get(pk=consequence.pk)


def death_consequence_decide(*, consequence: DeathConsequence, apply: bool, note: str = "", actor) -> DeathConsequence:
    """Apply a proposed consequence (its handler's `apply`, in a savepoint) or decline it with the
    note. Already decided the same way: returned unchanged. A handler's DomainError rolls back what
    it did, leaves the consequence proposed with the message kept on it, and is raised again."""
    with transaction.atomic():
        row = _locked(consequence)
        target = ConsequenceStatus.APPLIED if apply else ConsequenceStatus.DECLINED
        if row.status == target:
            return row
        if row.death.status != DeathRecordStatus.RECORDED:
            raise DomainError("This death was reversed as recorded in error: its consequences cannot be decided")
        if apply and (reason := why_cannot_confirm(row, actor)):
            raise DomainError(reason)
        _move_consequence(row, target)
        refusal = _apply(row, actor) if apply else None
        if refusal is None:
            if apply and (amount := consequence_credit(row)) > 0:
                _record_credit(row, amount, actor)
            return _decided(row, apply=apply, note=(note or "").strip(), actor=actor)
        # Kept on the row (the handler's own writes were rolled back with its savepoint).
        DeathConsequence.objects.filter(pk=row.pk).update(error=refusal.message[:500])
    raise refusal


def _apply(row: DeathConsequence, actor) -> DomainError | None:
    """Run the handler's apply in a savepoint; its refusal is returned, not raised."""
    try:
        with transaction.atomic():
            row.result = handler_for(row).apply(row.death.client, row.death.date_of_death, row.payload, actor) or {}
    except DomainError as exc:
        return exc
    return None


def _decided(row: DeathConsequence, *, apply: bool, note: str, actor) -> DeathConsequence:
    row.decided_by, row.decided_at, row.note, row.error = actor, timezone.now(), note, ""
    row.save(update_fields=["status", "result", "decided_by", "decided_at", "note", "error"])
    _timeline(row.death.client, f"client.death.consequence.{'applied' if apply else 'declined'}",
              f"{'Applied' if apply else 'Not applied'}: {row.summary}", actor, body=note,
              new={"consequence": row.pk, "kind": row.kind, "status": row.status})
    return row


@dataclass
class Decision:
    consequence: DeathConsequence
    apply: bool
    note: str = ""


def death_apply_all(*, death: DeathRecord, decisions: list[Decision], actor) -> dict[int, str]:
    """Decide many consequences (the confirmation page), in their order. Each is decided on its
    own, so one handler's refusal does not undo the others. Returns consequence id -> message for
    those refused (left proposed)."""
    refused: dict[int, str] = {}
    for decision in sorted(decisions, key=lambda d: (d.consequence.order, d.consequence.pk)):
        if decision.consequence.death_id != death.pk:
            raise DomainError("That consequence belongs to another death")
        try:
            death_consequence_decide(consequence=decision.consequence, apply=decision.apply, note=decision.note,
                                     actor=actor)
        except DomainError as exc:
            refused[decision.consequence.pk] = exc.message
    return refused


@transaction.atomic
def death_reverse(*, death: DeathRecord, reason: str, actor) -> DeathRecord:
    """The death was recorded in error: reverse every applied consequence (latest order first)
    through its handler, close those still proposed, clear the client's death fields and mark the
    record reversed with who, when and why. A handler's refusal undoes the whole reversal."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason the death was recorded in error", field="reason")
    death = DeathRecord.objects.select_for_update().select_related("client").get(pk=death.pk)
    if death.status == DeathRecordStatus.REVERSED:
        return death
    _move_death(death, DeathRecordStatus.REVERSED)
    client = Client.objects.select_for_update().get(pk=death.client_id)
    now = timezone.now()
    consequences = list(death.consequences.select_for_update().order_by("-order", "-id"))
    for row in consequences:
        if row.status == ConsequenceStatus.APPLIED:
            _move_consequence(row, ConsequenceStatus.REVERSED)
            try:
                handler_for(row).reverse(client, death.date_of_death, row.payload, row.result, actor)
            except DomainError as exc:
                raise DomainError(f"“{row.summary}” could not be reversed: {exc.message}", field="reason") from exc
            row.reversed_by, row.reversed_at = actor, now
            row.save(update_fields=["status", "reversed_by", "reversed_at"])
            _timeline(client, "client.death.consequence.reversed", f"Reversed: {row.summary}", actor, body=reason,
                      new={"consequence": row.pk, "kind": row.kind})
        elif row.status == ConsequenceStatus.PROPOSED:
            _move_consequence(row, ConsequenceStatus.DECLINED)
            row.decided_by, row.decided_at = actor, now
            row.note = "Not applied: the death was recorded in error"
            row.save(update_fields=["status", "decided_by", "decided_at", "note"])
    old = {"date_of_death": death.date_of_death.isoformat(), "death_source": client.death_source}
    client.date_of_death, client.death_source, client.death_verified, client.death_recorded_on = None, "", False, None
    client._history_user = actor
    client._change_reason = f"Death recorded in error: {reason}"[:100]
    client.save(update_fields=["date_of_death", "death_source", "death_verified", "death_recorded_on", "updated_at"])
    death.reversed_by, death.reversed_at, death.reversal_reason = actor, now, reason
    death.save(update_fields=["status", "reversed_by", "reversed_at", "reversal_reason"])
    _timeline(client, "client.death.reversed",
              f"Death of {death.date_of_death:%d %B %Y} reversed: recorded in error", actor, body=reason,
              old=old, new={"date_of_death": None, "death": death.pk})
    return death
