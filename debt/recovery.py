"""The recovery ladder's decisions, as pure functions of plain values (no database).

The ladder is climbed per debtor, anchored on the due date of their oldest overdue invoice still
unpaid. Each stage falls due `delay_days` after the anchor (DUE_DATE stages) or after the day the
debtor entered the previous stage (PREVIOUS_STAGE stages); either way a stage's date is never
earlier than the anchor plus the ladder's cumulative days to it, so when a part payment clears the
oldest invoice the anchor moves on to the next one and the timetable moves with it. The debtor
keeps the stage already reached (a letter sent is not unsent), and climbs one stage a night at
most: a stage is never skipped.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

DUE_DATE = "due_date"
PREVIOUS_STAGE = "previous_stage"
ESCALATING_ACTIONS = frozenset({"escalate", "legal_referral"})


@dataclass(frozen=True)
class StageSpec:
    id: int
    order: int
    name: str
    delay_days: int
    delay_from: str
    action: str
    letter_type: str = ""


@dataclass(frozen=True)
class Thresholds:
    minimum_balance: Decimal
    escalate_balance: Decimal | None = None
    escalate_age_days: int | None = None


@dataclass(frozen=True)
class Decision:
    """What the run should do for one debtor today. `advance_to` None: no stage is due
    (`next_due_on` says when the next one is). `escalate_reason`: why the debt goes to the team
    leader queue today, if it does."""

    advance_to: StageSpec | None
    next_due_on: date | None
    escalate_reason: str = ""
    reason: str = ""


def cumulative_days(ladder: list[StageSpec]) -> dict[int, int]:
    """Days from the anchor to each stage: a DUE_DATE stage counts from the anchor, a
    PREVIOUS_STAGE stage from the stage before it."""
    days, total = {}, 0
    for stage in ladder:
        total = stage.delay_days if stage.delay_from == DUE_DATE else total + stage.delay_days
        days[stage.id] = total
    return days


def next_stage(ladder: list[StageSpec], current_id: int | None) -> StageSpec | None:
    if current_id is None:
        return ladder[0] if ladder else None
    orders = [s.id for s in ladder]
    if current_id not in orders:
        return None
    index = orders.index(current_id) + 1
    return ladder[index] if index < len(ladder) else None


def stage_due_on(ladder: list[StageSpec], stage: StageSpec, *, anchor: date, previous_entered_on: date | None,
                 paused_days: int = 0) -> date:
    """When `stage` falls due: the anchor plus the cumulative days to it, and for a stage timed
    from the previous one, no sooner than that many days after the previous stage was reached;
    then moved on by the days recovery was paused by a Breathing Space since the clock started."""
    due = anchor + timedelta(days=cumulative_days(ladder)[stage.id])
    if stage.delay_from == PREVIOUS_STAGE and previous_entered_on is not None:
        due = max(due, previous_entered_on + timedelta(days=stage.delay_days))
    return due + timedelta(days=paused_days)


def escalation_reason(*, balance: Decimal, anchor: date, on: date, thresholds: Thresholds) -> str:
    if thresholds.escalate_balance is not None and balance >= thresholds.escalate_balance:
        return f"Overdue balance £{balance:,.2f} is at least £{thresholds.escalate_balance:,.2f}"
    age = (on - anchor).days
    if thresholds.escalate_age_days is not None and age >= thresholds.escalate_age_days:
        return f"Oldest unpaid invoice is {age} days overdue (threshold {thresholds.escalate_age_days} days)"
    return ""


def decide(*, ladder: list[StageSpec], current_id: int | None, entered_on: date | None, anchor: date, on: date,
           balance: Decimal, thresholds: Thresholds, already_escalated: bool, paused_days: int = 0) -> Decision:
    """The next step for one debtor who is not on hold and whose balance is worth chasing.

    `ladder`: the active stages in order. `current_id`/`entered_on`: the stage reached and when.
    `anchor`: the oldest overdue unpaid invoice's due date. `on`: the business date.
    `paused_days`: days of Breathing Space since the stage's clock started (dates move on by them)."""
    escalate = "" if already_escalated else escalation_reason(balance=balance, anchor=anchor, on=on,
                                                              thresholds=thresholds)
    stage = next_stage(ladder, current_id)
    if stage is None:
        return Decision(None, None, escalate, "The debt is at the last stage of the ladder")
    due = stage_due_on(ladder, stage, anchor=anchor, previous_entered_on=entered_on, paused_days=paused_days)
    if on < due:
        return Decision(None, due, escalate, f"{stage.name} is due on {due:%d %B %Y}")
    if stage.action in ESCALATING_ACTIONS and not already_escalated and not escalate:
        escalate = f"Reached {stage.name}"
    return Decision(stage, due, escalate, f"{stage.name} was due on {due:%d %B %Y}")


# One debtor's step, from the rows a run has loaded ------------------------------------------------

CLEAR = "clear"  # nothing overdue: leave the ladder
HELD = "held"  # on hold (a skip, with every hold's reason)
BELOW = "below"  # below the smallest balance worth chasing (a skip)
LADDER = "ladder"  # re-anchor, then advance and/or escalate when due


@dataclass(frozen=True)
class Position:
    """A debtor's place on the ladder as read (a DebtRecovery row; all blank when there is none)."""

    stage_id: int | None = None
    entered_on: date | None = None
    anchor: date | None = None
    escalated_on: date | None = None

    @classmethod
    def of(cls, row) -> "Position":
        return cls(row.stage_id, row.stage_entered_on, row.anchor_date, row.escalated_on) if row else cls()


@dataclass(frozen=True)
class Facts:
    """What the run knows of one debtor. `invoices`: the overdue unpaid invoices, oldest first
    (anything with pk, number, due_date and outstanding); `holds`: debt.holds.Hold from every
    source; `protections`: their Breathing Spaces (debt.relief.Protection); `no_authority`: a
    letter could not lawfully go to anyone."""

    invoices: tuple = ()
    holds: tuple = ()
    protections: tuple = ()
    no_authority: bool = False


@dataclass(frozen=True)
class Step:
    """The step for one debtor today. `chased`: the invoices being chased (those no hold covers);
    `held`: the invoices left out because a hold covers them; `reanchor_from`: the old anchor when
    the oldest chased invoice has changed; `suppressed`: (moratorium id, what was not done) for
    the Breathing Space log."""

    kind: str
    reason: str = ""
    chased: tuple = ()
    held: tuple = ()
    balance: Decimal = Decimal("0.00")
    anchor: date | None = None
    reanchor_from: date | None = None
    decision: Decision | None = None
    suppressed: tuple = ()


def _money(invoices) -> Decimal:
    return sum((i.outstanding for i in invoices), Decimal("0")).quantize(Decimal("0.01"))


def _suppressed(holds, *, stage: StageSpec | None, due: date | None, invoices) -> tuple:
    """What a Breathing Space stopped: the stage (with its letter) that would otherwise be due."""
    if stage is None or due is None:
        return ()
    numbers = ", ".join(i.number for i in invoices)
    return tuple((h.moratorium_id, f"{stage.name} not sent for {numbers} (due {due:%d %B %Y}): {h.reason}"[:400])
                 for h in holds if h.kind == "breathing_space")


def debtor_step(*, facts: Facts, position: Position, ladder: list[StageSpec], thresholds: Thresholds,
                on: date) -> Step:
    """The one decision the recovery run makes for a debtor, from loaded rows only.

    1. Nothing overdue: leave the ladder. 2. A hold on the whole debt: skip with every reason. 3.
    Holds on some invoices (a Breathing Space covers its moratorium debts only): those are left
    out; if nothing is left, skip. 4. What is left is below the smallest balance worth chasing:
    skip. 5. Otherwise anchor on the oldest invoice left and `decide`, with the stage dates moved on
    by the days a Breathing Space covering any of them protected since the stage's clock started."""
    from .relief import days_covered

    if not facts.invoices:
        return Step(CLEAR)
    whole = [h for h in facts.holds if h.invoice_ids is None]
    scoped = [h for h in facts.holds if h.invoice_ids is not None]
    chased = tuple(i for i in facts.invoices if not any(h.covers(i.pk) for h in scoped))
    held = tuple(i for i in facts.invoices if i not in chased)
    if whole or not chased:
        holding = whole or [h for h in scoped if any(h.covers(i.pk) for i in held)]
        would = decide(ladder=ladder, current_id=position.stage_id, entered_on=position.entered_on,
                       anchor=facts.invoices[0].due_date, on=on, balance=_money(facts.invoices),
                       thresholds=thresholds, already_escalated=True)
        return Step(HELD, "On hold: " + "; ".join(h.reason for h in holding), held=tuple(facts.invoices),
                    suppressed=_suppressed(holding, stage=would.advance_to, due=would.next_due_on,
                                           invoices=facts.invoices))
    balance = _money(chased)
    if balance < thresholds.minimum_balance:
        return Step(BELOW, f"Overdue balance £{balance:,.2f} is below the £{thresholds.minimum_balance:,.2f} worth "
                           f"chasing", chased=chased, held=held, balance=balance)
    if facts.no_authority:
        return Step(HELD, "Lacks capacity and no one has authority over their money: no recovery letter")
    anchor = chased[0].due_date
    clock_start = max(anchor, position.entered_on or anchor)
    ids = {i.pk for i in chased}
    paused = days_covered([(p.start, p.last) for p in facts.protections if p.invoice_ids & ids], clock_start, on)
    decision = decide(ladder=ladder, current_id=position.stage_id, entered_on=position.entered_on, anchor=anchor,
                      on=on, balance=balance, thresholds=thresholds, already_escalated=position.escalated_on is not None,
                      paused_days=paused)
    suppressed = ()
    if held and decision.advance_to is not None:
        numbers = ", ".join(i.number for i in held)
        suppressed = tuple((h.moratorium_id, f"{numbers} left out of the {decision.advance_to.name}: {h.reason}"[:400])
                           for h in scoped if h.kind == "breathing_space" and any(h.covers(i.pk) for i in held))
    return Step(LADDER, decision.reason, chased=chased, held=held, balance=balance, anchor=anchor,
                reanchor_from=position.anchor if position.anchor not in (None, anchor) else None,
                decision=decision, suppressed=suppressed)
