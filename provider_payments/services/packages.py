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
    if to_status == PackageStatus.APPROVED:
        # A newly approved commitment is checked against the high-cost rules at once (the nightly
        # job catches rate and guide price changes later).
        from .exceptions import exceptions_detect_for_package

        exceptions_detect_for_package(package=package, actor=actor)
    return package


def _end_text(end_date: date | None) -> str:
    return f"{end_date:%d %B %Y}" if end_date else "no end date"


@transaction.atomic
def package_change_end(*, package: CarePackage, end_date: date, actor, reason: str) -> CarePackage:
    """Move the end date of an ended package (a death ends it sooner; a death recorded in error
    gives the old date back), with the reason, on its history and the client's timeline."""
    package = CarePackage.objects.select_for_update().select_related("client").get(pk=package.pk)
    if package.status != PackageStatus.ENDED:
        raise DomainError(f"Package {package.reference} is {package.get_status_display().lower()}: end it first")
    if not reason.strip():
        raise DomainError("Give the reason for changing the end date", field="reason")
    if end_date < package.start_date:
        raise DomainError("The end date must be on or after the start date", field="end_date")
    if end_date == package.end_date:
        return package
    old = package.end_date
    package.end_date = end_date
    package._change_reason = reason.strip()
    package.save(update_fields=["end_date"])
    client_timeline(package.client, "provider.package.end_changed",
                    f"{package.reference} now ends {_end_text(end_date)} (was {_end_text(old)})", actor,
                    old={"end_date": old.isoformat() if old else None},
                    new={"end_date": end_date.isoformat()}, body=reason.strip())
    return package


@transaction.atomic
def package_reinstate(*, package: CarePackage, to_status: str, end_date: date | None, actor,
                      reason: str) -> CarePackage:
    """Undo the end of a package ended because of a death recorded in error: back to the status and
    end date it had (CarePackage.REINSTATEMENTS), recorded on its history and the client's timeline."""
    package = CarePackage.objects.select_for_update().select_related("client").get(pk=package.pk)
    if to_status not in CarePackage.REINSTATEMENTS.get(package.status, set()):
        raise refuse_transition("Package", package.reference, package.get_status_display(),
                                PackageStatus(to_status).label if to_status in PackageStatus.values else to_status)
    if not reason.strip():
        raise DomainError("Give the reason for reinstating the package", field="reason")
    if end_date is not None and end_date < package.start_date:
        raise DomainError("The end date must be on or after the start date", field="end_date")
    old = {"status": package.status, "end_date": package.end_date.isoformat() if package.end_date else None}
    package.status, package.end_date = to_status, end_date
    package._change_reason = reason.strip()
    package.save(update_fields=["status", "end_date"])
    client_timeline(package.client, "provider.package.status",
                    f"{package.reference} reinstated: {PackageStatus(to_status).label.lower()}, {_end_text(end_date)}",
                    actor, old=old, new={"status": to_status, "end_date": end_date.isoformat() if end_date else None},
                    body=reason.strip())
    return package
