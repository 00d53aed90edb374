"""Categorising lines and finding irregularities: pure functions over lines and rule rows.

A line is anything with date, description, payee, amount (negative out), balance and category.
Rules are the finance administrator's rows (CategoryRule, IrregularityRule); this module only
reads their fields, so the same code serves imports, re-analysis and the benchmark.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable

from casework.letters.types import long_date
from casework.money import format_pounds

from .constants import CARE_CATEGORIES, OWN_RULE_CATEGORIES, Category, Direction, FlagRule, MatchOn


@dataclass(frozen=True)
class Found:
    """A flag to raise: on a line (or, for a run of weeks without care that reaches the end of
    the period, on the audit as a whole)."""

    rule: str
    message: str
    line: Any = None


def _text(line, match_on: str) -> str:
    if match_on == MatchOn.PAYEE:
        return (line.payee or "").lower()
    if match_on == MatchOn.DESCRIPTION:
        return (line.description or "").lower()
    return f"{line.payee or ''} {line.description or ''}".lower()


def categorise(line, rules: Iterable) -> tuple[str, Any]:
    """(category, the rule that matched or None). Rules come sorted by priority; first match wins."""
    out = line.amount < 0
    for rule in rules:
        if rule.direction == Direction.OUT and not out or rule.direction == Direction.IN and out:
            continue
        if rule.pattern.lower() in _text(line, rule.match_on):
            return rule.category, rule
    return (Category.OTHER if out else Category.OTHER_INCOME), None


def _contains_any(line, patterns: list[str]) -> str | None:
    text = _text(line, MatchOn.EITHER)
    return next((p for p in patterns if p and p in text), None)


def _name_words(names: Iterable[str]) -> list[str]:
    """Surnames and other words of three letters or more of the client's and recipient's names."""
    titles = {"mr", "mrs", "ms", "miss", "dr", "mx"}
    return sorted({w.lower() for n in names for w in (n or "").replace("-", " ").split()
                   if len(w) >= 3 and w.lower() not in titles})


def find_irregularities(lines: list, *, rules: dict, plan_categories: Iterable[str], names: Iterable[str],
                        period_start: date, period_end: date) -> list[Found]:
    """Every irregularity in the lines (oldest first). `rules` maps rule code -> IrregularityRule
    (only enabled rules are passed); `names` are the client's and recipient's names."""
    found: list[Found] = []
    plan = set(plan_categories)
    words = _name_words(names)
    for line in lines:
        found += _line_irregularities(line, rules, plan, words)
    if FlagRule.NO_CARE_SPENDING in rules:
        found += _care_gaps(lines, rules[FlagRule.NO_CARE_SPENDING], period_start, period_end)
    return found


def _line_irregularities(line, rules: dict, plan: set, words: list[str]) -> list[Found]:
    found = []
    out = line.amount < 0
    if (rule := rules.get(FlagRule.CASH_WITHDRAWAL)) and out and line.category == Category.CASH:
        limit = rule.threshold_amount or Decimal("0.00")
        if -line.amount > limit:
            found.append(Found(rule.code, f"Cash withdrawal of {format_pounds(-line.amount)} is over "
                                          f"{format_pounds(limit)}", line))
    if (rule := rules.get(FlagRule.FAMILY_TRANSFER)) and out and line.category == Category.TRANSFER_OUT:
        hit = _contains_any(line, words + rule.pattern_list)
        if hit:
            found.append(Found(rule.code, f"Transfer of {format_pounds(-line.amount)} to '{line.payee or line.description}' "
                                          f"looks like the recipient's own or a family account ('{hit}')", line))
    if (rule := rules.get(FlagRule.NON_CARE_MERCHANT)) and out:
        hit = _contains_any(line, rule.pattern_list)
        if hit:
            found.append(Found(rule.code, f"{format_pounds(-line.amount)} at '{line.payee or line.description}', a "
                                          f"merchant with nothing to do with care ('{hit}')", line))
    if (rule := rules.get(FlagRule.OUTSIDE_PLAN)) and out and plan and line.category not in plan \
            and line.category not in OWN_RULE_CATEGORIES:
        found.append(Found(rule.code, f"{Category(line.category).label} is not in the support plan "
                                      f"({format_pounds(-line.amount)})", line))
    if (rule := rules.get(FlagRule.OVERDRAWN)) and line.balance < 0:
        found.append(Found(rule.code, f"The balance was overdrawn: {format_pounds(line.balance)}", line))
    return found


def _care_gaps(lines: list, rule, period_start: date, period_end: date) -> list[Found]:
    """Runs of at least `threshold_weeks` weeks (whole days counted inclusively) with no care
    spending: each is flagged on the first care line after it, or on the audit if it runs to the end."""
    weeks = rule.threshold_weeks or 0
    if weeks <= 0:
        return []
    care = [l for l in lines if l.amount < 0 and l.category in CARE_CATEGORIES]
    found, since = [], period_start
    for line in care:
        if (line.date - since).days >= weeks * 7:
            found.append(_gap(rule, since, line.date - timedelta(days=1), line))
        since = line.date + timedelta(days=1)
    if (period_end - since).days + 1 >= weeks * 7:
        found.append(_gap(rule, since, period_end, None))
    return found


def _gap(rule, start: date, end: date, line) -> Found:
    days = (end - start).days + 1
    return Found(rule.code, f"No care spending from {long_date(start)} to {long_date(end)} ({days} days)", line)


@dataclass(frozen=True)
class Match:
    payment: Any
    line: Any


def payment_patterns(agreement_reference: str, council_name: str) -> list[str]:
    """What a council payment's description shows on real statements, lower case: the agreement
    reference as sent ("DPA-000123", which some banks print as "DPA000123"), the council's name,
    and its first word with the "CC" or "council" banks cut it to ("NORTHMOOR CC", "NORTHMOOR COUNCIL")."""
    reference = agreement_reference.lower()
    patterns = [reference, reference.replace("-", ""), council_name.lower()]
    words = council_name.lower().split()
    if words:
        patterns += [f"{words[0]} cc", f"{words[0]} council", f"{words[0]} county"]
    return [p for p in dict.fromkeys(patterns) if p]


def _looks_like_council(line, patterns: list[str]) -> bool:
    return line.category == Category.COUNCIL_PAYMENT or any(p in _text(line, MatchOn.EITHER) for p in patterns)


#: Most statement lines one expected payment may arrive as (a payment split by the bank or card provider).
MAX_SPLIT = 3


def reconcile(payments: list, lines: list, *, tolerance_days: int, patterns: Iterable[str] = (),
              calendar=None) -> tuple[list[Match], list, list]:
    """Match the council's payments to statement lines of money in that are council payments (the
    line is categorised as one, or its description shows the agreement reference or the council's
    name, `patterns`): the same amount, arriving on the day paid or up to `tolerance_days` working
    days later (casework.calendar: a payment made on a Friday may arrive on Monday, or after a bank
    holiday). Each line is used once; payments in date order take the earliest line. A payment with
    no single line may have arrived split into two or three lines inside its window that add up to
    it exactly. Returns (matches, one per line matched; payments with no line: missing; lines
    categorised as council payments that match no payment: unexpected)."""
    from casework.calendar import WorkingCalendar

    patterns = [p.lower() for p in patterns if p]
    candidates = [l for l in lines if l.amount > 0 and _looks_like_council(l, patterns)]
    ordered = sorted(payments, key=lambda p: (p.paid_on, p.pk or 0))
    if ordered and calendar is None:
        calendar = WorkingCalendar.between(ordered[0].paid_on - timedelta(days=7),
                                           ordered[-1].paid_on + timedelta(days=3 * tolerance_days + 21))
    windows = {id(p): (p.paid_on, calendar.add_working_days(p.paid_on, tolerance_days)) for p in ordered}
    used: set[int] = set()
    matches, unmatched = [], []
    for payment in ordered:
        start, end = windows[id(payment)]
        hit = next((i for i, line in enumerate(candidates) if i not in used and line.amount == payment.amount
                    and start <= line.date <= end), None)
        if hit is None:
            unmatched.append(payment)
            continue
        used.add(hit)
        matches.append(Match(payment, candidates[hit]))
    missing = []
    for payment in unmatched:
        start, end = windows[id(payment)]
        inside = [i for i, line in enumerate(candidates) if i not in used and start <= line.date <= end
                  and line.amount < payment.amount]
        parts = _split(inside, candidates, payment.amount)
        if parts is None:
            missing.append(payment)
            continue
        used.update(parts)
        matches += [Match(payment, candidates[i]) for i in parts]
    unexpected = [line for i, line in enumerate(candidates) if i not in used and line.category == Category.COUNCIL_PAYMENT]
    return matches, missing, unexpected


def _split(inside: list[int], candidates: list, amount: Decimal) -> tuple[int, ...] | None:
    """The earliest two (or three) of the lines `inside` that add up to `amount` exactly, or None."""
    from itertools import combinations

    for size in range(2, MAX_SPLIT + 1):
        for parts in combinations(inside[:20], size):
            if sum((candidates[i].amount for i in parts), Decimal("0.00")) == amount:
                return parts
    return None
