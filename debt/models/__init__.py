"""The debt app's models, one module per area; each area's module is imported here."""
from .billing import (
    AssessedCharge,
    BillingCycle,
    BillingSuppression,
    ChargeableService,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    PaymentAllocation,
    PaymentImport,
    SuspensePayment,
    money_field,
)

__all__ = [
    "AssessedCharge",
    "BillingCycle",
    "BillingSuppression",
    "ChargeableService",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "Payment",
    "PaymentAllocation",
    "PaymentImport",
    "SuspensePayment",
    "money_field",
]
