from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.constants import CaseStatus, CaseType, Priority, TimelineKind

from .base import AppendOnlyModel, AppendOnlyQuerySet
from .clients import Client


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    leaders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="led_teams", blank=True)
    history = HistoricalRecords(m2m_fields=[members, leaders])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet):
    def open(self):
        """Cases not yet closed."""
        return self.exclude(status=CaseStatus.CLOSED)

    def assigned_to(self, user):
        """Open cases an officer holds."""
        return self.open().filter(assigned_officer=user)

    def holds_to_review(self, user, on: date):
        """An officer's cases on hold whose review date has come."""
        return self.assigned_to(user).filter(hold_review_date__lte=on)

    def team_queue(self, teams):
        """Open cases of the given teams that have no officer, or that an officer escalated."""
        return self.open().filter(team__in=teams).filter(Q(assigned_officer__isnull=True) | Q(status=CaseStatus.ESCALATED))

    def not_on_hold(self):
        """Cases automated action may touch: a hold stops every scheduled step."""
        return self.filter(hold_reason="")


class Case(models.Model):
    """The unit of work an officer holds on a client.

    A hold (reason and review date) stops automated action on the case until it is released.
    Status changes only through casework.services.case_transition, which checks ALLOWED_TRANSITIONS.
    """

    ALLOWED_TRANSITIONS = {
        CaseStatus.OPEN: {CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_RESPONSE, CaseStatus.ESCALATED, CaseStatus.CLOSED},
        CaseStatus.IN_PROGRESS: {CaseStatus.AWAITING_RESPONSE, CaseStatus.ESCALATED, CaseStatus.CLOSED},
        CaseStatus.AWAITING_RESPONSE: {CaseStatus.IN_PROGRESS, CaseStatus.ESCALATED, CaseStatus.CLOSED},
        CaseStatus.ESCALATED: {CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_RESPONSE, CaseStatus.CLOSED},
        CaseStatus.CLOSED: {CaseStatus.IN_PROGRESS},
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    case_type = models.CharField(max_length=30, choices=CaseType.choices)
    title = models.CharField(max_length=200)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_cases"
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    due_date = models.DateField(null=True, blank=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    hold_review_date = models.DateField(null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "due_date", "id"]
        indexes = [
            models.Index(fields=["assigned_officer", "status"], name="case_officer_status_idx"),
            models.Index(fields=["team", "status"], name="case_team_status_idx"),
            # the case list's order: its first page is read from the index, not by sorting every case
            models.Index(fields=["-priority", "due_date", "id"], name="case_list_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hold_reason="") | Q(hold_review_date__isnull=False), name="case_hold_has_review_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_case_type_display()}"

    @property
    def reference(self) -> str:
        return f"CASE-{self.pk:06d}" if self.pk else "CASE-new"

    @property
    def on_hold(self) -> bool:
        return bool(self.hold_reason)

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())

    def is_overdue(self, on: date) -> bool:
        return bool(self.due_date and self.due_date < on and self.status != CaseStatus.CLOSED)


class Document(models.Model):
    """An uploaded file, kept in private storage and served only through an access-checked view."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="documents")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="documents")
    file = models.FileField(upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name


class TimelineEntry(AppendOnlyModel):
    """One event on a case's (and its client's) timeline. Entries are only ever added.

    `action` is a dotted code (`case.status.changed`, `casework.note.added`) and `old_value` and
    `new_value` hold what changed, so the timeline says what happened, not just "modified".
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="timeline")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="timeline")
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    action = models.CharField(max_length=80)
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    letter = models.ForeignKey("casework.Letter", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(help_text="When it happened (a call may be recorded after it)")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "timeline entries"
        indexes = [
            models.Index(fields=["case", "-occurred_at"], name="timeline_case_idx"),
            models.Index(fields=["client", "-occurred_at"], name="timeline_client_idx"),
        ]

    def __str__(self) -> str:
        return self.summary


class TaskQuerySet(models.QuerySet):
    def outstanding(self):
        return self.filter(completed_at__isnull=True)

    def for_officer(self, user):
        """Outstanding tasks assigned to the officer, or on cases they hold with no one named."""
        return self.outstanding().filter(
            Q(assigned_to=user) | Q(assigned_to__isnull=True, case__assigned_officer=user)
        )


class Task(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    due_date = models.DateField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True, null=True, blank=True,
                           help_text="Set on a task diarised by a job (such as 'breathing_space:12:review_request'), "
                                     "so a re-run never adds it twice")
    urgent = models.BooleanField(default=False, help_text="Shown red and first wherever tasks are listed")
    history = HistoricalRecords()

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-urgent", "due_date", "id"]

    def __str__(self) -> str:
        return self.title
