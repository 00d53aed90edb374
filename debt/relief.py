"""Pure rules of relief from recovery: Breathing Space dates, plan schedules, affordability.

No database access here: callers pass the rule rows in force. Periods count days inclusively.
"""
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Callable, Iterable

from dateutil.relativedelta import relativedelta

from casework.money import ZERO, split, to_pennies

# Breathing Space --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoratoriumDates:
    start: date
    expected_end: date | None  # None: a crisis moratorium whose treatment end is not yet known
    review_due: date


def moratorium_dates(*, kind: str, register_entry: date, rule, treatment_ended_on: date | None = None) -> MoratoriumDates:
    """BS-02: start the day after the register entry. BS-03: a standard one is protected through
    start + `standard_days` (WE-7: the conservative reading). BS-09: a crisis one ends
    `crisis_extra_days` after the treatment ends. BS-07: review request due by start + `review_request_days`."""
    start = register_entry + timedelta(days=1)
    if kind == "standard":
        end = start + timedelta(days=rule.standard_days)
    else:
        end = treatment_ended_on + timedelta(days=rule.crisis_extra_days) if treatment_ended_on else None
    return MoratoriumDates(start=start, expected_end=end, review_due=start + timedelta(days=rule.review_request_days))


def repeat_warning(*, kind: str, start: date, earlier_standard_starts: Iterable[date], months: int) -> str:
    """BS-08: only one standard breathing space in `months` months (the crisis kind has no limit).
    The moratorium is on the register and binds the council either way, so a second one is
    recorded with this warning, which is grounds to ask the debt adviser for a review (BS-07)."""
    if kind != "standard":
        return ""
    window_from = start - relativedelta(months=months)
    recent = sorted(d for d in earlier_standard_starts if window_from < d <= start)
    if not recent:
        return ""
    return (f"A standard breathing space already started on {recent[-1]:%d %B %Y}, less than {months} months "
            f"before this one: the debtor may not have been eligible. Ask the debt adviser for a review.")


@dataclass(frozen=True)
class Protection:
    """A Breathing Space as the recovery ladder sees it: the days it protected (so far) and the
    invoices it covers."""

    start: date
    last: date
    invoice_ids: frozenset[int]


def days_covered(periods: Iterable[tuple[date, date]], from_date: date, to_date: date) -> int:
    """How many days from `from_date` to `to_date` (inclusive) fall inside any of the periods
    (each inclusive); overlapping periods count once."""
    covered: set[date] = set()
    for start, end in periods:
        first, last = max(start, from_date), min(end, to_date)
        covered.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return len(covered)


# Repayment plans --------------------------------------------------------------------------------

FREQUENCY_STEP = {"weekly": relativedelta(weeks=1), "four_weekly": relativedelta(weeks=4),
                  "monthly": relativedelta(months=1)}
#: Instalments a month, to compare an instalment with monthly disposable income (SFS is monthly).
PER_MONTH = {"weekly": Decimal(52) / 12, "four_weekly": Decimal(13) / 12, "monthly": Decimal(1)}


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: date
    amount: Decimal
    due_to_date: Decimal  # the running total due up to and including this instalment


def schedule(*, total: Decimal, instalment_amount: Decimal, frequency: str, start: date,
             roll: Callable[[date], date] | None = None) -> list[Instalment]:
    """The fewest instalments of at most `instalment_amount` that pay `total`, spread evenly with
    casework.money.split (each floored to the penny, the remainder on the last), so they sum to
    the total exactly. Monthly dates are counted from the start, so 31 January gives 28 February
    then 31 March. `roll` moves a date that is not a working day (the caller passes the
    working-day calendar's next working day); the next date is still counted from the start."""
    roll = roll or (lambda day: day)
    count = max(1, math.ceil(to_pennies(total) / to_pennies(instalment_amount)))
    running, rows = ZERO, []
    for number, amount in enumerate(split(total, count), start=1):
        running += amount
        rows.append(Instalment(number, roll(start + FREQUENCY_STEP[frequency] * (number - 1)), amount, running))
    return rows


@dataclass(frozen=True)
class Missed:
    instalment: Instalment
    shortfall: Decimal


def missed_instalments(instalments: list[Instalment], paid: Decimal, on: date, grace_days: int) -> list[Missed]:
    """Instalments past their due date + grace on `on` that the payments since the start do not
    cover, each with the amount short at that point. Payments are counted in order, so catching
    up clears the earlier misses."""
    result = []
    for row in instalments:
        if row.due_on + timedelta(days=grace_days) < on and paid < row.due_to_date:
            result.append(Missed(row, to_pennies(row.due_to_date - paid)))
    return result


@dataclass(frozen=True)
class CategoryCheck:
    category: str
    amount: Decimal
    guideline: Decimal | None

    @property
    def above_guideline(self) -> bool:
        return self.guideline is not None and self.amount > self.guideline


@dataclass(frozen=True)
class Affordability:
    income: Decimal
    spending: Decimal
    checks: list[CategoryCheck]

    @property
    def disposable(self) -> Decimal:
        return to_pennies(self.income - self.spending)

    @property
    def flagged(self) -> list[CategoryCheck]:
        """Spending above the SFS guideline: the officer queries these (RP-01: below it, never)."""
        return [c for c in self.checks if c.above_guideline]


def affordability(amounts: dict[str, Decimal], income_categories: Iterable[str], spending_categories: Iterable[str],
                  guidelines: dict[str, Decimal]) -> Affordability:
    """Monthly income, spending, disposable income and the categories above their guideline."""
    income = sum((amounts.get(c) or ZERO for c in income_categories), ZERO)
    spending_cats = list(spending_categories)
    spending = sum((amounts.get(c) or ZERO for c in spending_cats), ZERO)
    checks = [CategoryCheck(c, amounts.get(c) or ZERO, guidelines.get(c)) for c in spending_cats]
    return Affordability(to_pennies(income), to_pennies(spending), checks)


def monthly_equivalent(instalment_amount: Decimal, frequency: str) -> Decimal:
    return to_pennies(instalment_amount * PER_MONTH[frequency])
