from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Client
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import ClaimSource, ClaimStatus, DisputeStatus, LineResult
from .packages import CarePackage
from .providers import Provider
from .rates import Rate, ServiceType


class Claim(models.Model):
    """A provider's claim for a period: invoice lines or monitored visits, each validated against
    the commissioned care. Status changes only through claim_transition."""

    ALLOWED_TRANSITIONS = {
        ClaimStatus.VALIDATED: {ClaimStatus.APPROVED, ClaimStatus.WITHDRAWN},
        ClaimStatus.APPROVED: {ClaimStatus.PAID, ClaimStatus.VALIDATED},
        ClaimStatus.PAID: set(),
        ClaimStatus.WITHDRAWN: set(),
    }

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="claims")
    reference = models.CharField("provider's invoice or claim reference", max_length=40)
    source = models.CharField(max_length=10, choices=ClaimSource.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.VALIDATED)
    file = models.FileField(upload_to="provider_claims/%Y/%m/", blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    commissioned_cost = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="claims")

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "reference"], name="claim_unique_reference")]

    def __str__(self) -> str:
        return f"{self.provider.name} claim {self.reference}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class ClaimLine(models.Model):
    """One line of a claim as the provider sent it (left as sent), and its validation result:
    accepted, adjusted (payable differs from claimed, with the reason) or rejected (with the reason).
    An officer may override a result with a note; the original result is kept beside it."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    row_number = models.PositiveIntegerField()
    client_reference = models.CharField(max_length=20)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    service_code = models.CharField(max_length=30)
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    service_date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    planned_minutes = models.PositiveIntegerField(null=True, blank=True)
    actual_minutes = models.PositiveIntegerField(null=True, blank=True)
    units = models.DecimalField(max_digits=10, decimal_places=4)
    unit_rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    package = models.ForeignKey(CarePackage, on_delete=models.PROTECT, null=True, blank=True, related_name="claim_lines")
    rate = models.ForeignKey(Rate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    result = models.CharField(max_length=10, choices=LineResult.choices)
    reason = models.CharField(max_length=300, blank=True)
    payable_units = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    payable_rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)
    payable_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)
    duplicate_key = models.CharField(max_length=80, blank=True)
    validated_result = models.CharField(max_length=10, choices=LineResult.choices, blank=True,
                                        help_text="The engine's result when an officer overrode it")
    override_note = models.CharField(max_length=300, blank=True)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")

    class Meta:
        ordering = ["claim", "row_number"]
        constraints = [models.UniqueConstraint(fields=["claim", "row_number"], name="claimline_unique_row")]
        indexes = [
            models.Index(fields=["duplicate_key"], name="claimline_duplicate_idx"),
            models.Index(fields=["client", "service_date"], name="claimline_client_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference} row {self.row_number}"

    @property
    def change(self):
        return self.payable_amount - self.amount


class Dispute(models.Model):
    """A provider disputes adjusted or rejected lines: notes, evidence, and an outcome. An upheld
    outcome's amount is paid on the provider's next payment run. Status changes only through
    dispute_transition."""

    ALLOWED_TRANSITIONS = {
        DisputeStatus.OPEN: {DisputeStatus.UNDER_REVIEW, DisputeStatus.UPHELD, DisputeStatus.NOT_UPHELD},
        DisputeStatus.UNDER_REVIEW: {DisputeStatus.UPHELD, DisputeStatus.NOT_UPHELD},
        DisputeStatus.UPHELD: set(),
        DisputeStatus.NOT_UPHELD: set(),
    }

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="disputes")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="disputes")
    lines = models.ManyToManyField(ClaimLine, related_name="disputes")
    reason = models.TextField()
    status = models.CharField(max_length=15, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    outcome_amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    outcome_note = models.TextField(blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="disputes",
                                help_text="The payment that paid the upheld amount")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=~Q(status=DisputeStatus.UPHELD) | Q(outcome_amount__gt=0), name="dispute_upheld_has_amount")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"DSP-{self.pk:06d}" if self.pk else "DSP-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class DisputeNote(models.Model):
    """A note or piece of evidence on a dispute (the file goes through the storage API)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    evidence = models.FileField(upload_to="provider_disputes/%Y/%m/", blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
