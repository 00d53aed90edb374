from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.constants import AccountKind, EntryKind
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from .base import AppendOnlyModel, AppendOnlyQuerySet
from .clients import Client


class Account(models.Model):
    """A client's account of one kind. It stores no balance: balances are sums of its entries."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=20, choices=AccountKind.choices, default=AccountKind.CLIENT_CHARGES)
    number = models.CharField(max_length=20, unique=True)
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_kind_display()})"


class LedgerEntry(AppendOnlyModel):
    """One movement of money. Positive amounts increase what the client owes; negative reduce it.

    Entries are never changed or deleted (the model refuses, and on PostgreSQL a trigger refuses
    raw UPDATE and DELETE). A correction is a new entry with `reverses` pointing at the original,
    an equal and opposite amount, and a reason.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    effective_date = models.DateField()
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=60)
    description = models.CharField(max_length=300)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    reason = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "effective_date", "id"], name="ledger_account_date_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | ~Q(reason=""), name="ledger_reversal_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"
