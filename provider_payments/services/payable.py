"""The payable rule for a provider's claim (WE-11 step 4), and its commissioned cost.

A claim's payable amount is worked out per rate period, not per visit: the payable hours (or other
units) of its lines at one rate are added up, multiplied by that rate and rounded half up to the
penny once. WE-11: 17.25 h × £24.00 = £414.00 and 37.50 h × £25.20 = £945.00, £1,359.00 in all.
Each line still shows its own payable amount; the claim's total is the sum of its rate periods.

- A rate period is the lines of one service at one payable rate under one rate on the card (an
  uplift starts a new period), or at a package's agreed rate.
- A line's quantity is counted exactly: an hourly line in minutes (its payable hours × 60, which
  are whole or hundredths of minutes), so three 20-minute visits are one hour, not 0.9999 h.
- A rejected line carries no payable hours and nothing to pay (a death's rejection included).
- A line whose payable amount an officer set by hand (not its hours times its rate) is paid that
  amount, beside the rate periods.

The commissioned cost of a claim is the cost of the provider's packages over its period
(rates.commissioned_cost, WE-11 step 5). It is kept on the claim; when a death ends a package the
unpaid claims it touches are costed again (claims_recost), and again when the death is reversed.
"""
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from casework.money import ZERO, format_pounds, to_pennies

from ..constants import ClaimStatus, LineResult, Unit
from ..models import Claim, ClaimLine

MINUTES = Decimal(60)
HUNDREDTH = Decimal("0.01")
#: Claims whose commissioned cost follows the packages: not yet paid.
UNPAID = [ClaimStatus.VALIDATED, ClaimStatus.APPROVED]


def payable_for(quantity: Decimal, rate: Decimal, divisor: Decimal = Decimal(1)) -> Decimal:
    """The one rounding of the payable rule: quantity × rate (÷ divisor), half up to the penny."""
    return to_pennies(Decimal(quantity) * Decimal(rate) / divisor)


@dataclass
class RatePeriod:
    service_code: str
    rate: Decimal
    hourly: bool
    first: date
    last: date
    quantity: Decimal = ZERO  # minutes for an hourly service, units otherwise
    lines: int = 0

    @property
    def divisor(self) -> Decimal:
        return MINUTES if self.hourly else Decimal(1)

    @property
    def units(self) -> Decimal:
        """Payable hours (or units), to the hundredth, for showing."""
        return (self.quantity / self.divisor).quantize(HUNDREDTH)

    @property
    def amount(self) -> Decimal:
        return payable_for(self.quantity, self.rate, self.divisor)

    @property
    def text(self) -> str:
        unit = "h" if self.hourly else " units"
        return (f"{self.first:%-d %b %Y} to {self.last:%-d %b %Y}: {self.units}{unit} × {format_pounds(self.rate)} "
                f"= {format_pounds(self.amount)}")


@dataclass
class ClaimPayable:
    periods: list[RatePeriod] = field(default_factory=list)
    #: Amounts officers set on lines by hand, by service code.
    set_by_hand: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return to_pennies(sum((p.amount for p in self.periods), ZERO) + sum(self.set_by_hand.values(), ZERO))

    @property
    def hours(self) -> Decimal:
        """Payable hours of the hourly services."""
        minutes = sum((p.quantity for p in self.periods if p.hourly), ZERO)
        return (minutes / MINUTES).quantize(HUNDREDTH)

    def by_service(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for p in self.periods:
            totals[p.service_code] = totals.get(p.service_code, ZERO) + p.amount
        for code, amount in self.set_by_hand.items():
            totals[code] = totals.get(code, ZERO) + amount
        return {code: to_pennies(amount) for code, amount in totals.items()}


def line_quantity(line: ClaimLine, hourly: bool) -> Decimal:
    """The line's payable quantity in the base unit (minutes for an hourly service)."""
    if hourly:
        return (line.payable_units * MINUTES).quantize(HUNDREDTH)
    return line.payable_units


def payable_of_lines(lines) -> ClaimPayable:
    """The payable rule over claim lines (with service_type loaded), in date order."""
    result = ClaimPayable()
    periods: OrderedDict[tuple, RatePeriod] = OrderedDict()
    for line in sorted(lines, key=lambda l: (l.service_date, l.row_number, l.pk or 0)):
        if line.result == LineResult.REJECTED:
            continue
        service = line.service_type
        code = service.code if service else ""
        hourly = service is not None and service.unit == Unit.HOUR
        quantity = line_quantity(line, hourly)
        divisor = MINUTES if hourly else Decimal(1)
        if quantity <= 0 or payable_for(quantity, line.payable_rate, divisor) != line.payable_amount:
            if line.payable_amount:
                result.set_by_hand[code] = result.set_by_hand.get(code, ZERO) + line.payable_amount
            continue
        key = (code, line.payable_rate, line.rate_id)
        period = periods.get(key)
        if period is None:
            period = periods[key] = RatePeriod(code, line.payable_rate, hourly, line.service_date, line.service_date)
        period.quantity += quantity
        period.lines += 1
        period.first, period.last = min(period.first, line.service_date), max(period.last, line.service_date)
    result.periods = list(periods.values())
    return result


def claim_payable(claim: Claim) -> ClaimPayable:
    return payable_of_lines(ClaimLine.objects.filter(claim=claim).select_related("service_type"))


def claims_payable_by_service(claims) -> dict[str, Decimal]:
    """What a payment pays for its claims, by service code (the sum of each claim's rate periods)."""
    totals: dict[str, Decimal] = {}
    lines: dict[int, list[ClaimLine]] = {}
    for line in ClaimLine.objects.filter(claim__in=claims).select_related("service_type"):
        lines.setdefault(line.claim_id, []).append(line)
    for claim_lines in lines.values():
        for code, amount in payable_of_lines(claim_lines).by_service().items():
            totals[code] = totals.get(code, ZERO) + amount
    return {code: amount for code, amount in totals.items() if amount}


def claims_recost(*, provider_id: int, start: date, end: date | None, actor, reason: str,
                  death_in_error_of: int | None = None) -> list[list]:
    """Cost again every unpaid claim of the provider whose period reaches `start`..`end` (a
    package's dates changed): [[claim id, old cost, new cost], ...] for those that changed.
    `death_in_error_of`: the client whose death is being reversed, costed as alive."""
    from .common import event
    from .rates import RateBook
    from .validation import commissioned_cost_for

    claims = Claim.objects.select_for_update().select_related("provider").filter(
        provider_id=provider_id, status__in=UNPAID, period_end__gte=start).order_by("period_start", "pk")
    if end is not None:
        claims = claims.filter(period_start__lte=end)
    book = RateBook.for_providers([provider_id])
    changed = []
    for claim in claims:
        cost = commissioned_cost_for(provider_id, claim.period_start, claim.period_end, book,
                                     death_in_error_of=death_in_error_of)
        if cost == claim.commissioned_cost:
            continue
        old = claim.commissioned_cost
        claim.commissioned_cost = cost
        claim.save(update_fields=["commissioned_cost"])
        changed.append([claim.pk, str(old), str(cost)])
        event(claim.provider, "provider.claim.recosted",
              f"Claim {claim.reference}: commissioned cost {format_pounds(old)} to {format_pounds(cost)} ({reason})",
              actor, old={"commissioned_cost": str(old)}, new={"commissioned_cost": str(cost), "reason": reason})
    return changed
