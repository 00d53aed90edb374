"""Choices of the direct payments app: who receives, how the money is held, categories and rules."""
from django.db import models


class RecipientKind(models.TextChoices):
    CLIENT = "client", "The client"
    NOMINATED = "nominated", "A nominated person"
    AUTHORISED = "authorised", "An authorised person (the client lacks capacity)"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    FOUR_WEEKLY = "four_weekly", "Every four weeks"


FREQUENCY_DAYS = {Frequency.WEEKLY: 7, Frequency.FOUR_WEEKLY: 28}


class AccountType(models.TextChoices):
    BANK = "bank", "Dedicated bank account"
    PREPAID_CARD = "prepaid_card", "Prepaid card"
    MANAGED = "managed", "Managed account held by a support provider"
    ISF = "isf", "Individual service fund held by a care provider"


class Risk(models.TextChoices):
    STANDARD = "standard", "Standard"
    HIGHER = "higher", "Higher risk"


class AgreementStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Payments suspended"
    ENDED = "ended", "Ended"


class PaymentSource(models.TextChoices):
    RUN = "run", "Payment run"
    MANUAL = "manual", "Recorded by hand"


class AuditStatus(models.TextChoices):
    REQUESTED = "requested", "Statements requested"
    IN_REVIEW = "in_review", "In review"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_AUDIT_STATUSES = (AuditStatus.REQUESTED, AuditStatus.IN_REVIEW, AuditStatus.AWAITING_APPROVAL)


class Outcome(models.TextChoices):
    SATISFACTORY = "satisfactory", "Satisfactory"
    ADVICE = "advice", "Satisfactory with advice"
    SURPLUS = "surplus", "Surplus to recover"
    MISUSE = "misuse", "Misuse"
    SUSPENDED = "suspended", "Payments suspended"
    #: Set only when another person approves a surplus waiver (services.waivers), never chosen directly.
    WAIVED = "waived", "Surplus waived"


class WaiverReason(models.TextChoices):
    """Why a surplus is waived instead of recovered."""

    PLANNED_SAVING = "planned_saving", "A planned saving agreed for a purpose"
    HARDSHIP = "hardship", "Recovering it would cause hardship"
    UNECONOMICAL = "uneconomical", "The amount is uneconomical to recover"
    OTHER = "other", "Another reason"


class MisuseReferral(models.TextChoices):
    SAFEGUARDING = "safeguarding", "Refer to safeguarding"
    RECOVERY = "recovery", "Recover the money misused"


class StatementKind(models.TextChoices):
    BANK_CSV = "bank_csv", "Bank statement (CSV)"
    PREPAID_CARD = "prepaid_card", "Prepaid card export (CSV)"


class DateFormat(models.TextChoices):
    ISO = "%Y-%m-%d", "2026-03-27"
    UK = "%d/%m/%Y", "27/03/2026"
    UK_SHORT_MONTH = "%d %b %Y", "27 Mar 2026"


class Category(models.TextChoices):
    PA_WAGES = "pa_wages", "Personal assistant wages"
    CARE_AGENCY = "care_agency", "Care agency"
    HMRC = "hmrc", "HMRC PAYE and National Insurance"
    PAYROLL = "payroll", "Payroll service"
    INSURANCE = "insurance", "Employer's liability insurance"
    RESPITE = "respite", "Respite"
    EQUIPMENT = "equipment", "Equipment"
    BANK_CHARGES = "bank_charges", "Bank charges"
    CASH = "cash", "Cash withdrawal"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    OTHER = "other", "Other"
    COUNCIL_PAYMENT = "council_payment", "Council payment in"
    CLIENT_CONTRIBUTION = "client_contribution", "Client contribution in"
    OTHER_INCOME = "other_income", "Other money in"


#: Spending that is care: a run of weeks without any of it is flagged.
CARE_CATEGORIES = frozenset({Category.PA_WAGES, Category.CARE_AGENCY, Category.RESPITE})
#: Categories with a rule of their own, so never "outside the support plan".
OWN_RULE_CATEGORIES = frozenset({Category.BANK_CHARGES, Category.CASH, Category.TRANSFER_OUT})
IN_CATEGORIES = frozenset({Category.COUNCIL_PAYMENT, Category.CLIENT_CONTRIBUTION, Category.OTHER_INCOME})
#: What a support plan may list.
PLAN_CATEGORIES = [c for c in Category if c not in IN_CATEGORIES and c not in OWN_RULE_CATEGORIES]


class MatchOn(models.TextChoices):
    EITHER = "either", "Payee or description"
    PAYEE = "payee", "Payee"
    DESCRIPTION = "description", "Description"


class Direction(models.TextChoices):
    ANY = "any", "Money in or out"
    OUT = "out", "Money out"
    IN = "in", "Money in"


class FlagRule(models.TextChoices):
    CASH_WITHDRAWAL = "cash_withdrawal", "Cash withdrawal over the threshold"
    FAMILY_TRANSFER = "family_transfer", "Transfer to the recipient's own or a family account"
    NON_CARE_MERCHANT = "non_care_merchant", "Merchant with nothing to do with care"
    OUTSIDE_PLAN = "outside_plan", "Spending outside the support plan"
    NO_CARE_SPENDING = "no_care_spending", "No care spending for several weeks"
    OVERDRAWN = "overdrawn", "Overdrawn balance"
    MISSING_PAYMENT = "missing_payment", "Council payment missing from the statement"
    UNEXPECTED_PAYMENT = "unexpected_payment", "Unexpected council payment"


#: Rules whose threshold or patterns are data (IrregularityRule rows); the last two are reconciliation.
IRREGULARITY_RULES = [FlagRule.CASH_WITHDRAWAL, FlagRule.FAMILY_TRANSFER, FlagRule.NON_CARE_MERCHANT,
                      FlagRule.OUTSIDE_PLAN, FlagRule.NO_CARE_SPENDING, FlagRule.OVERDRAWN]


class Decision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    QUERIED = "queried", "Queried with the recipient"
    MISUSE = "misuse", "Misuse"


class LiabilityKind(models.TextChoices):
    WAGES = "wages", "Wages due"
    HMRC = "hmrc", "HMRC PAYE and National Insurance due"
    INVOICE = "invoice", "Invoice due"
    OTHER = "other", "Other"


class RecoveryRoute(models.TextChoices):
    INVOICE = "invoice", "Invoice on the income ledger, with a letter"
    REDUCE = "reduce", "Reduce future payments"


class RecoveryBasis(models.TextChoices):
    SURPLUS = "surplus", "Surplus above the contingency"
    MISUSE = "misuse", "Money misused"


class RecoveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
