from django.db import models


class ChargeSource(models.TextChoices):
    MANUAL = "manual", "Entered by an officer"
    IMPORT = "import", "Imported from the financial assessment system"
    API = "api", "Sent through the API"


class LineKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    ADJUSTMENT = "adjustment", "Adjustment for an earlier period"
    CREDIT = "credit", "Credit"


class PaymentMethod(models.TextChoices):
    DIRECT_DEBIT = "direct_debit", "Direct Debit"
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CHEQUE = "cheque", "Cheque"
    CASH = "cash", "Cash"


class SuspenseStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Waiting to be matched"
    MATCHED = "matched", "Matched to a client"
    REFUNDED = "refunded", "Returned to the payer"


class HoldKind(models.TextChoices):
    """Why recovery of a client's debt is paused: no letter is sent and no stage advances."""

    DISPUTE = "dispute", "Dispute or query"
    REASSESSMENT = "reassessment", "Financial reassessment pending"
    BREATHING_SPACE = "breathing_space", "Breathing Space"
    SAFEGUARDING = "safeguarding", "Safeguarding concern"
    NO_AUTHORITY = "no_authority", "Lacks capacity and no one has authority over their money"
    DECEASED = "deceased", "The client has died"
    REPAYMENT_PLAN = "repayment_plan", "Repayment plan in good standing"
