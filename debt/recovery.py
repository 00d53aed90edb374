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
