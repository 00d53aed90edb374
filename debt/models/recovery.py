"""The recovery ladder: its stages and thresholds (data a finance administrator configures), each
debtor's place on it, the append-only log of what the nightly run did, and officers' manual holds.

Recovery works per debtor (client), not per invoice: one `DebtRecovery` row per client, anchored
on the due date of their oldest overdue invoice still unpaid.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.models import Case, Client, Letter, RunItem, Team
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet

from debt.constants import HoldKind

from .billing import money_field


class RecoveryAction(models.TextChoices):
    LETTER = "letter", "Send the stage's letter"
    ESCALATE = "escalate", "Escalate to the team leader for review"
    LEGAL_REFERRAL = "legal_referral", "Refer for legal action (needs a team leader's approval)"


class DelayFrom(models.TextChoices):
    DUE_DATE = "due_date", "After the oldest unpaid invoice's due date"
    PREVIOUS_STAGE = "previous_stage", "After the previous stage"


class RecoveryStage(models.Model):
    """One rung of the ladder. `delay_days` counts from the anchor (the oldest unpaid invoice's due
    date) or from the day the debtor entered the previous stage, as `delay_from` says. Stages are
    climbed in `order`, one per night at most; inactive stages are passed over."""

    order = models.PositiveIntegerField(unique=True)
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    delay_days = models.PositiveIntegerField()
    delay_from = models.CharField(max_length=20, choices=DelayFrom.choices, default=DelayFrom.PREVIOUS_STAGE)
    action = models.CharField(max_length=20, choices=RecoveryAction.choices, default=RecoveryAction.LETTER)
    letter_type = models.CharField(max_length=50, blank=True, help_text="Letter type code sent at this stage, if any")
    response_days = models.PositiveIntegerField(default=0, help_text="Days the debtor has to reply (30 for the "
                                                "letter before claim under the Pre-Action Protocol)")
    active = models.BooleanField(default=True)
    effective_from = models.DateField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class RecoveryThreshold(models.Model):
    """The figures the run applies, as data with an effective date: the row in force on the run's
    business date applies. Blank escalation figures mean "never escalate on that ground"."""

    effective_from = models.DateField(unique=True)
    minimum_balance = money_field(help_text="Overdue balances below this are not chased")
    escalate_balance = money_field(null=True, blank=True,
                                   help_text="An overdue balance of at least this goes to the team leader queue")
    escalate_age_days = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text="Debt this many days overdue goes to the team leader queue")
    escalation_team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                        help_text="Team whose queue escalated cases join (default: the client's case's team)")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Recovery thresholds from {self.effective_from:%d %B %Y}"


class DebtRecoveryQuerySet(models.QuerySet):
    def in_recovery(self):
        """Debtors on a rung of the ladder (not cleared)."""
        return self.filter(stage__isnull=False)


class DebtRecovery(models.Model):
    """A debtor's place on the ladder.

    `stage` is the last stage reached (blank: overdue but no stage yet, or cleared);
    `stage_entered_on` the business date it was reached; `anchor_date` the due date of the oldest
    overdue invoice still unpaid when last looked at; `escalated_on` when it last went to the
    team leader queue (cleared with the debt)."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="debt_recovery")
    stage = models.ForeignKey(RecoveryStage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    stage_entered_on = models.DateField(null=True, blank=True)
    anchor_date = models.DateField(null=True, blank=True)
    last_letter = models.ForeignKey(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    escalated_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DebtRecoveryQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["stage"], name="debtrecovery_stage_idx")]

    def __str__(self) -> str:
        return f"{self.client.reference}: {self.stage or 'no stage'}"


class RecoveryEventKind(models.TextChoices):
    ADVANCED = "advanced", "Moved to a stage"
    ESCALATED = "escalated", "Escalated to the team leader queue"
    REANCHORED = "reanchored", "Re-anchored on the oldest unpaid invoice"
    CLEARED = "cleared", "Nothing overdue: left the ladder"


class RecoveryEvent(AppendOnlyModel):
    """What happened to a debtor on the ladder, who did it, when and why. Append-only.

    One ADVANCED event per (client, stage, anchor): a second run, a retried item or an
    overlapping process cannot send a stage's letter twice for the same debt."""

    recovery = models.ForeignKey(DebtRecovery, on_delete=models.PROTECT, related_name="events")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=RecoveryEventKind.choices)
    from_stage = models.ForeignKey(RecoveryStage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_stage = models.ForeignKey(RecoveryStage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    business_date = models.DateField()
    anchor_date = models.DateField(null=True, blank=True)
    balance = money_field(null=True, blank=True)
    reason = models.CharField(max_length=300)
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    run_item = models.ForeignKey(RunItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-business_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "to_stage", "anchor_date"], condition=Q(kind="advanced"),
                                    name="recoveryevent_stage_once_per_anchor"),
        ]


class DebtHoldQuerySet(models.QuerySet):
    def active_on(self, on):
        """Holds in force on a date: placed by then and not released. A hold past its review date
        still holds (it shows as due for review); only an officer's release ends it."""
        return self.filter(placed_on__lte=on).filter(Q(released_on__isnull=True) | Q(released_on__gt=on))


class DebtHold(models.Model):
    """An officer's hold on chasing a client's debt: why, who, since when, when to review it."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="debt_holds")
    kind = models.CharField(max_length=20, choices=HoldKind.choices)
    note = models.CharField(max_length=500)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_on = models.DateField()
    review_date = models.DateField()
    released_on = models.DateField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    release_note = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    objects = DebtHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_on", "-id"]
        indexes = [models.Index(fields=["client"], condition=Q(released_on__isnull=True), name="debthold_open_idx")]
        constraints = [models.CheckConstraint(condition=Q(review_date__gt=models.F("placed_on")),
                                              name="debthold_review_after_placed")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} hold on {self.client.reference}"
