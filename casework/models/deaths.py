"""A death recorded once and handled everywhere: the record, and each consequence an app proposes
for the officer to confirm (see casework/deaths/registry.py for how apps register them)."""
from django.conf import settings
from django.db import models

from ..constants import DeathSource
from .clients import Client


class DeathRecordStatus(models.TextChoices):
    RECORDED = "recorded", "Recorded"
    REVERSED = "reversed", "Reversed (recorded in error)"


class DeathRecord(models.Model):
    """One recording of a client's death. A death recorded in error is reversed, never deleted.
    Status changes only through casework.deaths.services (checked against ALLOWED_TRANSITIONS)."""

    ALLOWED_TRANSITIONS = {
        DeathRecordStatus.RECORDED: {DeathRecordStatus.REVERSED},
        DeathRecordStatus.REVERSED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="death_records")
    date_of_death = models.DateField()
    source = models.CharField(max_length=20, choices=DeathSource.choices)
    verified = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=DeathRecordStatus.choices, default=DeathRecordStatus.RECORDED)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=models.Q(status="recorded"),
                                    name="one_recorded_death_per_client"),
        ]

    def __str__(self) -> str:
        return f"Death of {self.client.reference} on {self.date_of_death:%d/%m/%Y}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class ConsequenceStatus(models.TextChoices):
    PROPOSED = "proposed", "Awaiting confirmation"
    APPLIED = "applied", "Applied"
    DECLINED = "declined", "Not applied"
    REVERSED = "reversed", "Reversed"


class DeathConsequence(models.Model):
    """One thing an app will do because of a death, proposed for the officer to confirm.

    `kind` names the registered handler; `payload` is what the handler proposed (JSON) and is handed
    back to it on apply; `result` is what apply did (JSON), handed back on reverse. `error` is the
    message of the last refused attempt to apply it (it stays proposed). Status changes only through
    casework.deaths.services (checked against ALLOWED_TRANSITIONS)."""

    ALLOWED_TRANSITIONS = {
        ConsequenceStatus.PROPOSED: {ConsequenceStatus.APPLIED, ConsequenceStatus.DECLINED},
        ConsequenceStatus.APPLIED: {ConsequenceStatus.REVERSED},
        ConsequenceStatus.DECLINED: set(),
        ConsequenceStatus.REVERSED: set(),
    }

    death = models.ForeignKey(DeathRecord, on_delete=models.PROTECT, related_name="consequences")
    kind = models.CharField(max_length=80)
    app_label = models.CharField(max_length=40)
    object_ref = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=500)
    payload = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=ConsequenceStatus.choices, default=ConsequenceStatus.PROPOSED)
    order = models.IntegerField(default=50)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    reversed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reversed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.summary

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())
