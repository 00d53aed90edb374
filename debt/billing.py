"""Pure billing arithmetic: periods, pro-rated lines and back-dated adjustments. No database.

Conventions (shared/domain/README.md): days count inclusively; a line's amount is weekly × days ÷ 7
rounded half up to the penny (casework.money.to_pennies) on each line; charges run up to and
including the date of death and never after it.

The cap by actual cost is a seam: `register_actual_cost` lets provider payments supply the actual
weekly cost of the care a client received over some dates. Until something is registered there is
no cap. Residential services are never capped.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable

from casework.letters.types import long_date
from casework.money import ZERO, format_pounds, to_pennies

from .constants import LineKind

#: actual_weekly_cost(client, service, date_from, date_to) -> Decimal | None
ActualCost = Callable[[Any, Any, date, date], Decimal | None]
_ACTUAL_COST: list[ActualCost] = []


def register_actual_cost(hook: ActualCost) -> ActualCost:
    """Provider payments registers the one function that knows the actual weekly cost of care."""
    _ACTUAL_COST[:] = [hook]
    return hook


def actual_weekly_cost(client: Any, service: Any, date_from: date, date_to: date) -> Decimal | None:
    """The actual weekly cost of the client's care of this service over the dates, or None (no cap)."""
    return _ACTUAL_COST[0](client, service, date_from, date_to) if _ACTUAL_COST else None


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return date_range(self.start, self.end)


@dataclass(frozen=True)
class Charge:
    """What the arithmetic needs of an AssessedCharge."""

    pk: int | None
    service_id: int
    service_name: str
    residential: bool
    version: int
    weekly_amount: Decimal
    effective_from: date
    effective_to: date | None = None
    assessment_reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Billed:
    """A line already invoiced (charge or adjustment) for some days of an earlier period."""

    service_id: int
    date_from: date
    date_to: date
    weekly_rate: Decimal
    amount: Decimal


@dataclass
class Line:
    kind: str
    service_id: int
    service_name: str
    date_from: date
    date_to: date
    days: int
    weekly_rate: Decimal
    amount: Decimal
    explanation: str
    charge_pk: int | None = None
    cap: Decimal | None = None


@dataclass
class Draft:
    period: Period
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return to_pennies(sum((line.amount for line in self.lines), ZERO))


CapLookup = Callable[[Charge, date, date], Decimal | None]


def days_between(start: date, end: date) -> int:
    """Inclusive: 1 to 7 April is 7 days."""
    return (end - start).days + 1


def pro_rata(weekly: Decimal, days: int) -> Decimal:
    return to_pennies(Decimal(weekly) * days / 7)


def date_range(start: date, end: date) -> str:
    """'5 to 18 October 2026', '5 October to 1 November 2026', '29 December 2026 to 4 January 2027'."""
    if start == end:
        return long_date(start)
    if start.year != end.year:
        return f"{long_date(start)} to {long_date(end)}"
    if start.month != end.month:
        return f"{start.day} {start:%B} to {long_date(end)}"
    return f"{start.day} to {long_date(end)}"


# Periods ---------------------------------------------------------------------------------------

def period_containing(day: date, *, anchor: date, period_days: int) -> Period:
    n = (day - anchor).days // period_days
    start = anchor + timedelta(days=n * period_days)
    return Period(start, start + timedelta(days=period_days - 1))


def period_ending_on_or_before(day: date, *, anchor: date, period_days: int) -> Period:
    current = period_containing(day, anchor=anchor, period_days=period_days)
    if current.end <= day:
        return current
    start = current.start - timedelta(days=period_days)
    return Period(start, current.start - timedelta(days=1))


def due_period(business_date: date, *, anchor: date, period_days: int, bill_days_after: int) -> Period:
    """The latest period whose end + bill_days_after is on or before the business date."""
    return period_ending_on_or_before(business_date - timedelta(days=bill_days_after), anchor=anchor,
                                      period_days=period_days)


# Charge lines ----------------------------------------------------------------------------------

def _last_chargeable(end: date, date_of_death: date | None) -> date:
    return min(end, date_of_death) if date_of_death else end


def _charge_explanation(charge: Charge, start: date, end: date, days: int, rate: Decimal, amount: Decimal,
                        cap: Decimal | None) -> str:
    source = f"assessed charge version {charge.version}"
    if charge.assessment_reference:
        source += f", from assessment {charge.assessment_reference}"
    capped = (f" (your assessed charge of {format_pounds(charge.weekly_amount)} a week, capped at the actual "
              f"cost of your care)") if cap is not None else ""
    return (f"{charge.service_name}, {date_range(start, end)}: {days} day{'s' if days != 1 else ''} at "
            f"{format_pounds(rate)} a week{capped} = {format_pounds(amount)} ({source})")[:400]


def charge_line(charge: Charge, start: date, end: date, cap_lookup: CapLookup | None = None) -> Line:
    """One line: the charge over start..end (already clipped), capped by actual cost if lower."""
    days = days_between(start, end)
    rate, cap = charge.weekly_amount, None
    if cap_lookup and not charge.residential:
        actual = cap_lookup(charge, start, end)
        if actual is not None and actual < rate:
            rate, cap = to_pennies(actual), to_pennies(actual)
    amount = pro_rata(rate, days)
    return Line(kind=LineKind.CHARGE, service_id=charge.service_id, service_name=charge.service_name,
                date_from=start, date_to=end, days=days, weekly_rate=rate, amount=amount, charge_pk=charge.pk,
                cap=cap, explanation=_charge_explanation(charge, start, end, days, rate, amount, cap))


def charge_lines(period: Period, charges: Iterable[Charge], date_of_death: date | None = None,
                 cap_lookup: CapLookup | None = None) -> list[Line]:
    """A line for each charge version overlapping the period: split at every change of charge, a
    charge's start and end, and the date of death (nothing after it)."""
    last = _last_chargeable(period.end, date_of_death)
    lines = []
    for charge in sorted(charges, key=lambda c: (c.service_name, c.effective_from, c.version)):
        start = max(period.start, charge.effective_from)
        end = min(last, charge.effective_to or last)
        if start <= end:
            lines.append(charge_line(charge, start, end, cap_lookup))
    return lines


# Adjustments -----------------------------------------------------------------------------------

def _daily_rates(lines: Iterable[Billed | Line]) -> dict[date, Decimal]:
    """The weekly rate on each day; a later line (an adjustment) overrides an earlier one."""
    rates: dict[date, Decimal] = {}
    for line in lines:
        day = line.date_from
        while day <= line.date_to:
            rates[day] = line.weekly_rate
            day += timedelta(days=1)
    return rates


def _rates_words(rates: set[Decimal]) -> str:
    if not rates:
        return "nothing"
    if len(rates) == 1:
        return f"{format_pounds(next(iter(rates)))} a week"
    return "varying weekly amounts"


def adjustment_line(period: Period, service_id: int, service_name: str, billed: list[Billed],
                    current: list[Line], reason: str) -> Line | None:
    """The difference, for one service and one earlier period, between what was billed and what
    the charges now say; None when they agree. The amount is exact money (current total − billed
    total); the dates and days are those whose rate changed."""
    difference = to_pennies(sum((l.amount for l in current), ZERO) - sum((b.amount for b in billed), ZERO))
    if difference == 0:
        return None
    old, new = _daily_rates(billed), _daily_rates(current)
    changed = sorted(d for d in set(old) | set(new) if old.get(d, ZERO) != new.get(d, ZERO)) or [period.start,
                                                                                                 period.end]
    start, end = changed[0], changed[-1]
    days = len(changed) if changed != [period.start, period.end] else period.days
    new_rates = {new.get(d, ZERO) for d in changed}
    old_words = _rates_words({old.get(d, ZERO) for d in changed})
    direction = "more" if difference > 0 else "less"
    because = f" ({reason})" if reason else ""
    text = (f"Adjustment: your charge for {service_name}, {date_range(start, end)} changed from {old_words} to "
            f"{_rates_words(new_rates)}{because}; {days} day{'s' if days != 1 else ''}: "
            f"{format_pounds(abs(difference))} {direction}")
    rate = next(iter(new_rates)) if len(new_rates) == 1 else ZERO
    charge_pk = current[-1].charge_pk if current else None
    return Line(kind=LineKind.ADJUSTMENT, service_id=service_id, service_name=service_name, date_from=start,
                date_to=end, days=days, weekly_rate=rate, amount=difference, explanation=text[:400],
                charge_pk=charge_pk)


def adjustment_lines(earlier: Iterable[Period], charges: list[Charge], billed: list[Billed],
                     date_of_death: date | None = None, cap_lookup: CapLookup | None = None) -> list[Line]:
    """Adjustments for every earlier invoiced period and service where the charges have changed."""
    names = {c.service_id: c.service_name for c in charges}
    reasons = {c.service_id: c.reason for c in sorted(charges, key=lambda c: c.version)}
    lines = []
    for period in sorted(set(earlier), key=lambda p: p.start):
        services = {b.service_id for b in billed if period.start <= b.date_from <= period.end}
        current_all = charge_lines(period, charges, date_of_death, cap_lookup)
        services |= {l.service_id for l in current_all}
        for service_id in sorted(services, key=lambda s: names.get(s, "")):
            done = [b for b in billed if b.service_id == service_id and period.start <= b.date_from <= period.end]
            now = [l for l in current_all if l.service_id == service_id]
            line = adjustment_line(period, service_id, names.get(service_id, "Care"), done, now,
                                   reasons.get(service_id) or "reassessment")
            if line:
                lines.append(line)
    return lines


def invoice_draft(period: Period, charges: list[Charge], *, date_of_death: date | None = None,
                  earlier: Iterable[Period] = (), billed: Iterable[Billed] = (),
                  cap_lookup: CapLookup | None = None, death_adjusts_after: date | None = None) -> Draft:
    """Every line of one client's invoice for the period: its charges, then adjustments for
    earlier periods already invoiced. With `death_adjusts_after`, earlier periods are adjusted for
    the death only after that day (what was invoiced before an unconfirmed death was recorded is
    credited only through the death's own credits)."""
    lines = charge_lines(period, charges, date_of_death, cap_lookup)
    adjust_death = date_of_death
    if date_of_death and death_adjusts_after and death_adjusts_after > date_of_death:
        adjust_death = death_adjusts_after
    lines += adjustment_lines([p for p in earlier if p.start < period.start], charges, list(billed),
                              adjust_death, cap_lookup)
    return Draft(period=period, lines=lines)
