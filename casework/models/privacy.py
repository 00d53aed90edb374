"""Data protection: retention rules (data), the retention review queue, subject access requests and
approved erasure of a client's personal data."""
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from .clients import Client


class RetentionEvent(models.TextChoices):
    ACCOUNT_CLOSED = "account_closed", "Every account of the client settled (balance nil): from the last entry"
    CASES_CLOSED = "cases_closed", "Every case of the client closed: from the last closure"
    DEATH = "death", "The client's death"


class RetentionRecordKind(models.TextChoices):
    FINANCIAL = "financial", "Financial records (accounts, invoices, payments)"
    CASEWORK = "casework", "Casework records (cases, notes, tasks, documents, letters)"
    CLIENT = "client", "The client's personal record"


class RetentionRuleQuerySet(models.QuerySet):
    def in_force(self, on: date):
        return self.filter(effective_from__lte=on).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))


class RetentionRule(models.Model):
    """How long one kind of record is kept after an event, with the dates the rule is in force.

    A client is past retention on a date when, for every rule in force:
    - an ACCOUNT_CLOSED or CASES_CLOSED rule's event has happened (an account with a balance, or an
      open case, keeps the whole record) and its period since the event has run out;
    - a DEATH rule's period since the death has run out (for a living client the rule does not apply).
    """

    record_kind = models.CharField(max_length=20, choices=RetentionRecordKind.choices)
    event = models.CharField("from which event", max_length=20, choices=RetentionEvent.choices)
    years = models.PositiveSmallIntegerField("period in years")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    basis = models.CharField(max_length=300, blank=True, help_text="The law or guidance the period comes from")

    objects = RetentionRuleQuerySet.as_manager()

    class Meta:
        ordering = ["record_kind", "event", "-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(years__gt=0), name="retentionrule_years_positive")]

    def __str__(self) -> str:
        return f"{self.get_record_kind_display()}: {self.years} years after {self.get_event_display().lower()}"


class RetentionReviewStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    RETAINED = "retained", "Kept for now"
    ERASURE_REQUESTED = "erasure_requested", "Erasure requested"
    ERASED = "erased", "Erased"


class RetentionReview(models.Model):
    """A client marked by the retention run as past every retention period, for a person to decide."""

    ALLOWED_TRANSITIONS = {
        RetentionReviewStatus.PENDING: {RetentionReviewStatus.RETAINED, RetentionReviewStatus.ERASURE_REQUESTED},
        RetentionReviewStatus.ERASURE_REQUESTED: {RetentionReviewStatus.ERASED, RetentionReviewStatus.PENDING},
        RetentionReviewStatus.RETAINED: set(),
        RetentionReviewStatus.ERASED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="retention_reviews")
    marked_on = models.DateField(help_text="The business date of the run that marked the client")
    retention_ended_on = models.DateField(help_text="The day the last retention period ran out")
    explanation = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=RetentionReviewStatus.choices,
                              default=RetentionReviewStatus.PENDING)
    run_item = models.OneToOneField("casework.RunItem", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="retention_review")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["retention_ended_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=Q(status__in=["pending", "erasure_requested"]),
                                    name="retentionreview_one_open_per_client"),
        ]

    def __str__(self) -> str:
        return f"Retention review of client {self.client_id}"


class SubjectAccessRequest(models.Model):
    """One subject access export: who asked for it, why, and the file produced (with its SHA-256)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="subject_access_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, help_text="The request being answered, e.g. its date and reference")
    file = models.FileField(upload_to="subject-access/%Y/%m/", max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sections = models.JSONField(default=dict, help_text="Record sets in the export and their row counts")

    class Meta:
        ordering = ["-requested_at", "-id"]

    @property
    def reference(self) -> str:
        return f"SAR-{self.pk:06d}" if self.pk else "SAR-new"


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", "Awaiting approval"
    APPROVED = "approved", "Approved (erasing)"
    REJECTED = "rejected", "Rejected"
    COMPLETED = "completed", "Personal data erased"


class ErasureRequest(models.Model):
    """A request to erase a client's personal data, approved by a second person, then carried out.

    Erasure anonymises the client and removes personal data; the accounts and ledger entries stay,
    and the financial totals at the moment of erasure are kept here.
    """

    ALLOWED_TRANSITIONS = {
        ErasureStatus.REQUESTED: {ErasureStatus.APPROVED, ErasureStatus.REJECTED},
        ErasureStatus.APPROVED: {ErasureStatus.COMPLETED},
        ErasureStatus.REJECTED: set(),
        ErasureStatus.COMPLETED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="erasure_requests")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=ErasureStatus.choices, default=ErasureStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    financial_totals = models.JSONField(default=dict, blank=True,
                                        help_text="Per account: entries, debits, credits and balance when erased")
    erased = models.JSONField(default=dict, blank=True, help_text="What was erased: record set -> rows")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=Q(status__in=["requested", "approved"]),
                                    name="erasurerequest_one_open_per_client"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"ER-{self.pk:06d}" if self.pk else "ER-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class ErasureRedaction(models.Model):
    """One append-only row (timeline entry or letter) whose personal text an approved erasure
    replaced. On PostgreSQL the database trigger that permits the change writes this row itself."""

    erasure = models.ForeignKey(ErasureRequest, on_delete=models.PROTECT, related_name="redactions")
    table_name = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    redacted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
