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
