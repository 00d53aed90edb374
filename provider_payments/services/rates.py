"""Rate cards: adding a rate (never overwriting one), and finding the rate in force on a date.

A rate added by hand (`rate_change_request`) is a money control (RATE_CHANGE): it waits as an
approval request until a team leader other than who asked approves it, and only then is it on the
card. Uplifts add their rates through their own two-person approval.

`RateBook` loads the live rates of some providers once and answers "which rate on this date" by
bisection, so validating thousands of lines costs one query for the rates.
"""
from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from casework.models import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import ZERO, MoneyError, format_pounds, to_pennies
from casework.services import DomainError
from casework.services.controls import control_request_raise, register_control

from ..models import Band, GuidePrice, Provider, Rate, ServiceType
from .common import event, provider_subject

Key = tuple[int, int, int]  # provider, service type, band


class RateBook:
    def __init__(self, rates):
        self._dates: dict[Key, list[date]] = defaultdict(list)
        self._rates: dict[Key, list[Rate]] = defaultdict(list)
        for rate in sorted(rates, key=lambda r: (r.provider_id, r.service_type_id, r.band_id, r.effective_from)):
            key = (rate.provider_id, rate.service_type_id, rate.band_id)
            self._dates[key].append(rate.effective_from)
            self._rates[key].append(rate)

    @classmethod
    def for_providers(cls, provider_ids=None) -> "RateBook":
        rates = Rate.objects.live()
        if provider_ids is not None:
            rates = rates.filter(provider_id__in=list(provider_ids))
        return cls(rates.only("id", "provider_id", "service_type_id", "band_id", "rate", "effective_from"))

    def rate_on(self, key: Key, on: date) -> Rate | None:
        i = bisect_right(self._dates.get(key, []), on)
        return self._rates[key][i - 1] if i else None

    def changes_between(self, key: Key, start: date, end: date) -> list[date]:
        """Dates after `start` up to `end` on which a new rate starts."""
        return [d for d in self._dates.get(key, []) if start < d <= end]


@transaction.atomic
def rate_add(*, provider: Provider, service_type: ServiceType, band: Band, rate: Decimal, effective_from: date,
             actor, reason: str = "", uplift=None) -> Rate:
    """Add a rate from a date. An existing live rate for the same date is refused: rates are never
    overwritten; a correction is a new rate from a later date, or an uplift reversal. For the
    services that carry their own control (an approved uplift, an approved rate change request,
    reference data); a rate an officer adds by hand goes through `rate_change_request`."""
    rate = _check_rate(provider, service_type, band, rate, effective_from)
    new = Rate.objects.create(provider=provider, service_type=service_type, band=band, rate=rate,
                              effective_from=effective_from, created_by=actor, reason=reason, uplift=uplift)
    if uplift is None:
        event(provider, "provider.rate.added", f"{service_type.name} ({band.name}) £{rate} from {effective_from:%d %b %Y}",
              actor, new={"rate": str(rate), "service": service_type.code, "band": band.code,
                          "effective_from": effective_from.isoformat()})
    return new


def _check_rate(provider: Provider, service_type: ServiceType, band: Band, rate, effective_from: date) -> Decimal:
    try:
        rate = to_pennies(rate)
    except MoneyError as exc:
        raise DomainError(str(exc), field="rate") from exc
    if rate <= 0:
        raise DomainError("Enter a rate above zero", field="rate")
    if Rate.objects.live().filter(provider=provider, service_type=service_type, band=band,
                                  effective_from=effective_from).exists():
        raise DomainError(f"{provider.name} already has a {band.name.lower()} {service_type.name.lower()} rate from "
                          f"{effective_from:%d %B %Y}: rates are never overwritten", field="effective_from")
    return rate


def pending_rate_changes(provider: Provider):
    return ControlRequest.objects.filter(action=ControlAction.RATE_CHANGE, status=ControlRequestStatus.REQUESTED,
                                         payload__provider=provider.pk).order_by("pk")


@transaction.atomic
def rate_change_request(*, provider: Provider, service_type: ServiceType, band: Band, rate: Decimal,
                        effective_from: date, actor, reason: str = "") -> ControlRequest:
    """Ask for a rate to be added by hand. Nothing is on the card until a team leader other than
    who asked approves it (casework:control_request_detail); the rate is then added as asked."""
    rate = _check_rate(provider, service_type, band, rate, effective_from)
    if not reason.strip():
        raise DomainError("Give the reason for the new rate, for the team leader who will approve it", field="reason")
    same = [r for r in pending_rate_changes(provider) if r.payload.get("service_type") == service_type.pk
            and r.payload.get("band") == band.pk and r.payload.get("effective_from") == effective_from.isoformat()]
    if same:
        raise DomainError(f"A {band.name.lower()} {service_type.name.lower()} rate from {effective_from:%d %B %Y} is "
                          f"already waiting for approval ({same[0].reference})", field="effective_from")
    current = rate_in_force(provider, service_type, band, effective_from)
    label = f"{service_type.name} ({band.name})"
    request = control_request_raise(
        action=ControlAction.RATE_CHANGE, amount=rate, subject=provider_subject(provider),
        summary=f"{label} rate {format_pounds(rate)} from {effective_from.day} {effective_from:%B %Y}"
                + (f" (now {format_pounds(current.rate)})" if current else " (no rate before)"),
        reason=reason, actor=actor,
        payload={"provider": provider.pk, "service_type": service_type.pk, "band": band.pk, "rate": str(rate),
                 "effective_from": effective_from.isoformat()},
        changes=[[f"{label} rate from {effective_from.day} {effective_from:%B %Y}", str(current.rate) if current else "",
                  str(rate)]])
    event(provider, "provider.rate.requested", f"{label} £{rate} from {effective_from:%d %b %Y} asked for "
          f"({request.reference})", actor, new={"rate": str(rate), "request": request.pk})
    return request


def _execute_rate_change(request: ControlRequest, approver) -> str:
    data = request.payload
    provider = Provider.objects.get(pk=data["provider"])
    new = rate_add(provider=provider, service_type=ServiceType.objects.get(pk=data["service_type"]),
                   band=Band.objects.get(pk=data["band"]), rate=Decimal(data["rate"]),
                   effective_from=date.fromisoformat(data["effective_from"]), actor=request.requested_by,
                   reason=f"{request.reason} (approved by {approver.get_username()}, {request.reference})"[:300])
    return f"Rate {new.pk}"


register_control(ControlAction.RATE_CHANGE, _execute_rate_change)


def rate_in_force(provider: Provider, service_type: ServiceType, band: Band, on: date) -> Rate | None:
    return (Rate.objects.in_force(on).filter(provider=provider, service_type=service_type, band=band)
            .order_by("-effective_from").first())


def guide_price_on(service_type: ServiceType, on: date) -> Decimal | None:
    price = GuidePrice.objects.filter(service_type=service_type, area__isnull=True,
                                      effective_from__lte=on).order_by("-effective_from").first()
    return price.price if price else None


def days(start: date, end: date) -> int:
    return (end - start).days + 1


def commissioned_cost(package, start: date, end: date, book: RateBook) -> Decimal:
    """The package's commissioned cost over start..end (inclusive), clipped to the package's dates and
    the client's death (and any notice period after it), split at every rate change: units a week ×
    days ÷ 7 × rate, rounded half up to the penny on each piece (WE-11)."""
    from .notice import package_paid_through

    start = max(start, package.start_date)
    last = min(x for x in (end, package.end_date, package_paid_through(package)) if x is not None)
    if start > last:
        return ZERO
    if package.agreed_rate is not None:
        return to_pennies(package.units_per_week * days(start, last) * package.agreed_rate / 7)
    key = (package.provider_id, package.service_type_id, package.band_id)
    bounds = [start] + book.changes_between(key, start, last)
    total = ZERO
    for i, piece_start in enumerate(bounds):
        piece_end = bounds[i + 1] - timedelta(days=1) if i + 1 < len(bounds) else last
        rate = book.rate_on(key, piece_start)
        if rate is not None:
            total += to_pennies(package.units_per_week * days(piece_start, piece_end) * rate.rate / 7)
    return total


def package_unit_rate(package, on: date, book: RateBook | None = None) -> Decimal | None:
    if package.agreed_rate is not None:
        return package.agreed_rate
    key = (package.provider_id, package.service_type_id, package.band_id)
    rate = (book or RateBook.for_providers([package.provider_id])).rate_on(key, on)
    return rate.rate if rate else None


def package_cost_per_week(package, on: date, book: RateBook | None = None) -> Decimal | None:
    rate = package_unit_rate(package, on, book)
    return None if rate is None else to_pennies(package.units_per_week * rate)
