from django.db import models


class Capacity(models.TextChoices):
    UNKNOWN = "unknown", "Not assessed"
    HAS = "has", "Has capacity to manage finances"
    LACKS = "lacks", "Lacks capacity to manage finances"


class CommunicationNeed(models.TextChoices):
    LARGE_PRINT = "large_print", "Large print"
    EASY_READ = "easy_read", "Easy read"
    BRAILLE = "braille", "Braille"
    OTHER_LANGUAGE = "other_language", "Another language"
    NAMED_CONTACT_ONLY = "named_contact_only", "Contact a named person only"


class DeathSource(models.TextChoices):
    REGISTRAR = "registrar", "Registrar notification (Tell Us Once)"
    FAMILY = "family", "Family"
    PROVIDER = "provider", "Care provider"
    CARE_HOME = "care_home", "Care home"
    HOSPITAL = "hospital", "Hospital"
    OTHER = "other", "Other"


class RepresentativeKind(models.TextChoices):
    APPOINTEE = "appointee", "DWP appointee"
    DEPUTY = "deputy", "Court of Protection deputy (property and affairs)"
    ATTORNEY = "attorney", "Attorney (lasting power of attorney, property and financial affairs)"
    EXECUTOR = "executor", "Executor"
    ADMINISTRATOR = "administrator", "Administrator"
    FAMILY = "family", "Family member"
    ADVOCATE = "advocate", "Advocate"


class CaseType(models.TextChoices):
    DEBT_RECOVERY = "debt_recovery", "Debt recovery"
    DEFERRED_PAYMENT = "deferred_payment", "Deferred payment"
    DIRECT_PAYMENT_AUDIT = "direct_payment_audit", "Direct payment audit"
    PROVIDER_DISPUTE = "provider_dispute", "Provider payment dispute"
    DECEASED_ESTATE = "deceased_estate", "Deceased client's estate"
    FINANCE_ONLY = "finance_only", "Finance only"
    FINANCIAL_AFFAIRS = "financial_affairs", "Client financial affairs"
    PROTECTION_OF_PROPERTY = "protection_of_property", "Protection of property"
    HIGH_COST_EXCEPTION = "high_cost_exception", "High-cost package exception"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_RESPONSE = "awaiting_response", "Awaiting response"
    ESCALATED = "escalated", "Escalated"
    CLOSED = "closed", "Closed"


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class TimelineKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Phone call"
    VISIT = "visit", "Visit"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    DOCUMENT = "document", "Document"
    STATUS = "status", "Status change"
    ASSIGNMENT = "assignment", "Assignment"
    HOLD = "hold", "Hold"
    TASK = "task", "Task"
    LEDGER = "ledger", "Ledger"
    SYSTEM = "system", "System"


#: The kinds an officer records by hand on the timeline.
MANUAL_TIMELINE_KINDS = [TimelineKind.NOTE, TimelineKind.CALL, TimelineKind.VISIT, TimelineKind.LETTER, TimelineKind.EMAIL]


class EntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    PAYMENT = "payment", "Payment"
    ADJUSTMENT = "adjustment", "Adjustment"
    CREDIT = "credit", "Credit"
    INTEREST = "interest", "Interest"
    FEE = "fee", "Fee"
    WRITE_OFF = "write_off", "Write-off"
    REFUND = "refund", "Refund"


#: The sign each kind of entry carries: +1 increases what the client owes, -1 reduces it,
#: 0 means either (an adjustment states its own sign).
ENTRY_SIGN = {
    EntryKind.CHARGE: 1,
    EntryKind.INTEREST: 1,
    EntryKind.FEE: 1,
    EntryKind.REFUND: 1,
    EntryKind.PAYMENT: -1,
    EntryKind.CREDIT: -1,
    EntryKind.WRITE_OFF: -1,
    EntryKind.ADJUSTMENT: 0,
}


class AccountKind(models.TextChoices):
    CLIENT_CHARGES = "client_charges", "Care charges"
    DEFERRED_PAYMENT = "deferred_payment", "Deferred payment"
    DIRECT_PAYMENT = "direct_payment", "Direct payment"
