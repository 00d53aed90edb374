"""The recovery ladder's writes and the reads they share: the default ladder, overdue debt per
debtor, manual holds, one debtor's step up the ladder, and escalation to the team leader queue.

The decisions themselves are pure functions in debt/recovery.py; this module loads their inputs
and records their outcome (events, timeline, letter, case) in the caller's transaction.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import DecimalField, F, Min, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from casework.constants import CaseStatus, CaseType, TimelineKind
from casework.models import Case, Client, RunItem, Team, TimelineEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, to_pennies
from casework.services import DomainError, case_create, case_transition

from .. import recovery as ladder_rules
from ..constants import HoldKind
from ..models import (
    DebtHold,
    DebtRecovery,
    DelayFrom,
    Invoice,
    PaymentAllocation,
    RecoveryAction,
    RecoveryEvent,
    RecoveryEventKind,
    RecoveryStage,
    RecoveryThreshold,
)
from ..selectors import with_balances

_MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
DEFAULT_TEAM_NAME = "Income team"
#: The holds an officer places by hand; the others come from records (death, capacity, safeguarding
#: flag) or from Breathing Space and repayment plans.
MANUAL_HOLD_KINDS = [HoldKind.DISPUTE, HoldKind.REASSESSMENT, HoldKind.SAFEGUARDING, HoldKind.NO_AUTHORITY]

#: The ladder created by ensure_default_ladder: (order, code, name, days, from, action, letter type, reply days).
DEFAULT_LADDER = [
    (10, "first_reminder", "First reminder", 14, DelayFrom.DUE_DATE, RecoveryAction.LETTER, "recovery_first_reminder", 0),
    (20, "second_reminder", "Second reminder", 14, DelayFrom.PREVIOUS_STAGE, RecoveryAction.LETTER,
     "recovery_second_reminder", 0),
    (30, "final_notice", "Final notice", 14, DelayFrom.PREVIOUS_STAGE, RecoveryAction.LETTER, "recovery_final_notice", 0),
    (40, "letter_before_claim", "Letter before claim", 14, DelayFrom.PREVIOUS_STAGE, RecoveryAction.LETTER,
     "recovery_letter_before_claim", 30),
    (50, "team_leader_review", "Team leader review", 30, DelayFrom.PREVIOUS_STAGE, RecoveryAction.ESCALATE, "", 0),
]


@transaction.atomic
def ensure_default_ladder(*, effective_from: date = date(2015, 4, 1)) -> list[RecoveryStage]:
    """Create the default stages and thresholds where none exist (UNCONFIRMED local practice, see
    rules BL-03: kept as data for the finance administrator to correct)."""
    for order, code, name, days, delay_from, action, letter_type, reply in DEFAULT_LADDER:
        RecoveryStage.objects.get_or_create(code=code, defaults={
            "order": order, "name": name, "delay_days": days, "delay_from": delay_from, "action": action,
            "letter_type": letter_type, "response_days": reply, "effective_from": effective_from})
    if not RecoveryThreshold.objects.exists():
        RecoveryThreshold.objects.create(effective_from=effective_from, minimum_balance=Decimal("10.00"),
                                         escalate_balance=Decimal("5000.00"), escalate_age_days=180)
    return list(RecoveryStage.objects.all())


# Reads ------------------------------------------------------------------------------------------

def active_stages(on: date) -> list[RecoveryStage]:
    return list(RecoveryStage.objects.filter(active=True, effective_from__lte=on).order_by("order"))


def stage_specs(stages: list[RecoveryStage]) -> list[ladder_rules.StageSpec]:
    return [ladder_rules.StageSpec(id=s.pk, order=s.order, name=s.name, delay_days=s.delay_days,
                                   delay_from=s.delay_from, action=s.action, letter_type=s.letter_type) for s in stages]


def thresholds_on(on: date) -> RecoveryThreshold | None:
    return RecoveryThreshold.objects.filter(effective_from__lte=on).select_related("escalation_team").first()


def threshold_values(row: RecoveryThreshold | None) -> ladder_rules.Thresholds:
    if row is None:
        return ladder_rules.Thresholds(minimum_balance=ZERO)
    return ladder_rules.Thresholds(minimum_balance=row.minimum_balance, escalate_balance=row.escalate_balance,
                                   escalate_age_days=row.escalate_age_days)


def overdue_invoices_qs(on: date) -> QuerySet:
    """Invoices (not credit notes) due before `on` with something still to pay, each annotated
    with `outstanding`; a correlated subquery so that callers may group them by client."""
    paid = (PaymentAllocation.objects.filter(invoice=OuterRef("pk")).order_by().values("invoice")
            .annotate(total=Sum("amount")).values("total"))
    return (Invoice.objects.filter(total__gt=0, due_date__lt=on)
            .annotate(outstanding=F("total") - Coalesce(Subquery(paid, output_field=_MONEY), Value(ZERO),
                                                        output_field=_MONEY))
            .filter(outstanding__gt=0))


def overdue_by_client(on: date) -> QuerySet:
    """One row per debtor: client_id, `balance` (overdue and unpaid) and `anchor` (the oldest
    overdue unpaid invoice's due date). One query, grouped in the database."""
    return (overdue_invoices_qs(on).order_by().values("client_id")
            .annotate(balance=Sum("outstanding"), anchor=Min("due_date")))


def overdue_invoices_for(client_ids: list[int], on: date) -> dict[int, list[Invoice]]:
    """The overdue unpaid invoices of these clients, oldest first, each with `outstanding`."""
    invoices = (with_balances(Invoice.objects.filter(client_id__in=client_ids, total__gt=0, due_date__lt=on))
                .filter(outstanding__gt=0).order_by("client_id", "due_date", "number"))
    grouped: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        grouped[invoice.client_id].append(invoice)
    return grouped


@dataclass
class DebtSummary:
    invoices: list
    balance: Decimal = ZERO
    anchor: date | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, invoices: list) -> "DebtSummary":
        return cls(invoices=invoices, balance=to_pennies(sum((i.outstanding for i in invoices), ZERO)),
                   anchor=invoices[0].due_date if invoices else None)


# Holds ------------------------------------------------------------------------------------------

def _timeline(client: Client, *, kind: str, action: str, summary: str, actor, body: str = "", old=None, new=None,
              case: Case | None = None) -> None:
    TimelineEntry.objects.create(client=client, case=case, kind=kind, action=action, summary=summary[:300], body=body,
                                 old_value=old, new_value=new, actor=actor, occurred_at=timezone.now())


@transaction.atomic
def hold_place(*, client: Client, kind: str, note: str, review_date: date, actor, on: date | None = None) -> DebtHold:
    """Stop recovery of the client's debt until the hold is released. Every hold has a review date."""
    on = on or timezone.localdate()
    if kind not in HoldKind.values:
        raise DomainError("Choose why the debt is on hold", field="kind")
    if not note.strip():
        raise DomainError("Explain why the debt is on hold", field="note")
    if review_date is None or review_date <= on:
        raise DomainError("The review date must be in the future", field="review_date")
    hold = DebtHold(client=client, kind=kind, note=note.strip(), placed_by=actor, placed_on=on, review_date=review_date)
    hold._history_user = actor
    hold.save()
    _timeline(client, kind=TimelineKind.HOLD, action="debt.hold.placed", actor=actor, body=hold.note,
              summary=f"Recovery on hold ({hold.get_kind_display()}) until review on {review_date:%d %B %Y}",
              new={"hold": hold.pk, "kind": kind, "review_date": review_date.isoformat()})
    return hold


@transaction.atomic
def hold_release(*, hold: DebtHold, actor, note: str = "", on: date | None = None) -> DebtHold:
    hold = DebtHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_on is not None:
        return hold  # released already (a second click): nothing to do
    hold.released_on, hold.released_by, hold.release_note = on or timezone.localdate(), actor, note.strip()[:500]
    hold._history_user = actor
    hold.save(update_fields=["released_on", "released_by", "release_note"])
    _timeline(hold.client, kind=TimelineKind.HOLD, action="debt.hold.released", actor=actor, body=hold.release_note,
              summary=f"Recovery hold released ({hold.get_kind_display()})",
              old={"hold": hold.pk, "kind": hold.kind}, new={"released_on": hold.released_on.isoformat()})
    return hold


# Escalation -------------------------------------------------------------------------------------

def _escalation_team(client: Client, thresholds: RecoveryThreshold | None, case: Case | None) -> Team:
    if case is not None:
        return case.team
    if thresholds is not None and thresholds.escalation_team_id:
        return thresholds.escalation_team
    return Team.objects.order_by("name").first() or Team.objects.get_or_create(name=DEFAULT_TEAM_NAME)[0]


def recovery_escalate(*, client: Client, reason: str, actor, thresholds: RecoveryThreshold | None = None) -> Case:
    """Put the client's debt recovery case in the team leader queue (status Escalated), opening
    one if the client has none open. An already escalated case is reused unchanged."""
    case = (Case.objects.open().filter(client=client, case_type=CaseType.DEBT_RECOVERY).order_by("opened_at").first())
    if case is None:
        case = case_create(client=client, case_type=CaseType.DEBT_RECOVERY, title="Unpaid care charges",
                           team=_escalation_team(client, thresholds, None), actor=actor)
    return case_transition(case=case, to_status=CaseStatus.ESCALATED, actor=actor, reason=reason)


# The ladder's writes ----------------------------------------------------------------------------
#
# The run decides with debt.recovery.debtor_step (pure) and records with `recovery_apply`, for one
# debtor or a whole group alike: one locking read of the group's DebtRecovery rows (created in bulk
# where missing), the decisions made again from the locked rows, then one INSERT each for the
# events, timeline entries, letters and suppression log, and one UPDATE of the ladder rows.

def _lock_recoveries(client_ids, *, create=None) -> dict[int, DebtRecovery]:
    """The ladder rows of these clients in one locking read, first creating (in one INSERT) the
    missing rows of `create` (default: all of them)."""
    ids = sorted(set(client_ids))
    missing = sorted(set(ids if create is None else create))
    if missing:
        DebtRecovery.objects.bulk_create([DebtRecovery(client_id=pk) for pk in missing], ignore_conflicts=True)
    return {r.client_id: r for r in DebtRecovery.objects.select_for_update(of=("self",)).select_related("stage")
            .filter(client_id__in=ids).order_by("client_id")} if ids else {}


def _locked_recovery(client: Client) -> DebtRecovery:
    return _lock_recoveries([client.pk])[client.pk]


def _event(recovery: DebtRecovery, *, kind: str, on: date, actor, reason: str, **extra) -> RecoveryEvent:
    """An unsaved event row."""
    return RecoveryEvent(recovery=recovery, client_id=recovery.client_id, kind=kind, business_date=on, actor=actor,
                         reason=reason[:300], **extra)


def _may_advance(recovery: DebtRecovery, expected_from_id: int | None, on: date) -> bool:
    """Compare-and-set: only from the stage the decision was made on, and once a day."""
    return recovery.stage_id == expected_from_id and recovery.stage_entered_on != on


def _advance(recovery: DebtRecovery, stage: RecoveryStage, *, invoices: int, balance: Decimal, anchor: date,
             letter, on: date, actor, run_item) -> tuple[RecoveryEvent, TimelineEntry]:
    """Move the row (in memory) to `stage`; returns its event and timeline entry, unsaved."""
    old = recovery.stage
    recovery.stage, recovery.stage_entered_on, recovery.anchor_date = stage, on, anchor
    if letter is not None:
        recovery.last_letter = letter
    event = _event(recovery, kind=RecoveryEventKind.ADVANCED, on=on, actor=actor, from_stage=old, to_stage=stage,
                   anchor_date=anchor, balance=balance, letter=letter, run_item=run_item,
                   reason=f"{stage.name}: {invoices} overdue invoice(s), £{balance:,.2f}")
    timeline = TimelineEntry(client_id=recovery.client_id, kind=TimelineKind.SYSTEM, action="debt.recovery.advanced",
                             actor=actor, occurred_at=timezone.now(),
                             summary=f"Debt recovery: {stage.name}" + (f", letter {letter.reference}" if letter else ""),
                             old_value={"stage": old.code if old else None},
                             new_value={"stage": stage.code, "balance": str(balance)})
    return event, timeline


def _reanchor(recovery: DebtRecovery, anchor: date, *, on: date, actor, run_item) -> RecoveryEvent | None:
    """Anchor the row (in memory) on the oldest chased invoice; the event, unsaved, if it moved."""
    old = recovery.anchor_date
    recovery.anchor_date = anchor
    if old is None or old == anchor:
        return None
    return _event(recovery, kind=RecoveryEventKind.REANCHORED, on=on, actor=actor, run_item=run_item,
                  anchor_date=anchor, from_stage=recovery.stage, to_stage=recovery.stage,
                  reason=f"Oldest unpaid invoice now due {anchor:%d %B %Y} (was {old:%d %B %Y})")


def _clear(recovery: DebtRecovery, *, on: date, actor, run_item) -> RecoveryEvent | None:
    if recovery.stage_id is None and recovery.escalated_on is None:
        return None
    event = _event(recovery, kind=RecoveryEventKind.CLEARED, on=on, actor=actor, run_item=run_item,
                   from_stage=recovery.stage, anchor_date=recovery.anchor_date, reason="No overdue balance")
    recovery.stage = recovery.stage_entered_on = recovery.anchor_date = recovery.escalated_on = None
    return event


_LADDER_FIELDS = ["stage", "stage_entered_on", "anchor_date", "last_letter", "escalated_on", "updated_at"]


def _save_recoveries(rows: list[DebtRecovery]) -> None:
    """Write the changed ladder rows in one statement on PostgreSQL (bulk_update elsewhere)."""
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.updated_at = now
    if connection.vendor != "postgresql":
        DebtRecovery.objects.bulk_update(rows, _LADDER_FIELDS)
        return
    values = ", ".join(["(%s, %s::integer, %s::date, %s::date, %s::integer, %s::date, %s::timestamptz)"] * len(rows))
    params = [v for r in rows for v in (r.pk, r.stage_id, r.stage_entered_on, r.anchor_date, r.last_letter_id,
                                        r.escalated_on, r.updated_at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DebtRecovery._meta.db_table} AS t SET stage_id = v.stage_id, stage_entered_on = v.entered, "
            f"anchor_date = v.anchor, last_letter_id = v.letter_id, escalated_on = v.escalated, updated_at = v.updated "
            f"FROM (VALUES {values}) AS v(id, stage_id, entered, anchor, letter_id, escalated, updated) WHERE t.id = v.id",
            params)


@dataclass
class Debtor:
    """One debtor for `recovery_apply`: the client, what the run loaded about them, its run item."""

    client: Client
    facts: ladder_rules.Facts
    run_item: RunItem | None = None


@dataclass
class Ladder:
    """The ladder and figures in force for a run's business date."""

    stages: dict[int, RecoveryStage]
    specs: list[ladder_rules.StageSpec]
    thresholds: ladder_rules.Thresholds
    threshold_row: RecoveryThreshold | None = None

    @classmethod
    def on(cls, on: date) -> "Ladder":
        stages = active_stages(on)
        row = thresholds_on(on)
        return cls({s.pk: s for s in stages}, stage_specs(stages), threshold_values(row), row)


@dataclass(frozen=True)
class LetterRequest:
    client: Client
    stage: RecoveryStage
    invoices: tuple
    run_item: RunItem | None


def _already_reached(moves) -> set[tuple[int, int, date]]:
    """(client, stage, anchor) of the moves that an earlier event already made: the unique ADVANCED
    event per stage and anchor, checked in one query so a group never trips over it."""
    if not moves:
        return set()
    found = RecoveryEvent.objects.filter(kind=RecoveryEventKind.ADVANCED, client_id__in=[c for c, _, _ in moves],
                                         to_stage_id__in={s for _, s, _ in moves})
    return set(found.values_list("client_id", "to_stage_id", "anchor_date")) & set(moves)


def recovery_apply(debtors: list[Debtor], *, ladder: Ladder, positions: dict[int, DebtRecovery | None], on: date,
                   actor, letters=None) -> dict[int, str | ladder_rules.Step]:
    """Decide and record the day's step for each debtor; returns {client pk: what was done, or the
    held/below Step (a skip)}. `positions`: the ladder rows as loaded (unlocked) to find which need
    locking; `letters(requests)` produces the stages' letters and returns {client pk: Letter}.
    Runs in the caller's transaction (a run's group); every write is set-based."""
    steps = {d.client.pk: ladder_rules.debtor_step(facts=d.facts, position=ladder_rules.Position.of(positions.get(
        d.client.pk)), ladder=ladder.specs, thresholds=ladder.thresholds, on=on) for d in debtors}
    needed = [pk for pk, step in steps.items()
              if step.kind == ladder_rules.LADDER or (step.kind == ladder_rules.CLEAR and positions.get(pk))]
    locked = _lock_recoveries(needed, create=[pk for pk in needed if steps[pk].kind == ladder_rules.LADDER])
    result: dict[int, str | ladder_rules.Step] = {}
    events: list[RecoveryEvent] = []
    changed: dict[int, DebtRecovery] = {}
    moves: list[tuple[Debtor, DebtRecovery, ladder_rules.Step]] = []
    for debtor in debtors:
        pk, item = debtor.client.pk, debtor.run_item
        step, row = steps[pk], locked.get(pk)
        if step.kind == ladder_rules.CLEAR:
            event = _clear(row, on=on, actor=actor, run_item=item) if row else None
            if event:
                events.append(event)
                changed[pk] = row
            result[pk] = "Nothing overdue: left the recovery ladder" if event else "Nothing overdue"
            continue
        if step.kind != ladder_rules.LADDER:
            result[pk] = step
            continue
        # Decide again from the locked row: another process may have moved the debtor since loading.
        step = ladder_rules.debtor_step(facts=debtor.facts, position=ladder_rules.Position.of(row),
                                        ladder=ladder.specs, thresholds=ladder.thresholds, on=on)
        steps[pk] = step
        before = row.anchor_date
        event = _reanchor(row, step.anchor, on=on, actor=actor, run_item=item)
        if event:
            events.append(event)
        if row.anchor_date != before:
            changed[pk] = row
        moves.append((debtor, row, step))
    # Advances: compare-and-set on the locked rows, never a stage twice for one anchor, then letters.
    advancing = [(d, r, s) for d, r, s in moves if s.decision.advance_to is not None]
    reached = _already_reached([(d.client.pk, s.decision.advance_to.id, s.anchor) for d, r, s in advancing])
    ready = []
    for debtor, row, step in advancing:
        stage = ladder.stages[step.decision.advance_to.id]
        if not _may_advance(row, row.stage_id, on):
            result[debtor.client.pk] = ladder_rules.Step(ladder_rules.HELD, "Already moved on today")
        elif (debtor.client.pk, stage.pk, step.anchor) in reached:
            result[debtor.client.pk] = ladder_rules.Step(
                ladder_rules.HELD, f"{debtor.client.reference} already reached {stage.name} for this debt")
        else:
            ready.append((debtor, row, step, stage))
    requests = [LetterRequest(d.client, stage, s.chased, d.run_item) for d, r, s, stage in ready if stage.letter_type]
    produced = letters(requests) if (letters and requests) else {}
    timeline: list[TimelineEntry] = []
    suppressed: list[tuple[Client, int | None, str]] = []
    for debtor, row, step, stage in ready:
        pk = debtor.client.pk
        letter = produced.get(pk)
        event, entry = _advance(row, stage, invoices=len(step.chased), balance=step.balance, anchor=step.anchor,
                                letter=letter, on=on, actor=actor, run_item=debtor.run_item)
        events.append(event)
        timeline.append(entry)
        changed[pk] = row
        suppressed += [(debtor.client, moratorium, detail) for moratorium, detail in step.suppressed]
        result[pk] = f"{stage.name}" + (f": letter {letter.reference}" if letter else "")
    RecoveryEvent.objects.bulk_create(events)
    TimelineEntry.objects.bulk_create(timeline)
    _save_recoveries(list(changed.values()))
    if suppressed:
        from .relief import suppressions_record

        suppressions_record(suppressed, on=on, action="debt.recovery.letter")
    # Escalations are few: each through the one escalation rule, after the rows above are written.
    for debtor, row, step in moves:
        pk = debtor.client.pk
        done = [result[pk]] if isinstance(result.get(pk), str) else []
        if step.decision.escalate_reason and not isinstance(result.get(pk), ladder_rules.Step):
            case = recovery_escalate_for(client=debtor.client, reason=step.decision.escalate_reason, on=on,
                                         actor=actor, run_item=debtor.run_item, thresholds=ladder.threshold_row)
            if case is not None:
                done.append(f"{case.reference} escalated: {step.decision.escalate_reason}")
        if not isinstance(result.get(pk), ladder_rules.Step):
            result[pk] = "; ".join(done) if done else f"No stage due: {step.decision.reason}"
    return result


@transaction.atomic
def recovery_escalate_for(*, client: Client, reason: str, on: date, actor, run_item: RunItem | None = None,
                          thresholds: RecoveryThreshold | None = None) -> Case | None:
    """Escalate once per spell on the ladder; None if the debtor is escalated already."""
    recovery = _locked_recovery(client)
    if recovery.escalated_on is not None:
        return None
    case = recovery_escalate(client=client, reason=reason, actor=actor, thresholds=thresholds)
    recovery.escalated_on = on
    recovery.save(update_fields=["escalated_on", "updated_at"])
    _event(recovery, kind=RecoveryEventKind.ESCALATED, on=on, actor=actor, reason=reason, case=case, run_item=run_item,
           anchor_date=recovery.anchor_date, from_stage=recovery.stage, to_stage=recovery.stage).save()
    return case


@transaction.atomic
def recovery_advance(*, client: Client, stage: RecoveryStage, expected_from_id: int | None, debt: DebtSummary,
                     on: date, actor, run_item: RunItem | None = None, letter_sender=None) -> RecoveryEvent | None:
    """Move one debtor up to `stage` and send its letter, once (an officer's or another caller's
    single step; the run uses `recovery_apply`, which shares these rules).

    Compare-and-set: the row is re-read under lock and nothing happens unless the debtor is still
    at `expected_from_id` and has not moved today. The unique (client, stage, anchor) event is the
    last guard."""
    recovery = _locked_recovery(client)
    if not _may_advance(recovery, expected_from_id, on):
        return None
    if _already_reached([(client.pk, stage.pk, debt.anchor)]):
        raise DomainError(f"{client.reference} already reached {stage.name} for this debt")
    letter = letter_sender(stage) if (letter_sender and stage.letter_type) else None
    event, timeline = _advance(recovery, stage, invoices=len(debt.invoices), balance=debt.balance, anchor=debt.anchor,
                               letter=letter, on=on, actor=actor, run_item=run_item)
    recovery.save(update_fields=_LADDER_FIELDS)
    event.save()
    timeline.save()
    return event



# Hold sources (registered with debt.holds in debt/recovery_apps.py) ------------------------------

def manual_holds(client_ids, on: date, kinds=None) -> dict:
    """Officers' holds in force on the date. A hold past its review date still holds, flagged."""
    from ..holds import Hold, of_clients

    result: dict = defaultdict(list)
    holds = of_clients(DebtHold.objects.active_on(on), client_ids)
    if kinds is not None:
        holds = holds.filter(kind__in=kinds)
    for hold in holds.select_related("placed_by"):
        overdue = " (review overdue)" if hold.review_date < on else ""
        result[hold.client_id].append(Hold(
            kind=hold.kind, reason=f"{hold.get_kind_display()}: {hold.note}{overdue}", since=hold.placed_on,
            review_date=hold.review_date, placed_by=hold.placed_by.get_full_name() or hold.placed_by.username))
    return dict(result)


def client_state_holds(client_ids, on: date, kinds=None) -> dict:
    """Holds that follow from the client's own record, in one query: lacking capacity to manage
    their finances with no deputy, attorney or appointee in force (no recovery letter may go to
    them: the same rule as letter_recipient), death (recover from the estate), and a recorded
    safeguarding concern."""
    from casework.constants import Capacity
    from casework.correspondence import LACKS_CAPACITY_ORDER
    from casework.models import Representative
    from casework.models.clients import MAY_BE_HELD_BY_OWN_RECORD
    from django.db.models import Exists, OuterRef, Q

    from ..holds import Hold, of_clients

    authorised = Representative.objects.filter(client_id=OuterRef("pk"), kind__in=LACKS_CAPACITY_ORDER,
                                               start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    lacking = Q(capacity=Capacity.LACKS, date_of_death__isnull=True)
    dead, flagged = Q(date_of_death__isnull=False), Q(safeguarding_flag=True)
    rules = {HoldKind.NO_AUTHORITY: lacking, HoldKind.DECEASED: dead, HoldKind.SAFEGUARDING: flagged}
    asked = [q for kind, q in rules.items() if kinds is None or kind in kinds]
    if not asked:
        return {}
    rows = (of_clients(Client.objects.all(), client_ids, field="pk")
            .filter(MAY_BE_HELD_BY_OWN_RECORD)  # as client_hold_state_idx: read from the index
            .filter(reduce(or_, asked)).annotate(authorised=Exists(authorised)).order_by()
            .filter(~lacking | Q(authorised=False) | dead | flagged)
            .values_list("pk", "capacity", "capacity_assessed_on", "date_of_death", "safeguarding_flag", "authorised"))
    result: dict[int, list] = {}
    for pk, capacity, assessed, died, safeguarding, has_authority in rows:
        holds = result.setdefault(pk, [])
        if capacity == Capacity.LACKS and died is None and not has_authority:
            holds.append(Hold(kind=HoldKind.NO_AUTHORITY, since=assessed,
                              reason="Lacks capacity to manage their finances and no deputy, attorney or appointee "
                                     "is recorded: refer for appointeeship or a Court of Protection deputyship"))
        if died is not None:
            holds.append(Hold(kind=HoldKind.DECEASED, since=died,
                              reason=f"The client died on {died:%d %B %Y}: recover from the estate, not by reminder"))
        if safeguarding:
            holds.append(Hold(kind=HoldKind.SAFEGUARDING, reason="Safeguarding concern recorded on the client"))
    return {pk: holds for pk, holds in result.items() if holds}
