"""The pure rules of legal action: court fee (DR-22), pleaded interest (DR-20, WE-10) and the
section 70 split between transferees (DR-08, WE-13). No database here except the two readers of
the data tables at the bottom.

Rounding (domain README, "Conventions"): interest is computed from the unrounded daily rate and
only the total is rounded, half up; the percentage fee band rounds down to the penny; a split
floors each part and puts the remainder on the last, so the parts always sum to the whole.
"""
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Iterable

from casework.money import PENNY, ZERO, to_pennies

DAYS_IN_YEAR = Decimal(365)
HUNDRED = Decimal(100)


class NoFeeBand(LookupError):
    """No fee band in force covers the amount: an administrator must add the fee table."""


@dataclass(frozen=True)
class FeeBand:
    lower: Decimal
    upper: Decimal | None
    fixed_fee: Decimal | None = None
    percentage: Decimal | None = None

    def covers(self, amount: Decimal) -> bool:
        return self.lower <= amount and (self.upper is None or amount <= self.upper)

    def fee(self, amount: Decimal) -> Decimal:
        if self.fixed_fee is not None:
            return self.fixed_fee
        # DR-22: the 5% band is rounded DOWN to the penny (WE-10: 617.2835 -> 617.28).
        return (amount * self.percentage / HUNDRED).quantize(PENNY, rounding=ROUND_FLOOR)


def fee_for(amount: Decimal, bands: Iterable[FeeBand]) -> Decimal:
    """The issue fee for a claim of `amount` (the debt plus interest, DR-22)."""
    for band in bands:
        if band.covers(amount):
            return band.fee(amount)
    raise NoFeeBand(f"No court fee band covers £{amount:,.2f}")


def daily_interest(principal: Decimal, rate_percent: Decimal) -> Decimal:
    """The unrounded simple interest per day (WE-10: 2,300 at 8% -> 0.504109...)."""
    return principal * rate_percent / HUNDRED / DAYS_IN_YEAR


def pleaded_daily_rate(principal: Decimal, rate_percent: Decimal) -> Decimal:
    """The daily rate as stated in the particulars (CPR 16.4(2)); never used to compute a total."""
    return to_pennies(daily_interest(principal, rate_percent))


def interest_total(items: Iterable[tuple[Decimal, int]], rate_percent: Decimal) -> Decimal:
    """Interest on several (principal, days) items, each from its unrounded daily rate; only the
    total is rounded (WE-10: 2,300 for 60 days at 8% -> 30.25, not 30.00 or 30.60)."""
    exact = sum((daily_interest(p, rate_percent) * max(days, 0) for p, days in items), Decimal(0))
    return to_pennies(exact)


def split_in_proportion(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights`: each part floored to the penny, the remainder on
    the last part, so the parts sum to the total."""
    total = to_pennies(total)
    whole = sum(weights, Decimal(0))
    if not weights or whole <= 0:
        raise ValueError("Nothing to split in proportion to")
    parts = [(total * w / whole).quantize(PENNY, rounding=ROUND_FLOOR) for w in weights[:-1]]
    return parts + [total - sum(parts, ZERO)]


def section70_liabilities(would_have_charged: Decimal, actually_charged: Decimal,
                          benefits: list[Decimal]) -> list[Decimal]:
    """Each transferee's liability under s.70 (DR-08, WE-13): the charges avoided, capped at the
    total benefit, shared in proportion to each one's benefit and capped at their own benefit."""
    avoided = max(to_pennies(would_have_charged) - to_pennies(actually_charged), ZERO)
    total = min(avoided, to_pennies(sum(benefits, ZERO)))
    if total == 0:
        return [ZERO for _ in benefits]
    return [min(part, to_pennies(b)) for part, b in zip(split_in_proportion(total, benefits), benefits)]


# Readers of the data tables ------------------------------------------------------------------

def bands_on(on: date) -> list[FeeBand]:
    """The fee table in force on `on`: the rows of the latest effective date on or before it."""
    from .models import CourtFeeBand

    latest = (CourtFeeBand.objects.filter(effective_from__lte=on).order_by("-effective_from")
              .values_list("effective_from", flat=True).first())
    if latest is None:
        return []
    return [FeeBand(b.lower, b.upper, b.fixed_fee, b.percentage)
            for b in CourtFeeBand.objects.filter(effective_from=latest).order_by("lower")]


def court_fee(amount: Decimal, on: date) -> Decimal:
    return fee_for(to_pennies(amount), bands_on(on))


def interest_rate_on(on: date) -> Decimal | None:
    from .models import ClaimInterestRule

    rule = ClaimInterestRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return rule.rate_percent if rule else None
