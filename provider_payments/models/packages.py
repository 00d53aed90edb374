from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.models import Client
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import PackageStatus
from .providers import Provider
from .rates import Band, ServiceType


class CarePackageQuerySet(models.QuerySet):
    def commissioned_on(self, on):
        """Approved (or since ended) packages covering a date: the council's commitments that day."""
        return self.filter(status__in=[PackageStatus.APPROVED, PackageStatus.ENDED], start_date__lte=on).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=on))


class CarePackage(models.Model):
    """Care the council commissions from a provider for a client: units a week (or a weekly pattern
    of visits), paid at the provider's card rate for the band on each date, or at an agreed
    individual rate with its reason. Every change is kept (history) and written to the client's
    timeline; status changes only through package_transition.

    `visit_pattern` is a list of {"weekday": 0-6 (Monday 0), "start": "HH:MM", "minutes": n}.
    """

    ALLOWED_TRANSITIONS = {
        PackageStatus.PROVISIONAL: {PackageStatus.APPROVED, PackageStatus.ENDED},
        PackageStatus.APPROVED: {PackageStatus.ENDED},
        PackageStatus.ENDED: set(),
    }
    #: Back from ended only to undo an end made because of a death recorded in error
    #: (provider_payments.services.packages.package_reinstate).
    REINSTATEMENTS = {PackageStatus.ENDED: {PackageStatus.PROVISIONAL, PackageStatus.APPROVED}}

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="care_packages")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="packages")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="packages")
    band = models.ForeignKey(Band, on_delete=models.PROTECT, related_name="packages")
    units_per_week = models.DecimalField(max_digits=8, decimal_places=2)
    visit_pattern = models.JSONField(default=list, blank=True)
    agreed_rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    agreed_rate_reason = models.CharField(max_length=300, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=PackageStatus.choices, default=PackageStatus.PROVISIONAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = CarePackageQuerySet.as_manager()

    class Meta:
        ordering = ["client__last_name", "start_date", "id"]
        indexes = [models.Index(fields=["client", "provider", "service_type"], name="package_lookup_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(agreed_rate__isnull=True) | ~Q(agreed_rate_reason=""),
                                   name="package_agreed_rate_has_reason"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="package_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.service_type.name} for {self.client.full_name}"

    @property
    def reference(self) -> str:
        return f"PKG-{self.pk:06d}" if self.pk else "PKG-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())

    def covers(self, on) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)
