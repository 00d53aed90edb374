"""Reference data in force on a date: capital limits, rules, fees and interest rates.

A figure missing for a date is refused with a DomainError naming what to enter; nothing falls back
to a neighbouring year silently.
"""
from datetime import date
from decimal import Decimal

from casework.services import DomainError

from .interest import MissingRate, half_year_start
from .models import AdministrationFee, CapitalLimit, CouncilInterestRate, DeferredPaymentRule, NationalMaximumRate


def capital_limits_on(on: date) -> CapitalLimit:
    limits = CapitalLimit.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if limits is None:
        raise DomainError(f"No capital limits are recorded for {on:%-d %B %Y}: a finance administrator must enter them")
    return limits


def rule_on(on: date) -> DeferredPaymentRule:
    rule = DeferredPaymentRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if rule is None:
        raise DomainError(f"No deferred payment rules are recorded for {on:%-d %B %Y}")
    return rule


def fee_on(kind: str, on: date) -> AdministrationFee | None:
    return AdministrationFee.objects.filter(kind=kind, effective_from__lte=on).order_by("-effective_from").first()


class RateTable:
    """rate_for(day) -> (rate applied %, national maximum %), loaded once for a whole run."""

    def __init__(self, maxima: dict[date, Decimal] | None = None, council: list[tuple[date, Decimal | None]] | None = None):
        if maxima is None:
            maxima = dict(NationalMaximumRate.objects.values_list("period_start", "rate"))
        if council is None:
            council = list(CouncilInterestRate.objects.order_by("effective_from").values_list("effective_from", "rate"))
        self.maxima = maxima
        self.council = sorted(council)
        # Days on which the applied rate may change, for the engine's runs of equal rate.
        self.change_dates = sorted({d for d, _ in self.council} | set(self.maxima))

    def council_rate(self, day: date) -> Decimal | None:
        rate = None
        for effective_from, value in self.council:
            if effective_from > day:
                break
            rate = value
        return rate

    def __call__(self, day: date) -> tuple[Decimal, Decimal]:
        start = half_year_start(day)
        maximum = self.maxima.get(start)
        if maximum is None:
            raise MissingRate(start)
        council = self.council_rate(day)
        return (maximum if council is None else min(council, maximum)), maximum
