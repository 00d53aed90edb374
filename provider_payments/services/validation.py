"""The validation engine: every claim line against the commissioned care.

For each line, in date order (so that a week's commissioned units are used up in the order care
was given):
1. the client exists, and the service code is known;
2. the date lies in the claim period;
3. the client was alive on that date, or the date is within the notice period after the death
   that the service's DeathNoticePeriod gives (care after that is not paid);
4. an approved package with this provider for this service covered the date;
5. the line does not duplicate another line of this claim, or one already approved or paid;
6. the unit rate is the package's agreed rate or the card's rate in force on that date;
7. monitored visits are paid by the tolerance rules in force (ToleranceRule);
8. the units paid do not exceed the package's commissioned units for that week.
Each line ends accepted, adjusted (payable differs from claimed, with the reasons) or rejected.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from casework.models import Client
from casework.money import ZERO, format_pounds, to_pennies

from ..claim_files import ClaimRow
from ..constants import ClaimStatus, LineResult, PackageStatus, Unit
from ..models import CarePackage, ClaimLine, ServiceType, ToleranceRule
from .notice import NoticeBook
from .rates import RateBook

PAID_OR_APPROVED = [ClaimStatus.APPROVED, ClaimStatus.PAID]


@dataclass
class Outcome:
    row: ClaimRow
    result: str = LineResult.ACCEPTED
    reasons: list[str] = field(default_factory=list)
    client_id: int | None = None
    service_type_id: int | None = None
    package_id: int | None = None
    rate_id: int | None = None
    units: Decimal = ZERO
    unit_rate: Decimal | None = None
    amount: Decimal = ZERO
    payable_units: Decimal = ZERO
    payable_rate: Decimal = ZERO
    payable_amount: Decimal = ZERO
    duplicate_key: str = ""

    def reject(self, reason: str) -> "Outcome":
        self.result, self.reasons = LineResult.REJECTED, [reason]
        self.payable_units, self.payable_amount = ZERO, ZERO
        return self

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)[:300]


def week_start(on: date) -> date:
    return on - timedelta(days=on.weekday())


def _long(on: date) -> str:
    return f"{on.day} {on:%B %Y}"


class Tolerances:
    """The tolerance rule in force for a service on a date (a service's own rule wins)."""

    def __init__(self):
        rules = defaultdict(list)
        for rule in ToleranceRule.objects.order_by("effective_from"):
            rules[rule.service_type_id].append(rule)
        self._rules = rules

    def on(self, service_type_id: int, on: date) -> ToleranceRule | None:
        for key in (service_type_id, None):
            found = [r for r in self._rules.get(key, []) if r.effective_from <= on]
            if found:
                return found[-1]
        return None


def visit_minutes(planned: int, actual: int, rule: ToleranceRule | None) -> tuple[int, str]:
    """Minutes payable for a monitored visit, and why they differ from the actual minutes."""
    tolerance = rule.tolerance_minutes if rule else 0
    if actual > planned:
        if rule and rule.pay_overrun:
            return actual, ""
        return planned, f"Visit longer than planned: paid the planned {planned} of {actual} minutes"
    if actual == planned:
        return planned, ""
    if planned - actual <= tolerance:
        return planned, f"Visit within {tolerance} minutes of plan: paid the planned {planned} minutes"
    step = rule.round_to_minutes if rule and rule.round_to_minutes > 1 else 1
    paid = actual // step * step
    return paid, ("" if paid == actual else f"Visit {planned - actual} minutes short: paid {paid} minutes "
                                            f"(rounded down to {step}-minute units)")


class Context:
    """Everything the lines of one claim need, loaded in a handful of queries."""

    def __init__(self, provider_id: int, rows: list[ClaimRow], exclude_claim_id: int | None = None,
                 book: RateBook | None = None):
        refs = {r.client_reference for r in rows}
        self.clients = {c.reference: c for c in Client.objects.filter(reference__in=refs).only(
            "id", "reference", "date_of_death")}
        self.services = {s.code: s for s in ServiceType.objects.all()}
        self.packages = defaultdict(list)
        for package in CarePackage.objects.filter(
                provider_id=provider_id, client_id__in=[c.pk for c in self.clients.values()]).order_by("start_date", "id"):
            self.packages[(package.client_id, package.service_type_id)].append(package)
        self.book = book or RateBook.for_providers([provider_id])
        self._tolerances: Tolerances | None = None
        self._notice: NoticeBook | None = None
        others = ClaimLine.objects.filter(claim__status__in=PAID_OR_APPROVED).exclude(result=LineResult.REJECTED)
        if exclude_claim_id:
            others = others.exclude(claim_id=exclude_claim_id)
        self.others = others
        self.used: dict[tuple[int, date], Decimal] = defaultdict(lambda: ZERO)

    def load_history(self, keys: set[str], package_ids: list[int], start: date, end: date) -> None:
        """Lines already approved or paid: their duplicate keys, and the units they used per package-week."""
        self.paid_keys = {key: (ref, row) for key, ref, row in self.others.filter(duplicate_key__in=keys).values_list(
            "duplicate_key", "claim__reference", "row_number")}
        rows = (self.others.filter(package_id__in=package_ids, service_date__gte=week_start(start),
                                   service_date__lte=week_start(end) + timedelta(days=6))
                .values("package_id", "service_date").annotate(units=Sum("payable_units")))
        for row in rows:
            package = self.package_by_id.get(row["package_id"])
            factor = 60 if package and package.service_type.unit == Unit.HOUR else 1
            self.used[(row["package_id"], week_start(row["service_date"]))] += row["units"] * factor

    def care_ends(self, service_type_id: int, date_of_death: date) -> date:
        """The date of death plus the notice period for the service (rules loaded on first use)."""
        if self._notice is None:
            self._notice = NoticeBook()
        return self._notice.care_ends(self.services_by_id[service_type_id], date_of_death)

    @property
    def services_by_id(self) -> dict:
        return {s.pk: s for s in self.services.values()}

    @property
    def tolerances(self) -> Tolerances:
        """Loaded on first use: only monitored visits need them."""
        if self._tolerances is None:
            self._tolerances = Tolerances()
        return self._tolerances

    @property
    def package_by_id(self) -> dict:
        if not hasattr(self, "_by_id"):
            self._by_id = {p.pk: p for ps in self.packages.values() for p in ps}
        return self._by_id


def _package_on(ctx: Context, client_id: int, service_id: int, on: date) -> tuple[CarePackage | None, str]:
    candidates = ctx.packages.get((client_id, service_id), [])
    approved = [p for p in candidates if p.status in (PackageStatus.APPROVED, PackageStatus.ENDED)]
    for package in approved:
        if package.covers(on):
            return package, ""
    ended = [p for p in approved if p.end_date and p.end_date < on]
    if ended:
        return None, f"After the package ended on {_long(ended[-1].end_date)}"
    if any(p.covers(on) for p in candidates):
        return None, "The package for this date is not approved yet"
    return None, "No approved package for this client, provider and service on this date"


def validate_rows(*, provider_id: int, period_start: date, period_end: date, rows: list[ClaimRow], ecm: bool,
                  exclude_claim_id: int | None = None, book: RateBook | None = None) -> list[Outcome]:
    ctx = Context(provider_id, rows, exclude_claim_id, book)
    outcomes = [Outcome(row=r) for r in rows]
    for o in outcomes:
        client = ctx.clients.get(o.row.client_reference)
        service = ctx.services.get(o.row.service_code)
        o.client_id = client.pk if client else None
        o.service_type_id = service.pk if service else None
        start = o.row.start_time.strftime("%H%M") if o.row.start_time else ""
        if client and service:
            o.duplicate_key = f"{client.pk}:{service.pk}:{o.row.service_date.isoformat()}:{start}"
    package_ids = [p.pk for ps in ctx.packages.values() for p in ps]
    ctx.load_history({o.duplicate_key for o in outcomes if o.duplicate_key}, package_ids, period_start, period_end)
    seen: dict[str, int] = {}
    ordered = sorted(outcomes, key=lambda o: (o.row.service_date,
                                              o.row.start_time.isoformat() if o.row.start_time else "",
                                              o.row.row_number))
    for o in ordered:
        _validate(o, ctx, period_start, period_end, ecm, seen)
    return outcomes


def _validate(o: Outcome, ctx: Context, period_start: date, period_end: date, ecm: bool, seen: dict) -> None:
    row = o.row
    client = ctx.clients.get(row.client_reference)
    service = ctx.services.get(row.service_code)
    hourly = service is not None and service.unit == Unit.HOUR
    # Claimed units and amount, as the provider claimed them (ECM: the actual minutes).
    if ecm:
        o.units = (Decimal(row.actual_minutes) / 60).quantize(Decimal("0.0001")) if hourly else Decimal(1)
    else:
        o.units = row.units
    o.unit_rate = row.unit_rate
    if client is None:
        o.amount = row.amount or ZERO
        o.reject(f"No client with reference {row.client_reference}")
        return
    if service is None:
        o.amount = row.amount or ZERO
        o.reject(f"Service code '{row.service_code}' is not known")
        return
    on = row.service_date
    if not period_start <= on <= period_end:
        o.reject(f"{_long(on)} is outside the claim period {_long(period_start)} to {_long(period_end)}")
    elif client.date_of_death and on > ctx.care_ends(service.pk, client.date_of_death):
        ends = ctx.care_ends(service.pk, client.date_of_death)
        o.reject(f"After the client's death on {_long(client.date_of_death)}" if ends == client.date_of_death else
                 f"After care ended on {_long(ends)}, the notice period after the client's death on "
                 f"{_long(client.date_of_death)}")
    package, why = _package_on(ctx, client.pk, service.pk, on)
    if o.result == LineResult.REJECTED:
        pass
    elif package is None:
        o.reject(why)
    elif o.duplicate_key in seen:
        o.reject(f"Duplicates row {seen[o.duplicate_key]} of this claim")
    elif o.duplicate_key in ctx.paid_keys:
        ref, number = ctx.paid_keys[o.duplicate_key]
        o.reject(f"Duplicates row {number} of claim {ref}, already approved")
    if o.duplicate_key and o.duplicate_key not in seen:
        seen[o.duplicate_key] = row.row_number
    # The rate the council pays on that date.
    expected, rate_obj = None, None
    if package is not None:
        o.package_id = package.pk
        if package.agreed_rate is not None:
            expected = package.agreed_rate
        else:
            rate_obj = ctx.book.rate_on((package.provider_id, service.pk, package.band_id), on)
            expected = rate_obj.rate if rate_obj else None
            o.rate_id = rate_obj.pk if rate_obj else None
    claimed_rate = row.unit_rate if row.unit_rate is not None else expected
    divisor = 60 if hourly else 1
    if ecm:
        o.amount = to_pennies(Decimal(row.actual_minutes if hourly else 1) * (claimed_rate or ZERO) / divisor)
    else:
        o.amount = row.amount
    if o.result == LineResult.REJECTED:
        return
    if expected is None:
        o.reject(f"No {service.name.lower()} rate on the card for this band on {_long(on)}")
        return
    reasons = []
    pay_rate = expected
    if claimed_rate > expected:
        source = "agreed rate" if package.agreed_rate is not None else f"card rate from {_long(rate_obj.effective_from)}"
        reasons.append(f"Rate {format_pounds(claimed_rate)} claimed; {source} is {format_pounds(expected)}")
    elif claimed_rate < expected:
        pay_rate = claimed_rate
    # Quantity in the base unit (minutes for hourly services).
    if ecm and hourly:
        rule = ctx.tolerances.on(service.pk, on)
        quantity, why = visit_minutes(row.planned_minutes or 0, row.actual_minutes or 0, rule)
        quantity = Decimal(quantity)
        if why:
            reasons.append(why)
    else:
        quantity = o.units * divisor
        if not ecm and to_pennies(row.units * row.unit_rate) != row.amount:
            reasons.append(f"Amount {format_pounds(row.amount)} is not units × rate "
                           f"({format_pounds(to_pennies(row.units * row.unit_rate))})")
    # Commissioned units for the week.
    week = week_start(on)
    budget = package.units_per_week * divisor
    remaining = max(budget - ctx.used[(package.pk, week)], ZERO)
    if quantity > remaining:
        unit = f"{service.get_unit_display().lower()}s"
        if remaining == 0:
            o.reject(f"The {package.units_per_week} commissioned {unit} for the week of {_long(week)} are already claimed")
            return
        reasons.append(f"Only {(remaining / divisor).quantize(Decimal('0.01'))} of the {package.units_per_week} "
                       f"commissioned {unit} for the week of {_long(week)} remained")
        quantity = remaining
    ctx.used[(package.pk, week)] += quantity
    o.payable_units = (quantity / divisor).quantize(Decimal("0.0001"))
    o.payable_rate = pay_rate
    o.payable_amount = to_pennies(quantity * pay_rate / divisor)
    o.reasons = reasons
    o.result = LineResult.ACCEPTED if o.payable_amount == o.amount else LineResult.ADJUSTED
    if o.result == LineResult.ACCEPTED:
        o.reasons = [r for r in reasons if r.startswith("Visit")]  # an accepted line keeps only explanations


def commissioned_cost_for(provider_id: int, start: date, end: date, book: RateBook | None = None, *,
                          death_in_error_of: int | None = None) -> Decimal:
    """The cost of every approved package of a provider over the dates (WE-11 step 5).
    `death_in_error_of` is a client whose recorded death is being reversed: their care is costed
    as if they were alive."""
    from .rates import commissioned_cost

    book = book or RateBook.for_providers([provider_id])
    packages = list(CarePackage.objects.filter(provider_id=provider_id,
                                               status__in=[PackageStatus.APPROVED, PackageStatus.ENDED],
                                               start_date__lte=end, service_type__billing_basis="delivered")
                    .exclude(end_date__lt=start).select_related("client"))
    for package in packages:
        if package.client_id == death_in_error_of:
            package.client.date_of_death = None
    return to_pennies(sum((commissioned_cost(p, start, end, book) for p in packages), ZERO))
