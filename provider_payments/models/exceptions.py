"""High-cost exceptions: care packages a resource management officer challenges.

A package becomes an exception when one of the rules in ExceptionRule fires for it (see
provider_payments/services/exceptions.py). One exception is open per package at a time; each rule
that fired is one HighCostExceptionTrigger row on it, so an exception is unique per package and
rule while it is open. The officer moves it open → under review → negotiating → closed with an
outcome (a saving, or no saving with a reason from NoSavingReason) through exception_transition.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from .packages import CarePackage
from .providers import Provider


class ExceptionRule(models.TextChoices):
    OVER_GUIDE = "over_guide", "Weekly cost above the guide price"
    NON_CONTRACTED = "non_contracted", "Provider not on contract"
    URGENT_PLACEMENT = "urgent_placement", "Urgent residential placement above the guide price"
    INCREASE = "increase", "Cost increased on the previous version"
    RESIDENTIAL_SUPPORT = "residential_support", "Extra support within a residential placement"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    UNDER_REVIEW = "under_review", "Under review"
    NEGOTIATING = "negotiating", "Negotiating with the provider"
    CLOSED = "closed", "Closed"


class ExceptionOutcome(models.TextChoices):
    SAVING = "saving", "Saving achieved"
    NO_SAVING = "no_saving", "No saving"


class ProviderContract(models.Model):
    """Whether a provider is on the council's contract (framework or block contract) from a date.

    A provider with no row is taken to be contracted: the council records the spot-purchase
    (non-contracted) providers and the dates they joined or left a contract. Rows are only added."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="contract_statuses")
    contracted = models.BooleanField()
    effective_from = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider__name", "effective_from"]
        constraints = [models.UniqueConstraint(fields=["provider", "effective_from"], name="provider_contract_unique")]

    def __str__(self) -> str:
        state = "contracted" if self.contracted else "not contracted"
        return f"{self.provider.name} {state} from {self.effective_from}"


class UrgentPlacement(models.Model):
    """Records that a package was placed urgently (out of hours, hospital discharge, breakdown of
    care), so it is challenged when its cost is above the guide price."""

    package = models.OneToOneField(CarePackage, on_delete=models.PROTECT, related_name="urgent_placement")
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Urgent placement {self.package.reference}"


class NoSavingReason(models.Model):
    """Why a challenge ended without a saving (data a finance administrator maintains)."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class HighCostExceptionQuerySet(models.QuerySet):
    def open(self):
        """Exceptions not yet closed: the resource management officers' challenge queue."""
        return self.exclude(status=ExceptionStatus.CLOSED)

    def with_saving(self):
        """Closed exceptions whose challenge achieved a saving (the savings report)."""
        return self.filter(status=ExceptionStatus.CLOSED, outcome=ExceptionOutcome.SAVING)


class HighCostException(models.Model):
    """A care package challenged for its cost.

    `weekly_cost` and `weekly_guide` are the package's cost a week and the guide price for its
    units a week when the exception was raised (the guide is empty when no guide price is in
    force). The outcome fields are filled when it closes: for a saving, the agreed
    `new_weekly_cost` from `saving_from`, the weekly saving and the saving over the following 52
    weeks or to the package's end date if sooner (`saving_days` days: weekly saving × days ÷ 7,
    rounded half up to the penny); for no saving, the reason.
    """

    ALLOWED_TRANSITIONS = {
        ExceptionStatus.OPEN: {ExceptionStatus.UNDER_REVIEW},
        ExceptionStatus.UNDER_REVIEW: {ExceptionStatus.NEGOTIATING, ExceptionStatus.CLOSED},
        ExceptionStatus.NEGOTIATING: {ExceptionStatus.CLOSED},
        ExceptionStatus.CLOSED: set(),
    }

    package = models.ForeignKey(CarePackage, on_delete=models.PROTECT, related_name="high_cost_exceptions")
    case = models.ForeignKey("casework.Case", on_delete=models.PROTECT, related_name="high_cost_exceptions")
    area = models.ForeignKey("casework.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=15, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    weekly_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    weekly_guide = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    detected_on = models.DateField()
    detected_at = models.DateTimeField(auto_now_add=True)

    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    review = models.TextField(blank=True)
    alternative = models.TextField("alternative proposed", blank=True)
    proposed_weekly_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True,
                                               blank=True)

    outcome = models.CharField(max_length=10, choices=ExceptionOutcome.choices, blank=True)
    new_weekly_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    saving_from = models.DateField(null=True, blank=True)
    saving_days = models.PositiveIntegerField(null=True, blank=True)
    weekly_saving = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    full_year_saving = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    no_saving_reason = models.ForeignKey(NoSavingReason, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="exceptions")
    outcome_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    closed_on = models.DateField(null=True, blank=True)

    objects = HighCostExceptionQuerySet.as_manager()

    class Meta:
        ordering = ["-detected_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["package"], condition=~Q(status="closed"),
                                    name="high_cost_exception_one_open_per_package"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(outcome="saving", new_weekly_cost__isnull=False,
                                                  weekly_saving__gt=0, full_year_saving__isnull=False)
                | Q(outcome="no_saving", no_saving_reason__isnull=False),
                name="high_cost_exception_closed_has_outcome"),
        ]
        indexes = [models.Index(fields=["status", "detected_on"], name="hce_status_idx"),
                   models.Index(fields=["closed_on"], name="hce_closed_idx")]

    def __str__(self) -> str:
        return f"{self.reference} on {self.package.reference}"

    @property
    def reference(self) -> str:
        return f"HCE-{self.pk:06d}" if self.pk else "HCE-new"

    @property
    def over_guide(self):
        return None if self.weekly_guide is None else self.weekly_cost - self.weekly_guide

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class HighCostExceptionTrigger(models.Model):
    """One rule that fired for an exception, with what it saw (cost a week, guide, previous cost)."""

    exception = models.ForeignKey(HighCostException, on_delete=models.PROTECT, related_name="triggers")
    rule = models.CharField(max_length=20, choices=ExceptionRule.choices)
    detail = models.CharField(max_length=300)
    weekly_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    weekly_guide = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    previous_weekly_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True,
                                               blank=True)
    detected_on = models.DateField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["detected_at", "id"]
        constraints = [models.UniqueConstraint(fields=["exception", "rule"], name="hce_trigger_one_per_rule")]

    def __str__(self) -> str:
        return f"{self.exception.reference}: {self.get_rule_display()}"


class HighCostExceptionNote(AppendOnlyModel):
    """A dated note of the review or the negotiation with the provider (append-only)."""

    exception = models.ForeignKey(HighCostException, on_delete=models.PROTECT, related_name="notes")
    noted_on = models.DateField(help_text="The day of the conversation or the review")
    text = models.TextField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["noted_on", "id"]

    def __str__(self) -> str:
        return f"{self.exception.reference} note {self.noted_on}"
