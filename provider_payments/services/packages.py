"""Care packages: the council's commitments. Created provisional, approved, ended; every change on
the package's history and the client's timeline."""
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from casework.money import format_pounds
from casework.services import DomainError

from ..constants import PackageStatus, Unit
from ..models import Band, CarePackage, Provider, ServiceType
from .common import client_timeline, refuse_transition
from .rates import package_cost_per_week


def units_from_pattern(pattern: list[dict], unit: str) -> Decimal:
    """Units a week from a weekly visit pattern: hours for an hourly service, else visits."""
    if unit == Unit.HOUR:
        return (Decimal(sum(int(v["minutes"]) for v in pattern)) / 60).quantize(Decimal("0.01"))
    return Decimal(len(pattern))


def _check_pattern(pattern: list[dict]) -> None:
    for i, visit in enumerate(pattern, start=1):
        try:
            weekday, minutes = int(visit["weekday"]), int(visit["minutes"])
            hours, mins = (int(p) for p in str(visit.get("start", "00:00")).split(":"))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise DomainError(f"Visit {i} of the pattern needs a weekday (0-6), a start (HH:MM) and minutes",
                              field="visit_pattern") from exc
        if not (0 <= weekday <= 6 and 0 < minutes <= 24 * 60 and 0 <= hours < 24 and 0 <= mins < 60):
            raise DomainError(f"Visit {i} of the pattern is not a real weekday, time and length", field="visit_pattern")


@transaction.atomic
def package_create(*, client, provider: Provider, service_type: ServiceType, band: Band, start_date: date, actor,
                   units_per_week: Decimal | None = None, visit_pattern: list | None = None,
                   agreed_rate: Decimal | None = None, agreed_rate_reason: str = "",
                   end_date: date | None = None) -> CarePackage:
    visit_pattern = visit_pattern or []
    if visit_pattern:
        _check_pattern(visit_pattern)
        units_per_week = units_from_pattern(visit_pattern, service_type.unit)
    if units_per_week is None or units_per_week <= 0:
        raise DomainError("Enter the units a week, or a weekly pattern of visits", field="units_per_week")
    if agreed_rate is not None and not agreed_rate_reason.strip():
        raise DomainError("Give the reason for the agreed individual rate", field="agreed_rate_reason")
    if agreed_rate is not None and agreed_rate <= 0:
        raise DomainError("Enter an agreed rate above zero", field="agreed_rate")
    if end_date and end_date < start_date:
        raise DomainError("The end date must be on or after the start date", field="end_date")
    if client.date_of_death and start_date > client.date_of_death:
        raise DomainError("The package cannot start after the client's death", field="start_date")
    package = CarePackage.objects.create(
        client=client, provider=provider, service_type=service_type, band=band, units_per_week=units_per_week,
        visit_pattern=visit_pattern, agreed_rate=agreed_rate, agreed_rate_reason=agreed_rate_reason.strip(),
        start_date=start_date, end_date=end_date, created_by=actor)
    client_timeline(client, "provider.package.created",
                    f"{package.reference}: {service_type.name} from {provider.name}, {units_per_week} "
                    f"{service_type.get_unit_display().lower()}s a week from {start_date:%d %B %Y} (provisional)",
                    actor, new={"package": package.pk})
    return package


@transaction.atomic
def package_transition(*, package: CarePackage, to_status: str, actor, end_date: date | None = None,
                       reason: str = "") -> CarePackage:
    """The one way a package changes status. Ending needs an end date."""
    package = CarePackage.objects.select_for_update().select_related("client", "service_type").get(pk=package.pk)
    if package.status == to_status:
        return package
    if not package.can_transition_to(to_status):
        raise refuse_transition("Package", package.reference, package.get_status_display(),
                                PackageStatus(to_status).label)
    fields = ["status"]
    if to_status == PackageStatus.ENDED:
        end_date = end_date or package.end_date
        if end_date is None:
            raise DomainError("Enter the date the package ends", field="end_date")
        if end_date < package.start_date:
            raise DomainError("The end date must be on or after the start date", field="end_date")
        package.end_date = end_date
        fields.append("end_date")
    old = package.status
    package.status = to_status
    package._change_reason = reason
    package.save(update_fields=fields)
    cost = package_cost_per_week(package, package.start_date)
    client_timeline(package.client, "provider.package.status",
                    f"{package.reference} {PackageStatus(to_status).label.lower()}"
                    + (f" (ends {package.end_date:%d %B %Y})" if to_status == PackageStatus.ENDED else "")
                    + (f", {format_pounds(cost)} a week" if cost is not None else ""),
                    actor, old={"status": old}, new={"status": to_status}, body=reason)
    return package
