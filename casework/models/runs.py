from django.conf import settings
from django.db import models
from django.db.models import Q

from .base import AppendOnlyModel, AppendOnlyQuerySet


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class Run(models.Model):
    """One execution of a scheduled job for one business date. Unique on (job, business date): starting
    the same job for the same date again resumes this run, it never makes a second one.

    Counts are not stored: they are aggregates of the run's items (see selectors.run_counts).
    """

    ALLOWED_TRANSITIONS = {
        RunStatus.QUEUED: {RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED},
        RunStatus.RUNNING: {RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_ERRORS, RunStatus.FAILED, RunStatus.CANCELLED},
        RunStatus.COMPLETED_WITH_ERRORS: {RunStatus.RUNNING},  # failed items retried
        RunStatus.FAILED: {RunStatus.RUNNING},  # resumed
        RunStatus.COMPLETED: set(),
        RunStatus.CANCELLED: set(),
    }

    job = models.CharField(max_length=60)
    business_date = models.DateField()
    status = models.CharField(max_length=30, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=30, help_text="schedule, command or web")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    chunk_size = models.PositiveIntegerField(default=50)
    chunks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-business_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["job", "business_date"], name="run_unique_job_date")]

    def __str__(self) -> str:
        return f"{self.job} {self.business_date:%Y-%m-%d}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class RunItem(models.Model):
    """One subject of a run (a client, an account, an invoice ...), done at most once.

    Each item is processed in its own transaction, under a row lock taken with SKIP LOCKED, and
    marked done in that same transaction as its effects (a letter, a ledger entry): a worker killed
    mid-item leaves it pending, and no two workers can do it twice.
    """

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="items")
    subject = models.CharField(max_length=100, help_text="What the item is about, e.g. 'client:123'")
    chunk = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=300, blank=True, help_text="What was done, or why it was skipped")
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["chunk", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "subject"], name="runitem_unique_subject")]
        indexes = [
            models.Index(fields=["run", "chunk"], name="runitem_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["run", "status"], name="runitem_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.subject}"


class RunEvent(AppendOnlyModel):
    """Every change of a run's or its print batch's status: who, when, from what to what, and why."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=60)
    old_value = models.CharField(max_length=40, blank=True)
    new_value = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
