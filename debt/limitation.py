"""The s.69(3) limitation rule (DR-03, worked example WE-8), and the two queues built on it.

The last day to issue a claim is the sixth anniversary of the day the sum fell due (a sum due on
29 February reaches it on 28 February in a year without one). An invoice is flagged from
`warning_months` before that day, and is statute barred from the day after it. Each invoice is
judged on its own due date. Not handled here: any Breathing Space extension (BS-10, unconfirmed),
and acknowledgements do not restart the clock (DR-04: flag for legal review instead).
"""
import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from django.db.models import QuerySet

#: Used when no LimitationRule row is in force (DR-03).
DEFAULT_YEARS = 6
DEFAULT_WARNING_MONTHS = 6


@dataclass(frozen=True)
class Rule:
    years: int = DEFAULT_YEARS
    warning_months: int = DEFAULT_WARNING_MONTHS


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier, if negative), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def last_day_to_claim(due_date: date, rule: Rule = Rule()) -> date:
    return add_months(due_date, 12 * rule.years)


def warning_from(due_date: date, rule: Rule = Rule()) -> date:
    """The first day an invoice shows as approaching limitation (WE-8: due + 5 years 6 months)."""
    return add_months(last_day_to_claim(due_date, rule), -rule.warning_months)


def is_barred(due_date: date, on: date, rule: Rule = Rule()) -> bool:
    return on > last_day_to_claim(due_date, rule)


def is_approaching(due_date: date, on: date, rule: Rule = Rule()) -> bool:
    return warning_from(due_date, rule) <= on <= last_day_to_claim(due_date, rule)


def latest_due_date_where(holds: Callable[[date], bool], guess: date) -> date:
    """The latest due date for which `holds(due)` is true, where `holds` is true up to some date and
    false after it (both rules above are monotone in the due date). Month-end clamping makes the
    guess at most a few days out, so this walks a handful of days."""
    day = guess
    while not holds(day):
        day -= timedelta(days=1)
    while holds(day + timedelta(days=1)):
        day += timedelta(days=1)
    return day


def barred_if_due_on_or_before(on: date, rule: Rule = Rule()) -> date:
    return latest_due_date_where(lambda due: is_barred(due, on, rule), add_months(on, -12 * rule.years))


def warned_if_due_on_or_before(on: date, rule: Rule = Rule()) -> date:
    back = -(12 * rule.years - rule.warning_months)
    return latest_due_date_where(lambda due: warning_from(due, rule) <= on, add_months(on, back))


# Reads: the rule in force and the two queues. ----------------------------------------------

def rule_on(on: date) -> Rule:
    from .models import LimitationRule

    row = LimitationRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return Rule(row.years, row.warning_months) if row else Rule()


def _owing() -> QuerySet:
    from .reports import with_outstanding
    from .models import Invoice

    return with_outstanding(Invoice.objects.filter(total__gt=0)).filter(outstanding__gt=0)


def approaching_limitation(on: date) -> QuerySet:
    """Invoices still owing whose last day to claim is within the warning window: act or write off."""
    rule = rule_on(on)
    return (_owing().filter(due_date__gt=barred_if_due_on_or_before(on, rule),
                            due_date__lte=warned_if_due_on_or_before(on, rule))
            .select_related("client").order_by("due_date", "number"))


def statute_barred_invoices(on: date) -> QuerySet:
    """Invoices still owing that can no longer be claimed in court: consider a write-off."""
    rule = rule_on(on)
    return (_owing().filter(due_date__lte=barred_if_due_on_or_before(on, rule))
            .select_related("client").order_by("due_date", "number"))


def statute_barred(invoice, on: date) -> bool:
    """For legal referral: a statute-barred debt can never go to court."""
    return is_barred(invoice.due_date, on, rule_on(on))


is_statute_barred = statute_barred
