"""Write-offs and the limitation rule.

A write-off request names the invoices it covers (one `WriteOffLine` per invoice, with the amount
written off from it); its amount is the sum of the lines. Who may approve depends on the amount,
through `WriteOffLevel` rows (data, with effective dates). An approved request posts one ledger
`write_off` entry and becomes `posted`; only posted lines reduce what an invoice still owes.
"""
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from casework.models import Client
from casework.roles import Role

from .billing import Invoice, money_field

#: The Django group, granted by a system administrator, whose members may approve a write-off of
#: any amount (the issue's "manager" level: in practice the head of finance). It is not a Role:
#: it adds approval authority to a user who already holds a role.
UNLIMITED_APPROVER_GROUP = "Write-off approver (unlimited)"


class WriteOffReason(models.TextChoices):
    UNECONOMICAL = "uneconomical", "Uneconomical to pursue"
    STATUTE_BARRED = "statute_barred", "Statute barred"
    DECEASED_NO_ESTATE = "deceased_no_estate", "Deceased with no estate"
    HARDSHIP = "hardship", "Hardship"
    UNTRACEABLE = "untraceable", "Untraceable"


class WriteOffStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    POSTED = "posted", "Written off"


APPROVER_GROUP_CHOICES = [(Role.INCOME_OFFICER.value, Role.INCOME_OFFICER.value),
                          (Role.TEAM_LEADER.value, Role.TEAM_LEADER.value),
                          (UNLIMITED_APPROVER_GROUP, UNLIMITED_APPROVER_GROUP)]


class LimitationRule(models.Model):
    """How long a care charge stays recoverable (DR-03: six years from the day it fell due) and how
    many months before the last day an invoice is flagged. The rule in force on a date applies."""

    years = models.PositiveSmallIntegerField(default=6)
    warning_months = models.PositiveSmallIntegerField(default=6)
    effective_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.years} years, warn {self.warning_months} months ahead (from {self.effective_from:%d %B %Y})"


class LimitationWarningLevel(models.Model):
    """How many days before an invoice's last day to claim (DR-03) the case officer is given a task
    to act on it. The levels in force on a date are those of the latest `effective_from` on or before
    it; an `urgent` level's task is shown red and first."""

    effective_from = models.DateField()
    days_before = models.PositiveIntegerField()
    urgent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-effective_from", "-days_before"]
        constraints = [models.UniqueConstraint(fields=["effective_from", "days_before"],
                                               name="limitation_warning_level_unique")]

    def __str__(self) -> str:
        return f"{self.days_before} days before the last day to claim{' (urgent)' if self.urgent else ''}"


class WriteOffLevel(models.Model):
    """Holders of `group_name` (a role's group, or UNLIMITED_APPROVER_GROUP) may approve write-offs
    up to `maximum_amount` (blank: any amount). The limit is on the total written off for one
    client over `period_days` (this request and those approved in the period), not on each
    request, so a debt cannot be split into requests under it. The rows in force are, per group,
    the latest with `effective_from` on or before the decision date."""

    group_name = models.CharField(max_length=150, choices=APPROVER_GROUP_CHOICES)
    maximum_amount = money_field(null=True, blank=True, help_text="Blank for no limit")
    period_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1)],
        help_text="The limit counts what was written off for the client over this many days")
    effective_from = models.DateField()

    class Meta:
        ordering = ["group_name", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["group_name", "effective_from"], name="writeofflevel_unique_from"),
            models.CheckConstraint(condition=Q(maximum_amount__isnull=True) | Q(maximum_amount__gt=0),
                                   name="writeofflevel_positive"),
            models.CheckConstraint(condition=Q(period_days__gte=1), name="writeofflevel_period_positive"),
        ]

    def __str__(self) -> str:
        limit = "any amount" if self.maximum_amount is None else f"£{self.maximum_amount:,.2f}"
        return f"{self.group_name}: {limit} in {self.period_days} days (from {self.effective_from:%d %B %Y})"


class WriteOffRequest(models.Model):
    """A request to write off part or all of a client's invoices. Status changes only through
    debt.services.writeoffs.writeoff_transition, which checks ALLOWED_TRANSITIONS."""

    ALLOWED_TRANSITIONS = {
        WriteOffStatus.REQUESTED: {WriteOffStatus.APPROVED, WriteOffStatus.REJECTED},
        WriteOffStatus.APPROVED: {WriteOffStatus.POSTED},
        WriteOffStatus.REJECTED: set(),
        WriteOffStatus.POSTED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="write_off_requests")
    amount = money_field()
    reason = models.CharField(max_length=30, choices=WriteOffReason.choices)
    note = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)
    ledger_entry = models.OneToOneField("casework.LedgerEntry", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="write_off")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_positive"),
            models.CheckConstraint(condition=~Q(status=WriteOffStatus.POSTED) | Q(ledger_entry__isnull=False),
                                   name="writeoff_posted_has_entry"),
        ]
        indexes = [models.Index(fields=["status"], name="writeoff_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"WO-{self.pk:06d}" if self.pk else "WO-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class WriteOffLine(models.Model):
    """How much of one invoice a request writes off. Counts against the invoice only once posted."""

    request = models.ForeignKey(WriteOffRequest, on_delete=models.PROTECT, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="write_off_lines")
    amount = money_field()

    class Meta:
        ordering = ["request", "invoice__due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "invoice"], name="writeoffline_unique_invoice"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoffline_positive"),
        ]
