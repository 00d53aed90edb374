"""The s.69(3) limitation rule (DR-03, worked example WE-8), and the two queues built on it.

The last day to issue a claim is the sixth anniversary of the day the sum fell due (a sum due on
29 February reaches it on 28 February in a year without one). An invoice is flagged from
`warning_months` before that day, and is statute barred from the day after it. Each invoice is
judged on its own due date. Acknowledgements do not restart the clock (DR-04: flag for legal
review instead).

Breathing Space (BS-10, UNCONFIRMED): the domain notes say a period that would expire during a
moratorium, or shortly after it, is extended to 8 weeks after it ends; the exact formula of reg 8
was not confirmed. Applied here as: for each moratorium covering the invoice, a last day to claim
falling from its start to `limitation_extension_days` (BreathingSpaceRule, 56) after its last day
moves to that day. Legal review should confirm this before relying on it for a claim.
"""
import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from django.db.models import Q, QuerySet

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


def extended_by_breathing_space(last_day: date, protections, extension_days: int) -> date:
    """BS-10 (UNCONFIRMED formula, see above): the last day to claim after the moratoria covering
    the invoice, each a debt.relief.Protection (start, last protected day)."""
    for protection in sorted(protections, key=lambda p: p.start):
        until = protection.last + timedelta(days=extension_days)
        if protection.start <= last_day < until:
            last_day = until
    return last_day


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


def _extension_days(on: date) -> int:
    from .models import BreathingSpaceRule

    row = BreathingSpaceRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return row.limitation_extension_days if row else 0


def _extended_last_days(invoices: QuerySet, on: date, rule: Rule) -> dict[int, date]:
    """{invoice pk: its last day to claim moved on by Breathing Space} for the owing invoices whose
    client has had a moratorium covering them (a few: one query for the invoices, two for cover)."""
    from .models import Moratorium
    from .services.relief import breathing_spaces_for

    clients = Moratorium.objects.filter(start_date__lte=on).values("client_id")
    rows = list(invoices.filter(client_id__in=clients).values_list("pk", "client_id", "due_date"))
    if not rows:
        return {}
    protections, days, result = breathing_spaces_for({c for _, c, _ in rows}, on), _extension_days(on), {}
    for pk, client_id, due in rows:
        covering = [p for p in protections.get(client_id, []) if pk in p.invoice_ids]
        last = extended_by_breathing_space(last_day_to_claim(due, rule), covering, days)
        if last != last_day_to_claim(due, rule):
            result[pk] = last
    return result


def approaching_limitation(on: date) -> QuerySet:
    """Invoices still owing whose last day to claim is within the warning window: act or write off.
    An invoice whose last day a Breathing Space moved on is judged by the later day."""
    rule = rule_on(on)
    owing = _owing()
    extended = _extended_last_days(owing.filter(due_date__lte=warned_if_due_on_or_before(on, rule)), on, rule)
    window = {pk for pk, last in extended.items() if add_months(last, -rule.warning_months) <= on <= last}
    plain = (Q(due_date__gt=barred_if_due_on_or_before(on, rule), due_date__lte=warned_if_due_on_or_before(on, rule))
             & ~Q(pk__in=list(extended)))
    return owing.filter(plain | Q(pk__in=list(window))).select_related("client").order_by("due_date", "number")


def statute_barred_invoices(on: date) -> QuerySet:
    """Invoices still owing that can no longer be claimed in court: consider a write-off. One whose
    last day a Breathing Space moved on past `on` is not barred yet."""
    rule = rule_on(on)
    barred = _owing().filter(due_date__lte=barred_if_due_on_or_before(on, rule))
    alive = [pk for pk, last in _extended_last_days(barred, on, rule).items() if on <= last]
    return barred.exclude(pk__in=alive).select_related("client").order_by("due_date", "number")


def claim_deadline(invoice, on: date) -> date:
    """The last day a claim for `invoice` can be issued, judged on `on` (the rule in force then,
    moved on by any Breathing Space covering it)."""
    from .models import Invoice

    rule = rule_on(on)
    return _extended_last_days(Invoice.objects.filter(pk=invoice.pk), on, rule).get(
        invoice.pk, last_day_to_claim(invoice.due_date, rule))


def statute_barred(invoice, on: date) -> bool:
    """For legal referral: a statute-barred debt can never go to court."""
    return on > claim_deadline(invoice, on)


is_statute_barred = statute_barred
