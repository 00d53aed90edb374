"""When a provider's care ends after a client's death: the date of death plus the notice period
in force for the service on that date (DeathNoticePeriod). Validation, the overpayment check, the
scheduled payments and the death handler all ask here, so they agree on one date."""
from datetime import date, timedelta

from ..models import DeathNoticePeriod, ServiceType


class NoticeBook:
    """Every notice-period rule, loaded once (a small table): the rule for a service type wins over
    the rule for its billing basis; with no rule, care ends on the date of death."""

    def __init__(self):
        self._rules = sorted(DeathNoticePeriod.objects.all(), key=lambda r: r.effective_from)
        self._services: dict[int, ServiceType] = {}

    def _service(self, service_type) -> ServiceType:
        if isinstance(service_type, ServiceType):
            return service_type
        if service_type not in self._services:
            self._services[service_type] = ServiceType.objects.get(pk=service_type)
        return self._services[service_type]

    def rule(self, service_type, date_of_death: date) -> DeathNoticePeriod | None:
        service = self._service(service_type)
        in_force = [r for r in self._rules if r.effective_from <= date_of_death]
        own = [r for r in in_force if r.service_type_id == service.pk]
        general = [r for r in in_force if r.service_type_id is None and r.billing_basis == service.billing_basis]
        return (own or general or [None])[-1]

    def days(self, service_type, date_of_death: date) -> int:
        found = self.rule(service_type, date_of_death)
        return found.days if found else 0

    def care_ends(self, service_type, date_of_death: date) -> date:
        """The last day the provider is paid for: the date of death plus the notice period."""
        return date_of_death + timedelta(days=self.days(service_type, date_of_death))


def care_ends(service_type, date_of_death: date) -> date:
    return NoticeBook().care_ends(service_type, date_of_death)


def package_paid_through(package) -> date | None:
    """The last day a package can be paid for because of its client's death (None: alive)."""
    died = package.client.date_of_death
    return None if died is None else care_ends(package.service_type_id, died)


def notice_text(days: int, date_of_death: date) -> str:
    if days == 0:
        return f"the date of death, {date_of_death:%-d %B %Y}"
    return f"{days} days' notice after the death on {date_of_death:%-d %B %Y}"
