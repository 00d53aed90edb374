"""Choices of the provider payments app. Figures (rates, tolerances, thresholds) are data, not here."""
from django.db import models


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended (payments held)"
    CLOSED = "closed", "Closed"


class BankChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Unit(models.TextChoices):
    HOUR = "hour", "Hour"
    VISIT = "visit", "Visit"
    NIGHT = "night", "Night"
    WEEK = "week", "Week"
    SESSION = "session", "Session"
    ITEM = "item", "Item"


class BillingBasis(models.TextChoices):
    DELIVERED = "delivered", "Delivered units, claimed by the provider"
    SCHEDULED = "scheduled", "Commissioned weekly amount, paid on schedule (residential)"


class PackageStatus(models.TextChoices):
    PROVISIONAL = "provisional", "Provisional"
    APPROVED = "approved", "Approved"
    ENDED = "ended", "Ended"


class ClaimSource(models.TextChoices):
    INVOICE = "invoice", "Invoice lines"
    ECM = "ecm", "Electronic call monitoring"


class ClaimStatus(models.TextChoices):
    VALIDATED = "validated", "Validated"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    WITHDRAWN = "withdrawn", "Withdrawn"


class LineResult(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    ADJUSTED = "adjusted", "Adjusted"
    REJECTED = "rejected", "Rejected"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    UNDER_REVIEW = "under_review", "Under review"
    UPHELD = "upheld", "Upheld"
    NOT_UPHELD = "not_upheld", "Not upheld"


class OverpaymentSource(models.TextChoices):
    VALIDATION = "validation", "Found by validation after payment"
    LATE_DEATH = "late_death", "Death recorded late"
    AUDIT = "audit", "Audit"


class RecoveryMethod(models.TextChoices):
    OFFSET = "offset", "Offset against the next payments"
    INVOICE = "invoice", "Invoice to the provider"


class OverpaymentStatus(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    APPROVED = "approved", "Approved for recovery"
    RECOVERED = "recovered", "Recovered"
    #: Nothing left to recover because the last of it was waived (another person approved the waiver).
    WAIVED = "waived", "Closed: the rest waived"
    CANCELLED = "cancelled", "Cancelled"


class PaymentRunStatus(models.TextChoices):
    PREPARED = "prepared", "Waiting for approval"
    RELEASED = "released", "Approved and released"
    CANCELLED = "cancelled", "Cancelled"


class Frequency(models.IntegerChoices):
    WEEKLY = 7, "Weekly"
    FOUR_WEEKLY = 28, "Four-weekly"


class Timing(models.TextChoices):
    ARREARS = "arrears", "In arrears"
    ADVANCE = "advance", "In advance"


class UpliftMethod(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage increase"
    NEW_RATE = "new_rate", "New rate"


class Rounding(models.TextChoices):
    HALF_UP = "half_up", "To the nearest penny (half up)"
    UP = "up", "Up to the next penny"
    DOWN = "down", "Down to the penny"
    UP_5P = "up_5p", "Up to the next 5p"


class UpliftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    APPLIED = "applied", "Applied"
    REVERSED = "reversed", "Reversed"
    CANCELLED = "cancelled", "Cancelled"


class UrgentMethod(models.TextChoices):
    CHAPS = "chaps", "CHAPS"
    FASTER = "faster", "Faster payment"


class UrgentStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for approval"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"


class ProviderEntryKind(models.TextChoices):
    """Provider ledger entries. The balance is what the provider owes the council: positive when
    the provider owes (an overpayment), negative when the council owes the provider (approved claims)."""

    CLAIM = "claim", "Claim approved"
    SCHEDULED = "scheduled", "Scheduled payment due"
    ADJUSTMENT = "adjustment", "Dispute adjustment"
    PAYMENT = "payment", "Payment made"
    URGENT = "urgent", "Urgent payment"
    OVERPAYMENT = "overpayment", "Overpayment"
    RECEIPT = "receipt", "Overpayment invoice paid"
    WAIVER = "waiver", "Overpayment waived"


#: The sign each kind of entry carries (see ProviderEntryKind).
ENTRY_SIGN = {
    ProviderEntryKind.CLAIM: -1, ProviderEntryKind.SCHEDULED: -1, ProviderEntryKind.ADJUSTMENT: -1,
    ProviderEntryKind.PAYMENT: 1, ProviderEntryKind.URGENT: 1, ProviderEntryKind.OVERPAYMENT: 1,
    ProviderEntryKind.RECEIPT: -1, ProviderEntryKind.WAIVER: -1,
}
