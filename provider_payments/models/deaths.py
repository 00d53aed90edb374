from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..constants import BillingBasis
from .rates import ServiceType


class DeathNoticePeriod(models.Model):
    """How long a provider is still paid after a client dies, from a date: the contract's notice
    period in days after the date of death. Care ends on the date of death plus these days (0: on
    the date of death). A rule names a billing basis (care homes are paid on schedule, care at home
    is claimed as delivered) and may name one service type of that basis, whose own rule wins.
    The rule used is the one in force on the date of death."""

    billing_basis = models.CharField(max_length=10, choices=BillingBasis.choices)
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="death_notice_periods",
                                     help_text="Leave blank for every service paid on this basis")
    effective_from = models.DateField()
    days = models.PositiveSmallIntegerField(default=0, help_text="Days paid after the date of death")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["billing_basis", "service_type__name", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["billing_basis", "effective_from"], condition=Q(service_type__isnull=True),
                                    name="death_notice_basis_once"),
            models.UniqueConstraint(fields=["service_type", "effective_from"], condition=Q(service_type__isnull=False),
                                    name="death_notice_service_once"),
        ]

    def __str__(self) -> str:
        scope = self.service_type.name if self.service_type_id else self.get_billing_basis_display()
        return f"{scope}: {self.days} days after death, from {self.effective_from:%-d %B %Y}"

    def clean(self) -> None:
        if self.service_type_id and self.service_type.billing_basis != self.billing_basis:
            raise ValidationError({"service_type": "The service type is paid on another basis"})
