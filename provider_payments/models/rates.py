from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import BillingBasis, Rounding, UpliftMethod, UpliftStatus, Unit
from .providers import Provider


class ServiceType(models.Model):
    """A kind of commissioned care, its unit and how it is paid. `charging_service_code` names the
    income app's chargeable service whose non-residential charge is capped at this care's actual
    cost; `cost_centre` and `subjective_code` go on the finance journal."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    billing_basis = models.CharField(max_length=10, choices=BillingBasis.choices, default=BillingBasis.DELIVERED)
    charging_service_code = models.CharField(max_length=30, blank=True)
    cost_centre = models.CharField(max_length=20, default="ASC000")
    subjective_code = models.CharField(max_length=20, default="5000")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Band(models.Model):
    """A rate band (standard, complex, rural ...)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateQuerySet(models.QuerySet):
    def live(self):
        """Rates not withdrawn (a reversed uplift withdraws the rates it made)."""
        return self.filter(withdrawn_at__isnull=True)

    def in_force(self, on):
        """For each provider, service and band, the rate in force on a date is the live one with the
        latest `effective_from` on or before it; callers pick it with order_by('-effective_from')."""
        return self.live().filter(effective_from__lte=on)


class Rate(models.Model):
    """A unit rate for a provider, service type and band from a date until the next rate starts.

    A new rate never overwrites an old one: rates are only added, and withdrawn (never edited or
    deleted) when the uplift that made them is reversed.
    """

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="rates")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="rates")
    band = models.ForeignKey(Band, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    effective_from = models.DateField()
    uplift = models.ForeignKey("Uplift", on_delete=models.PROTECT, null=True, blank=True, related_name="rates")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    objects = RateQuerySet.as_manager()

    class Meta:
        ordering = ["provider__name", "service_type__name", "band__name", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "service_type", "band", "effective_from"],
                                    condition=Q(withdrawn_at__isnull=True), name="rate_one_live_per_date"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rate_positive"),
        ]
        indexes = [models.Index(fields=["provider", "service_type", "band", "effective_from"], name="rate_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.provider.name} {self.service_type.code} {self.band.code} £{self.rate} from {self.effective_from}"


class GuidePrice(models.Model):
    """The council's guide price per unit of a service type, from a date, for one area or (area
    empty) for every area (for high-cost exceptions). On a date the most specific price in force
    wins: the area's latest price from on or before that date, else the all-areas one
    (provider_payments.services.exceptions.guide_price_for)."""

    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="guide_prices")
    area = models.ForeignKey("casework.Area", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="guide_prices", help_text="Empty: every area")
    price = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    effective_from = models.DateField()

    class Meta:
        ordering = ["service_type__name", "area__name", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "effective_from"], condition=Q(area__isnull=True),
                                    name="guide_price_unique"),
            models.UniqueConstraint(fields=["service_type", "area", "effective_from"],
                                    condition=Q(area__isnull=False), name="guide_price_area_unique"),
            models.CheckConstraint(condition=Q(price__gt=0), name="guide_price_positive"),
        ]

    def __str__(self) -> str:
        scope = self.area.name if self.area_id else "all areas"
        return f"{self.service_type} ({scope}) £{self.price} from {self.effective_from}"


class ToleranceRule(models.Model):
    """How a monitored visit is paid, from a date (the council's contract terms, as data).

    A visit at least `tolerance_minutes` short of plan is paid on its actual minutes (rounded down
    to `round_to_minutes`); within the tolerance it is paid the planned minutes. A visit longer than
    planned is paid the planned minutes unless `pay_overrun` is set. A rule for a service type wins
    over the rule for all services.
    """

    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="tolerance_rules")
    effective_from = models.DateField()
    tolerance_minutes = models.PositiveIntegerField(default=5)
    round_to_minutes = models.PositiveIntegerField(default=1)
    pay_overrun = models.BooleanField(default=False)

    class Meta:
        ordering = ["effective_from"]

    def __str__(self) -> str:
        scope = self.service_type.code if self.service_type_id else "all services"
        return f"Tolerance {self.tolerance_minutes} min ({scope}) from {self.effective_from}"


class Uplift(models.Model):
    """An annual uplift of a cohort of rates: previewed, approved by a team leader, applied in one
    transaction, and reversible until a payment run has been prepared after it was applied."""

    ALLOWED_TRANSITIONS = {
        UpliftStatus.DRAFT: {UpliftStatus.APPROVED, UpliftStatus.CANCELLED},
        UpliftStatus.APPROVED: {UpliftStatus.APPLIED, UpliftStatus.CANCELLED},
        UpliftStatus.APPLIED: {UpliftStatus.REVERSED},
        UpliftStatus.REVERSED: set(),
        UpliftStatus.CANCELLED: set(),
    }

    name = models.CharField(max_length=200)
    effective_from = models.DateField()
    method = models.CharField(max_length=12, choices=UpliftMethod.choices)
    percentage = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    new_rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.HALF_UP)
    providers = models.ManyToManyField(Provider, blank=True, related_name="+", help_text="None chosen: every provider")
    service_types = models.ManyToManyField(ServiceType, blank=True, related_name="+", help_text="None chosen: every service")
    bands = models.ManyToManyField(Band, blank=True, related_name="+", help_text="None chosen: every band")
    status = models.CharField(max_length=10, choices=UpliftStatus.choices, default=UpliftStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from", "-id"]

    def __str__(self) -> str:
        return self.name

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())
