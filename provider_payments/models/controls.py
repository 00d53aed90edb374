"""The records behind provider payments' money controls.

- `ClaimLineOverride`: every officer's override of a claim line, as made (before and after, why,
  who and when), with the approval request and its approver when it needed a second person.
- `PaymentRunExceptionsOpened`: who opened a payment run's exceptions, and when; the run is
  released only by someone who has opened them since it was prepared.
- `PaymentFlagRule`: when a provider's payment in a run is flagged as unusual (data with an
  effective date, changed by adding a row).
"""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from casework.models import ControlRequest
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import LineResult
from .claims import Claim, ClaimLine
from .payments import PaymentRun


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class ClaimLineOverride(AppendOnlyModel):
    """One override of a claim line's result, never changed. The line carries its current result;
    its history, and who changed it, is here. An override that needed a second person (paying more
    than was claimed, or more than the line's commissioned cost and the tolerance) names its
    approval request and approver; one done alone leaves them blank."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="overrides")
    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="overrides")
    result_before = models.CharField(max_length=10, choices=LineResult.choices)
    payable_before = _money()
    result = models.CharField(max_length=10, choices=LineResult.choices)
    payable_amount = _money()
    note = models.CharField(max_length=300)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(help_text="When it was made, or asked for when it needed approval")
    request = models.ForeignKey(ControlRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["made_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(payable_amount__gte=0), name="claimlineoverride_not_negative"),
            models.CheckConstraint(condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("made_by")),
                                   name="claimlineoverride_approver_not_maker"),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference} row {self.line.row_number}: {self.result_before} -> {self.result}"

    @property
    def change(self) -> Decimal:
        return self.payable_amount - self.payable_before


class PaymentRunExceptionsOpened(AppendOnlyModel):
    """A person opened the exceptions of a payment run (its unusual payments, overridden lines and
    upheld disputes). Release checks that its approver has, after the run was prepared."""

    payment_run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="exception_openings")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["opened_at", "id"]
        verbose_name_plural = "payment run exceptions opened"

    def __str__(self) -> str:
        return f"{self.payment_run.reference} exceptions opened by {self.opened_by}"


class PaymentFlagRule(models.Model):
    """From `effective_from`, a provider's payment in a run is flagged on the approval page when it
    is more than `ratio` times its usual payment: the median of its payments in its last
    `usual_runs` runs before this one. The rule in force on the run's payment date applies."""

    usual_runs = models.PositiveIntegerField(default=6, validators=[MinValueValidator(1)],
                                             help_text="How many of the provider's previous runs make its usual")
    ratio = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1.50"),
                                validators=[MinValueValidator(Decimal("1.00"))],
                                help_text="Flag a payment more than this many times the usual")
    effective_from = models.DateField(unique=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(usual_runs__gte=1), name="paymentflagrule_runs_positive"),
            models.CheckConstraint(condition=Q(ratio__gte=1), name="paymentflagrule_ratio_at_least_one"),
        ]

    def __str__(self) -> str:
        return f"Flag above {self.ratio} × the median of the last {self.usual_runs} runs, from {self.effective_from}"
