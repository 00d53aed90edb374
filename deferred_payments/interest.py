"""The interest engine: a pure function of an agreement's movements and the rates in force.

Conventions (domain README, DP-07, DP-08, WE-5):
- Interest for a day is charged on the balance at the end of that day, so an amount dated 1 January
  earns interest for 1 January, and a repayment dated D earns none from D on.
- Daily compounding multiplies the balance by (1 + rate / days-in-year) each day; the basis is 365
  (leap years too) or the actual days of the year, stored on the agreement.
- Monthly or quarterly compounding charges simple daily interest inside the month or quarter and
  adds it at its end.
- Interest is capitalised (posted, and the balance rounded half up to the penny) at the end of each
  half-year (1 January and 1 July, when the national maximum changes), at each month or quarter end
  for monthly or quarterly compounding, and on the day before a repayment. Between those points
  the unrounded balance compounds, which is what WE-5 does.
- The rate for a day is the council's rate in force that day, never above the national maximum for
  that day's half-year; a half-year with no national maximum stops the calculation (MissingRate).

Because the postings are a function of the movements and rates, the nightly run recomputes them
and corrects any that a back-dated change has made wrong.
"""
import calendar
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Callable, Iterable

from casework.money import to_pennies

ONE_DAY = timedelta(days=1)


class MissingRate(Exception):
    def __init__(self, period_start: date):
        self.period_start = period_start
        end = date(period_start.year, 6, 30) if period_start.month == 1 else date(period_start.year, 12, 31)
        super().__init__(f"No national maximum interest rate is recorded for {period_start:%-d %B %Y} to "
                         f"{end:%-d %B %Y}: a finance administrator must enter it before interest can be charged")


@dataclass(frozen=True)
class Posting:
    period_start: date
    period_end: date
    amount: Decimal
    #: [(from, to, rate %, national maximum %)] as ISO strings and decimal strings.
    rates: list = field(default_factory=list, compare=False)


def half_year_start(on: date) -> date:
    return date(on.year, 1 if on.month <= 6 else 7, 1)


def half_year_end(on: date) -> date:
    return date(on.year, 6, 30) if on.month <= 6 else date(on.year, 12, 31)


def _month_end(on: date) -> date:
    return date(on.year, on.month, calendar.monthrange(on.year, on.month)[1])


def _quarter_end(on: date) -> date:
    month = ((on.month - 1) // 3 + 1) * 3
    return date(on.year, month, calendar.monthrange(on.year, month)[1])


def period_end_for(on: date, compounding: str) -> date:
    """The end of the capitalisation period containing `on` (before repayment points)."""
    if compounding == "monthly":
        return _month_end(on)
    if compounding == "quarterly":
        return _quarter_end(on)
    return half_year_end(on)


def days_in_year(on: date, basis: str) -> int:
    if basis == "actual":
        return 366 if calendar.isleap(on.year) else 365
    return 365


RateFor = Callable[[date], tuple[Decimal, Decimal]]
"""rate_for(day) -> (rate applied %, national maximum %) for that day; raises MissingRate."""


def interest_postings(*, movements: Iterable[tuple[date, Decimal]], through: date, rate_for: RateFor,
                      compounding: str = "daily", basis: str = "365", extra_points: Iterable[date] = ()) -> list[Posting]:
    """Every interest posting from the first movement up to and including `through`.

    `movements` are the principal amounts (deferrals, fees, repayments: anything but interest) by
    effective date. A period still open on `through` is capitalised at `through` only if `through`
    is in `extra_points` (a redemption figure); otherwise it is left for a later run.
    """
    by_day: dict[date, Decimal] = {}
    for on, amount in movements:
        by_day[on] = by_day.get(on, Decimal(0)) + Decimal(amount)
    if not by_day:
        return []
    # A repayment (a credit) closes the period the day before it.
    points = {on - ONE_DAY for on, amount in by_day.items() if amount < 0} | set(extra_points)
    days = sorted(by_day)
    start = days[0]
    postings: list[Posting] = []
    balance = Decimal(0)  # rounded balance at the start of the current period
    with localcontext() as ctx:
        ctx.prec = 40
        period_start = start
        while period_start <= through:
            natural_end = period_end_for(period_start, compounding)
            candidates = [p for p in points if period_start <= p < natural_end]
            period_end = min(candidates) if candidates else natural_end
            if period_end > through:
                if through not in points:
                    break
                period_end = through
            principal_in = Decimal(0)
            unrounded = balance
            accrued = Decimal(0)  # simple interest for monthly or quarterly compounding
            rates: list = []
            day = period_start
            # Walk the period in runs of days with the same rate and no movement.
            while day <= period_end:
                if day in by_day:
                    unrounded += by_day[day]
                    principal_in += by_day[day]
                rate, maximum = rate_for(day)
                year_days = days_in_year(day, basis)
                run_end = min(period_end, half_year_end(day))
                following = bisect_right(days, day)
                if following < len(days) and days[following] - ONE_DAY < run_end:
                    run_end = days[following] - ONE_DAY
                run_end = _same_rate_until(day, run_end, rate_for, rate)
                n = (run_end - day).days + 1
                daily = Decimal(rate) / Decimal(100) / Decimal(year_days)
                if compounding == "daily":
                    unrounded *= (1 + daily) ** n
                else:
                    accrued += unrounded * daily * n
                _note_rate(rates, day, run_end, rate, maximum)
                day = run_end + ONE_DAY
            if compounding == "daily":
                closing = to_pennies(unrounded)
            else:
                closing = to_pennies(unrounded + accrued)
            interest = closing - to_pennies(balance + principal_in)
            if interest != 0:
                postings.append(Posting(period_start, period_end, interest,
                                        [[a.isoformat(), b.isoformat(), str(r), str(m)] for a, b, r, m in rates]))
            balance = closing
            period_start = period_end + ONE_DAY
    return postings


def _same_rate_until(day: date, limit: date, rate_for: RateFor, rate: Decimal) -> date:
    """The last day from `day` to `limit` whose rate is still `rate` (a council rate may change
    inside a half-year). Rates change rarely, so step by the change dates the callable exposes."""
    changes = getattr(rate_for, "change_dates", None)
    if changes is None:
        end = day
        while end < limit and rate_for(end + ONE_DAY)[0] == rate:
            end += ONE_DAY
        return end
    later = [c - ONE_DAY for c in changes if day < c <= limit]
    return min(later, default=limit)


def _note_rate(rates: list, start: date, end: date, rate: Decimal, maximum: Decimal) -> None:
    if rates and rates[-1][2] == rate and rates[-1][3] == maximum and rates[-1][1] + ONE_DAY == start:
        rates[-1][1] = end
    else:
        rates.append([start, end, rate, maximum])


def redemption_amount(*, movements: Iterable[tuple[date, Decimal]], on: date, rate_for: RateFor,
                      compounding: str = "daily", basis: str = "365") -> tuple[Decimal, Decimal]:
    """(principal, interest) owed at the start of `on`: everything dated before it, with interest
    to the end of the day before, so paying the total on `on` clears the debt."""
    before = [(d, a) for d, a in movements if d < on]
    principal = to_pennies(sum((Decimal(a) for _, a in before), Decimal(0)))
    last = on - ONE_DAY
    postings = interest_postings(movements=before, through=last, rate_for=rate_for, compounding=compounding,
                                 basis=basis, extra_points=[last])
    return principal, to_pennies(sum((p.amount for p in postings), Decimal(0)))
