"""The committed-spend forecast: what the council's care packages will cost from a day to the end of
the financial year (1 April to 31 March), by month, service type, area and team, beside what has
been paid so far in the year, with provisional placements apart.

Computed in a fixed handful of queries whatever the number of packages:
1. every approved or provisional package overlapping the forecast dates, as values_list rows with
   its client's area, date of death and team (TEAM_RULE, a subquery in the same statement);
2. the live rate cards (one query, into a RateBook);
3. actuals: paid claim lines summed in SQL by month of service, service type, area and team, and the
   scheduled (residential) payments of released payment runs, shared between months by days.

Then one pass over the package rows: a package's cost in a month is its units a week × the unit rate
in force on each day ÷ 7, over the month's days from the forecast start to the package's end date
(or the client's death, or the year end), split at every rate change (an uplift makes new rates with
their own effective date, so a future uplift is counted from that date) and rounded half up to the
penny once per package and month (casework.money.to_pennies). An agreed individual rate is used
unchanged throughout. Every total is a sum of those amounts, so every table adds up to the penny.
"""
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Iterable

from django.db.models import Case as Conditional
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import TruncMonth

from casework.constants import CaseStatus
from casework.models import Area, Case, Team
from casework.money import ZERO, to_pennies

from .constants import ClaimStatus, PackageStatus, PaymentRunStatus
from .models import CarePackage, ClaimLine, Rate, ScheduledPayment, ServiceType

ACTUAL, COMMITTED, PROVISIONAL = "actual", "committed", "provisional"
NO_AREA, NO_TEAM, NO_SERVICE = "No area", "No team", "Service not recorded"
#: Filter value choosing the rows with no area or no team.
NONE = "none"
TEAM_RULE = ("A client's team is the team of their most recently opened case that is still open (of any case "
             "type); a client with no open case counts under the team of their most recently opened closed case, "
             "and a client with no case at all under \"No team\".")


def financial_year_of(day: date) -> int:
    """The calendar year in which the financial year holding `day` starts (2026 for 2026/27)."""
    return day.year if day.month >= 4 else day.year - 1


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 4, 1), date(year + 1, 3, 31)


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def month_starts(start: date, end: date) -> list[date]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _month_end(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1) - timedelta(days=1)


def team_subquery(client_field: str) -> Subquery:
    """The team of the client in `client_field` under TEAM_RULE: open cases first, newest first."""
    cases = (Case.objects.filter(client_id=OuterRef(client_field))
             .annotate(closed=Conditional(When(status=CaseStatus.CLOSED, then=Value(1)), default=Value(0),
                                    output_field=IntegerField()))
             .order_by("closed", "-opened_at", "-id").values("team_id")[:1])
    return Subquery(cases, output_field=IntegerField())


@dataclass(frozen=True)
class Filters:
    """What the forecast is cut to. `area` and `team`: an id, NONE for "No area"/"No team", or None for all."""

    year: int
    service_type: int | None = None
    area: int | str | None = None
    team: int | str | None = None


def _filter_area_team(queryset, filters: Filters, area_field: str, team_field: str):
    if filters.area == NONE:
        queryset = queryset.filter(**{f"{area_field}__isnull": True})
    elif filters.area is not None:
        queryset = queryset.filter(**{area_field: filters.area})
    if filters.team == NONE:
        queryset = queryset.filter(**{f"{team_field}__isnull": True})
    elif filters.team is not None:
        queryset = queryset.filter(**{team_field: filters.team})
    return queryset


# Cost of one package ---------------------------------------------------------------------------

class RateLookup:
    """Live rates by (provider, service type, band): dates and unit rates, sorted, for bisection."""

    def __init__(self, rows: Iterable[tuple[int, int, int, date, Decimal]]):
        self.dates: dict[tuple, list[date]] = defaultdict(list)
        self.rates: dict[tuple, list[Decimal]] = defaultdict(list)
        for provider, service, band, effective_from, rate in sorted(rows, key=lambda r: (r[:3], r[3])):
            self.dates[(provider, service, band)].append(effective_from)
            self.rates[(provider, service, band)].append(rate)

    @classmethod
    def load(cls) -> "RateLookup":
        return cls(Rate.objects.live().values_list("provider_id", "service_type_id", "band_id", "effective_from", "rate"))


def month_costs(*, first: date, last: date, units: Decimal, agreed_rate: Decimal | None,
                dates: list[date], rates: list[Decimal]) -> tuple[dict[date, Decimal], bool]:
    """Cost by month start of `units` a week from `first` to `last` inclusive: units × rate × days ÷ 7,
    split at month ends and rate changes, rounded half up once per month. The flag says some days
    had no rate in force (those days are not costed)."""
    raw: dict[date, Decimal] = {}
    unpriced = False
    for month in month_starts(first, last):
        start, end = max(first, month), min(last, _month_end(month))
        if agreed_rate is not None:
            raw[month] = units * agreed_rate * ((end - start).days + 1)
            continue
        total = ZERO
        i = bisect_right(dates, start)  # dates[i - 1] is in force on `start`
        piece = start
        while piece <= end:
            piece_end = min(end, dates[i] - timedelta(days=1)) if i < len(dates) else end
            if i == 0:
                unpriced = True
            else:
                total += units * rates[i - 1] * ((piece_end - piece).days + 1)
            piece, i = piece_end + timedelta(days=1), i + 1
        raw[month] = total
    return {month: to_pennies(amount / 7) for month, amount in raw.items()}, unpriced


# The report ------------------------------------------------------------------------------------

@dataclass
class ForecastRow:
    group: str
    actual: Decimal = ZERO
    committed: Decimal = ZERO
    provisional: Decimal = ZERO
    key: object = None

    @property
    def outturn(self) -> Decimal:
        """Paid so far plus the committed forecast: the expected spend of the year."""
        return self.actual + self.committed

    @property
    def with_provisional(self) -> Decimal:
        return self.outturn + self.provisional

    def add(self, kind: str, amount: Decimal) -> None:
        setattr(self, kind, getattr(self, kind) + amount)


@dataclass
class ForecastReport:
    year: int
    start: date  # first day of the financial year
    end: date  # its last day
    forecast_from: date  # commitments are costed from this day
    cells: dict[tuple, Decimal]  # (month, service type id, area id, team id, kind) -> amount
    names: dict[str, dict]  # "service", "area", "team" -> id -> name
    package_count: int = 0
    provisional_count: int = 0
    unpriced: list[str] = field(default_factory=list)  # references of packages with uncosted days

    @property
    def label(self) -> str:
        return year_label(self.year)

    @property
    def months(self) -> list[date]:
        return month_starts(self.start, self.end)

    def _rows(self, position: int, name_of, order=None) -> list[ForecastRow]:
        rows: dict = {}
        for key, amount in self.cells.items():
            group = key[position]
            rows.setdefault(group, ForecastRow(name_of(group), key=group)).add(key[4], amount)
        return sorted(rows.values(), key=order or (lambda r: (r.group == NO_AREA or r.group == NO_TEAM, r.group)))

    @property
    def by_month(self) -> list[ForecastRow]:
        rows = {m: ForecastRow(f"{m:%B %Y}", key=m) for m in self.months}
        for (month, *_, kind), amount in self.cells.items():
            rows[month].add(kind, amount)
        return list(rows.values())

    @property
    def by_service(self) -> list[ForecastRow]:
        return self._rows(1, lambda pk: self.names["service"].get(pk, NO_SERVICE))

    @property
    def by_area(self) -> list[ForecastRow]:
        return self._rows(2, lambda pk: self.names["area"].get(pk, NO_AREA))

    @property
    def by_team(self) -> list[ForecastRow]:
        return self._rows(3, lambda pk: self.names["team"].get(pk, NO_TEAM))

    @property
    def by_month_and_service(self) -> list[tuple[date, ForecastRow]]:
        rows: dict = {}
        for (month, service, _, _, kind), amount in self.cells.items():
            rows.setdefault((month, service), ForecastRow(self.names["service"].get(service, NO_SERVICE),
                                                          key=service)).add(kind, amount)
        return [(month, row) for (month, _), row in sorted(rows.items(), key=lambda i: (i[0][0], i[1].group))]

    @property
    def total(self) -> ForecastRow:
        row = ForecastRow("Total")
        for key, amount in self.cells.items():
            row.add(key[4], amount)
        return row


def _commitments(filters: Filters, start: date, end: date, cells: dict, report: ForecastReport) -> None:
    """Step 1 and 2: cost every approved or provisional package from `start` to `end` into `cells`."""
    packages = (CarePackage.objects
                .filter(status__in=[PackageStatus.APPROVED, PackageStatus.PROVISIONAL], start_date__lte=end)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
                .filter(Q(client__date_of_death__isnull=True) | Q(client__date_of_death__gte=start))
                .annotate(area=F("client__area_id"), team=team_subquery("client_id")))
    if filters.service_type is not None:
        packages = packages.filter(service_type_id=filters.service_type)
    packages = _filter_area_team(packages, filters, "area", "team")
    book = RateLookup.load()
    no_dates: list[date] = []
    for (pk, status, provider, service, band, units, agreed, first, last, died, area, team) in packages.values_list(
            "pk", "status", "provider_id", "service_type_id", "band_id", "units_per_week", "agreed_rate",
            "start_date", "end_date", "client__date_of_death", "area", "team").iterator(chunk_size=5000):
        kind = PROVISIONAL if status == PackageStatus.PROVISIONAL else COMMITTED
        first = max(first, start)
        last = min(d for d in (last, died, end) if d is not None)
        if first > last:
            continue
        key = (provider, service, band)
        costs, unpriced = month_costs(first=first, last=last, units=units, agreed_rate=agreed,
                                      dates=book.dates.get(key, no_dates), rates=book.rates.get(key, []))
        report.package_count += 1
        report.provisional_count += kind == PROVISIONAL
        if unpriced:
            report.unpriced.append(f"PKG-{pk:06d}")
        for month, amount in costs.items():
            if amount:
                cells[(month, service, area, team, kind)] += amount


def _actuals(filters: Filters, start: date, end: date, cells: dict) -> None:
    """Step 3: what was paid for care in the year: lines of paid claims by the month of the service,
    and scheduled payments of released runs shared between the months of their period by days."""
    lines = (ClaimLine.objects.filter(claim__status=ClaimStatus.PAID, service_date__range=(start, end))
             .annotate(area=F("client__area_id"), team=team_subquery("client_id")))
    if filters.service_type is not None:
        lines = lines.filter(service_type_id=filters.service_type)
    lines = _filter_area_team(lines, filters, "area", "team")
    for month, service, area, team, amount in (
            lines.annotate(month=TruncMonth("service_date")).values("month", "service_type_id", "area", "team")
            .annotate(amount=Sum("payable_amount")).values_list("month", "service_type_id", "area", "team", "amount")):
        if amount:
            cells[(_as_date(month), service, area, team, ACTUAL)] += to_pennies(amount)
    scheduled = (ScheduledPayment.objects
                 .filter(payment__payment_run__status=PaymentRunStatus.RELEASED, period_start__lte=end,
                         period_end__gte=start)
                 .annotate(area=F("package__client__area_id"), team=team_subquery("package__client_id")))
    if filters.service_type is not None:
        scheduled = scheduled.filter(package__service_type_id=filters.service_type)
    scheduled = _filter_area_team(scheduled, filters, "area", "team")
    for first, last, amount, service, area, team in scheduled.values_list(
            "period_start", "period_end", "amount", "package__service_type_id", "area", "team"):
        for month, part in share_by_month(first, last, amount).items():
            if start <= month <= end:
                cells[(month, service, area, team, ACTUAL)] += part


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def share_by_month(first: date, last: date, amount: Decimal) -> dict[date, Decimal]:
    """An amount for first..last shared between months by days, each part rounded half up, the
    rounding difference on the last month so the parts add up to the amount."""
    days = (last - first).days + 1
    months = month_starts(first, last)
    parts: dict[date, Decimal] = {}
    for month in months[:-1]:
        piece = (min(last, _month_end(month)) - max(first, month)).days + 1
        parts[month] = to_pennies(amount * piece / days)
    parts[months[-1]] = amount - sum(parts.values(), ZERO)
    return parts


def forecast(filters: Filters, today: date) -> ForecastReport:
    """The forecast for the filters' financial year as it stands on `today`: actuals for the whole
    year; commitments from today (from 1 April for a year still to come; none for a past year)."""
    start, end = year_bounds(filters.year)
    forecast_from = max(today, start)
    cells: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    names = {"service": dict(ServiceType.objects.values_list("pk", "name")),
             "area": dict(Area.objects.values_list("pk", "name")),
             "team": dict(Team.objects.values_list("pk", "name"))}
    report = ForecastReport(filters.year, start, end, forecast_from, cells, names)
    if forecast_from <= end:
        _commitments(filters, forecast_from, end, cells, report)
    _actuals(filters, start, end, cells)
    report.cells = dict(cells)
    return report
