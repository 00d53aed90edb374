from .claims import Claim, ClaimLine, Dispute, DisputeNote
from .controls import ClaimLineOverride, PaymentFlagRule, PaymentRunExceptionsOpened
from .deaths import DeathNoticePeriod
from .exceptions import (
    ExceptionOutcome,
    ExceptionRule,
    ExceptionStatus,
    HighCostException,
    HighCostExceptionNote,
    HighCostExceptionTrigger,
    NoSavingReason,
    ProviderContract,
    UrgentPlacement,
)
from .finance import BacsOriginator, JournalAccount
from .packages import CarePackage
from .payments import (
    Overpayment,
    OverpaymentRecovery,
    OverpaymentWaiver,
    Payment,
    PaymentRun,
    ProviderLedgerEntry,
    ScheduledPayment,
    UrgentPayment,
)
from .providers import BankDetailsChange, PaymentSchedule, Provider, ProviderEvent
from .rates import Band, GuidePrice, Rate, ServiceType, ToleranceRule, Uplift

__all__ = [
    "BacsOriginator", "Band", "BankDetailsChange", "DeathNoticePeriod", "JournalAccount", "CarePackage", "Claim", "ClaimLine", "Dispute", "DisputeNote", "GuidePrice",
    "Overpayment", "OverpaymentRecovery", "OverpaymentWaiver", "Payment", "PaymentRun", "PaymentSchedule", "Provider",
    "ProviderEvent", "ProviderLedgerEntry", "Rate", "ScheduledPayment", "ServiceType", "ToleranceRule", "Uplift",
    "UrgentPayment",
    "ExceptionOutcome", "ExceptionRule", "ExceptionStatus", "HighCostException", "HighCostExceptionNote",
    "HighCostExceptionTrigger", "NoSavingReason", "ProviderContract", "UrgentPlacement",
    "ClaimLineOverride", "PaymentFlagRule", "PaymentRunExceptionsOpened",
]
