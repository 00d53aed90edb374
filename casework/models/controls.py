"""Money controls: what a member of staff may do alone, what needs a second person, and the record
of every action that moves money (who made it, who checked it).

Every entry that reduces what someone owes the council, or increases what the council pays, is one
of the `ControlAction`s. Its service checks the `ControlLimit` rows in force (data, with effective
dates): within the maker's limit the action happens at once; above it the action waits as a
`ControlRequest` until someone else, with a high enough approval limit, decides. Either way one
`MoneyAction` row records it, with maker and checker, for the auditors' separation report.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.money import DECIMAL_PLACES, MAX_DIGITS

from .base import AppendOnlyModel, AppendOnlyQuerySet
from .clients import Client


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class ControlAction(models.TextChoices):
    """Every way money can be reduced, forgiven or paid out: the controls matrix names each."""

    MANUAL_POSTING = "manual_posting", "Ledger entry posted by hand"
    LEDGER_REVERSAL = "ledger_reversal", "Reversal of a ledger entry"
    WRITE_OFF = "write_off", "Write-off"
    CREDIT_NOTE = "credit_note", "Credit note"
    REFUND = "refund", "Refund to a client"
    DEATH_CREDIT = "death_credit", "Credit for care after a death"
    CLAIM_OVERRIDE = "claim_override", "Provider claim line override"
    CLAIM_APPROVAL = "claim_approval", "Provider claim approval"
    PAYMENT_RUN = "payment_run", "Provider payment run release"
    URGENT_PAYMENT = "urgent_payment", "Urgent provider payment"
    OVERPAYMENT_RECOVERY = "overpayment_recovery", "Provider overpayment approved for recovery"
    OVERPAYMENT_WAIVER = "overpayment_waiver", "Provider overpayment waived"
    DP_SURPLUS_RECOVERY = "dp_surplus_recovery", "Direct payment surplus recovery"
    DP_SURPLUS_WAIVER = "dp_surplus_waiver", "Direct payment surplus waived"
    DPA_FEE_WAIVER = "dpa_fee_waiver", "Deferred payment fee waived"
    DPA_REVERSAL = "dpa_reversal", "Deferred payment posting reversed"
    BANK_DETAILS = "bank_details", "Provider bank details change"
    RATE_CHANGE = "rate_change", "Provider rate change"
    UPLIFT = "uplift", "Annual uplift of provider rates"


class Direction(models.TextChoices):
    ANY = "", "Either way"
    INCREASE = "increase", "Increases what is owed to the council"
    REDUCE = "reduce", "Reduces what is owed to the council, or pays money out"


class ControlLimit(models.Model):
    """Holders of `group_name` (a role's group) may do `action` alone up to `alone_up_to` (blank:
    never alone) and approve someone else's up to `approve_up_to` (blank: may not approve; tick
    `approve_any_amount` for no limit). `entry_kind` and `direction` narrow a row to one kind of
    ledger entry posted by hand. With `period_days`, a limit applies to the total of that action for
    one debtor over that many days, not to each request, so a debt cannot be split under it. The
    rows in force are, per group, action, kind and direction, the latest with `effective_from` on or
    before the day."""

    action = models.CharField(max_length=30, choices=ControlAction.choices)
    group_name = models.CharField(max_length=150)
    entry_kind = models.CharField(max_length=20, blank=True, help_text="Only for ledger entries posted by hand")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    alone_up_to = _money(null=True, blank=True, help_text="Blank: never alone")
    approve_up_to = _money(null=True, blank=True, help_text="Blank: may not approve (unless any amount)")
    approve_any_amount = models.BooleanField(default=False)
    period_days = models.PositiveIntegerField(null=True, blank=True,
                                              help_text="Limits count the debtor's total over this many days")
    effective_from = models.DateField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["action", "group_name", "entry_kind", "direction", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["action", "group_name", "entry_kind", "direction", "effective_from"],
                                    name="controllimit_unique_from"),
            models.CheckConstraint(condition=Q(alone_up_to__isnull=True) | Q(alone_up_to__gte=0),
                                   name="controllimit_alone_not_negative"),
            models.CheckConstraint(condition=Q(approve_up_to__isnull=True) | Q(approve_up_to__gt=0),
                                   name="controllimit_approve_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}, {self.group_name} (from {self.effective_from:%d %B %Y})"


class ControlRequestStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for a decision"
    APPROVED = "approved", "Approved and carried out"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ControlRequest(models.Model):
    """An action above its maker's limit, waiting for someone else to decide. Status changes only
    through casework.services.controls.control_request_transition; approval carries the action out
    (the executor registered for `action`) in the same transaction."""

    ALLOWED_TRANSITIONS = {
        ControlRequestStatus.REQUESTED: {ControlRequestStatus.APPROVED, ControlRequestStatus.REJECTED,
                                         ControlRequestStatus.WITHDRAWN},
        ControlRequestStatus.APPROVED: set(),
        ControlRequestStatus.REJECTED: set(),
        ControlRequestStatus.WITHDRAWN: set(),
    }

    action = models.CharField(max_length=30, choices=ControlAction.choices)
    status = models.CharField(max_length=10, choices=ControlRequestStatus.choices,
                              default=ControlRequestStatus.REQUESTED)
    amount = _money()
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="control_requests")
    subject = models.CharField(max_length=200, help_text="Who or what the money belongs to")
    summary = models.CharField(max_length=300, help_text="What will happen if approved")
    reason = models.CharField(max_length=1000)
    payload = models.JSONField(default=dict, help_text="What the executor needs to carry the action out")
    changes = models.JSONField(default=list, blank=True, help_text="Rows shown to the decider: label, before, after")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)
    result_reference = models.CharField(max_length=100, blank=True, help_text="What approval produced")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "action"], name="controlrequest_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="controlrequest_amount_positive"),
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                                   name="controlrequest_decider_not_requester"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"AP{self.pk:06d}" if self.pk else "AP(new)"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class MoneyAction(AppendOnlyModel):
    """One action that moved money, with who made it and who checked it (blank: done alone, within
    the maker's limit). Written by every controlled service; never changed."""

    action = models.CharField(max_length=30, choices=ControlAction.choices, db_index=True)
    amount = _money()
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=200, help_text="Who or what the money belongs to")
    reference = models.CharField(max_length=100)
    summary = models.CharField(max_length=300)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    request = models.ForeignKey(ControlRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.reference} {self.amount}"

    @property
    def same_person(self) -> bool:
        return self.checker_id is not None and self.checker_id == self.maker_id
