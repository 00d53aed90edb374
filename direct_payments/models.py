"""Direct payments: agreements, payments made to recipients, audits of how the money was spent,
statement uploads and their lines, flags for review, liabilities and recoveries.

Money moves only through casework's ledger: each payment to a recipient posts a `payment` entry to
the client's direct payment account (casework AccountKind.DIRECT_PAYMENT), so that account's
balance is minus what the council has paid. Recoveries by invoice go through the income app.
Every status change goes through one service (direct_payments.services) checked against the
model's ALLOWED_TRANSITIONS and recorded as an event row and a timeline entry.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.models import Client, LedgerEntry, Letter, RunItem, Team
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS, to_pennies

from .constants import (
    FREQUENCY_DAYS,
    AccountType,
    AgreementStatus,
    AuditStatus,
    Category,
    DateFormat,
    Decision,
    Direction,
    FlagRule,
    Frequency,
    LiabilityKind,
    MatchOn,
    MisuseReferral,
    Outcome,
    PaymentSource,
    RecipientKind,
    RecoveryBasis,
    RecoveryRoute,
    RecoveryStatus,
    Risk,
    StatementKind,
    WaiverReason,
)


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class Policy(models.Model):
    """The council's direct payment figures in force from a date (local policy, not statute):
    the default contingency, the audit cadence (first audit after some weeks, then at intervals,
    sooner for higher risk), how long recipients have to send statements and when to remind them,
    how many days apart a council payment and its statement line may be, and the payment terms
    of a recovery invoice's letter."""

    effective_from = models.DateField(unique=True)
    default_contingency_weeks = models.PositiveSmallIntegerField(default=4)
    first_audit_weeks = models.PositiveSmallIntegerField(default=12)
    audit_interval_months = models.PositiveSmallIntegerField(default=12)
    higher_risk_interval_months = models.PositiveSmallIntegerField(default=6)
    statement_days = models.PositiveSmallIntegerField(default=28, help_text="Days the recipient has to send statements")
    reminder_after_days = models.PositiveSmallIntegerField(default=7, help_text="Days after the statements were due")
    payment_match_days = models.PositiveSmallIntegerField(
        default=5, help_text="Working days a council payment may take to arrive (after a weekend or bank holiday)")
    repeated_issue_audits = models.PositiveSmallIntegerField(
        default=2, help_text="Audits with an outcome other than satisfactory that make a recipient one with repeated issues")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"Direct payment policy from {self.effective_from:%-d %B %Y}"


class Agreement(models.Model):
    """A direct payment agreement. Weekly amounts: the gross budget and the client's assessed
    contribution; the recipient is paid the net amount for each period (four-weekly by default).
    `contingency_weeks` is how many weeks of gross budget the recipient may keep; the audit
    cadence is `first_audit_weeks` after the start, then every `audit_interval_months`."""

    ALLOWED_TRANSITIONS = {
        AgreementStatus.ACTIVE: {AgreementStatus.SUSPENDED, AgreementStatus.ENDED},
        AgreementStatus.SUSPENDED: {AgreementStatus.ACTIVE, AgreementStatus.ENDED},
        AgreementStatus.ENDED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="dp_agreements")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="dp_agreements")
    recipient_kind = models.CharField(max_length=12, choices=RecipientKind.choices, default=RecipientKind.CLIENT)
    recipient_name = models.CharField(max_length=200, blank=True, help_text="When someone other than the client receives it")
    weekly_budget = money_field()
    weekly_contribution = money_field(default=Decimal("0.00"))
    frequency = models.CharField(max_length=12, choices=Frequency.choices, default=Frequency.FOUR_WEEKLY)
    account_type = models.CharField(max_length=12, choices=AccountType.choices, default=AccountType.BANK)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    contingency_weeks = models.PositiveSmallIntegerField()
    first_audit_weeks = models.PositiveSmallIntegerField()
    audit_interval_months = models.PositiveSmallIntegerField()
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.STANDARD)
    support_plan_categories = models.JSONField(default=list, blank=True, help_text="Category codes the plan allows")
    status = models.CharField(max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekly_budget__gt=0), name="dp_budget_positive"),
            models.CheckConstraint(condition=Q(weekly_contribution__gte=0) & Q(weekly_contribution__lte=models.F("weekly_budget")),
                                   name="dp_contribution_within_budget"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="dp_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.client.full_name}"

    @property
    def reference(self) -> str:
        return f"DPA-{self.pk:06d}" if self.pk else "DPA-new"

    @property
    def recipient(self) -> str:
        return self.client.full_name if self.recipient_kind == RecipientKind.CLIENT else self.recipient_name

    @property
    def net_weekly(self) -> Decimal:
        return to_pennies(self.weekly_budget - self.weekly_contribution)

    @property
    def period_days(self) -> int:
        return FREQUENCY_DAYS[Frequency(self.frequency)]

    @property
    def period_amount(self) -> Decimal:
        """The net payment for one whole period."""
        return to_pennies(self.net_weekly * self.period_days / 7)

    @property
    def contingency(self) -> Decimal:
        return to_pennies(self.weekly_budget * self.contingency_weeks)

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())

    def period_containing(self, day: date) -> tuple[date, date]:
        n = (day - self.start_date).days // self.period_days
        start = self.start_date + timedelta(days=n * self.period_days)
        return start, start + timedelta(days=self.period_days - 1)


class AgreementEvent(AppendOnlyModel):
    """A change of an agreement's status, with who, when and why."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="events")
    old_status = models.CharField(max_length=10, blank=True)
    new_status = models.CharField(max_length=10)
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]


class DirectPayment(AppendOnlyModel):
    """One payment to the recipient, posted to the ledger. A payment for a period is unique on
    (agreement, period_start), so the payment run can never pay a period twice; a payment by hand
    may be for a period (then the run skips it) or a one-off with no period. `reduction` is what
    a recovery by reducing future payments took off this payment."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="payments")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    paid_on = models.DateField()
    due_amount = money_field(help_text="The net amount due before any reduction")
    reduction = money_field(default=Decimal("0.00"))
    amount = money_field()
    recovery = models.ForeignKey("Recovery", on_delete=models.PROTECT, null=True, blank=True, related_name="reductions")
    source = models.CharField(max_length=10, choices=PaymentSource.choices)
    note = models.CharField(max_length=300, blank=True)
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="direct_payment", help_text="None when a reduction took it all")
    run_item = models.OneToOneField(RunItem, on_delete=models.PROTECT, null=True, blank=True, related_name="direct_payment")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "period_start"], condition=Q(period_start__isnull=False),
                                    name="dp_one_payment_per_period"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(reduction__gte=0), name="dp_payment_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} {self.paid_on} {self.amount}"


class AuditQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=[AuditStatus.REQUESTED, AuditStatus.IN_REVIEW, AuditStatus.AWAITING_APPROVAL])

    def statements_awaited(self, on: date):
        """Statements requested whose due date has passed with nothing uploaded."""
        return self.filter(status=AuditStatus.REQUESTED, statements_due_on__lt=on)

    def awaiting_review(self):
        return self.filter(status=AuditStatus.IN_REVIEW)

    def awaiting_approval(self):
        return self.filter(status=AuditStatus.AWAITING_APPROVAL)


class Audit(models.Model):
    """An audit of how an agreement's money was spent over a period (dates inclusive)."""

    ALLOWED_TRANSITIONS = {
        AuditStatus.REQUESTED: {AuditStatus.IN_REVIEW, AuditStatus.CANCELLED},
        AuditStatus.IN_REVIEW: {AuditStatus.AWAITING_APPROVAL, AuditStatus.COMPLETED, AuditStatus.CANCELLED},
        AuditStatus.AWAITING_APPROVAL: {AuditStatus.COMPLETED, AuditStatus.IN_REVIEW},
        AuditStatus.COMPLETED: set(),
        AuditStatus.CANCELLED: set(),
    }

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="audits")
    period_start = models.DateField()
    period_end = models.DateField()
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dp_audits")
    status = models.CharField(max_length=20, choices=AuditStatus.choices, default=AuditStatus.REQUESTED)
    requested_on = models.DateField()
    statements_due_on = models.DateField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    misuse_referral = models.CharField(max_length=12, choices=MisuseReferral.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "id"]
        constraints = [models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                              name="dp_audit_period_order")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"AUD-{self.pk:06d}" if self.pk else "AUD-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class AuditEvent(AppendOnlyModel):
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="events")
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]

    @property
    def new_status_label(self) -> str:
        """The status as officers read it ("In review", not the stored code)."""
        return dict(AuditStatus.choices).get(self.new_status, self.new_status)


class AuditReminder(AppendOnlyModel):
    """A reminder for statements sent by the nightly run: at most one per audit."""

    audit = models.OneToOneField(Audit, on_delete=models.PROTECT, related_name="reminder")
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, related_name="+")
    run_item = models.OneToOneField(RunItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sent_on = models.DateField()

    objects = AppendOnlyQuerySet.as_manager()


class BankFormat(models.Model):
    """How one bank's CSV export names its columns, saved the first time a statement from that
    bank is uploaded so the next one needs no mapping. Money is either one signed `amount`
    column (negative = out) or a `paid_in` and a `paid_out` column. A bank whose export has no
    balance column leaves `balance_column` blank: its statements need the opening and closing
    balance entered on upload. Prepaid card providers (Allpay, PFS) are saved the same way."""

    name = models.CharField("bank", max_length=100, unique=True)
    date_column = models.CharField(max_length=60)
    date_format = models.CharField(max_length=12, choices=DateFormat.choices, default=DateFormat.UK)
    description_column = models.CharField(max_length=60)
    payee_column = models.CharField(max_length=60, blank=True)
    amount_column = models.CharField(max_length=60, blank=True)
    paid_in_column = models.CharField(max_length=60, blank=True)
    paid_out_column = models.CharField(max_length=60, blank=True)
    balance_column = models.CharField(max_length=60, blank=True,
                                      help_text="Blank when the export has no balance column")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(
            condition=~Q(amount_column="") | (~Q(paid_in_column="") & ~Q(paid_out_column="")),
            name="dp_bank_format_money_columns")]

    def __str__(self) -> str:
        return self.name


class StatementUpload(AppendOnlyModel):
    """One statement file accepted whole for an audit (files with any problem are refused)."""

    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="uploads")
    kind = models.CharField(max_length=15, choices=StatementKind.choices)
    bank_format = models.ForeignKey(BankFormat, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="direct_payments/statements/%Y/%m/", max_length=200)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    first_date = models.DateField()
    last_date = models.DateField()
    opening_balance = money_field(help_text="The balance before the first line")
    closing_balance = money_field()
    balances_entered = models.BooleanField(
        default=False, help_text="The file had no balance column: the officer entered the opening and closing "
                                 "balance and the lines agreed with them")
    encoding = models.CharField(max_length=20, blank=True, help_text="How the file's text was saved, as read")
    header_row = models.PositiveSmallIntegerField(default=1, help_text="The file's row holding the column names "
                                                                       "(rows above it are the bank's preamble)")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["first_date", "id"]


class StatementLine(models.Model):
    """One transaction. Amount: positive money in, negative money out. `fingerprint` (date, amount,
    balance, text) is unique per agreement, so the same line cannot arrive in two uploads.
    Only `category` and `matched_payment` change after import."""

    upload = models.ForeignKey(StatementUpload, on_delete=models.PROTECT, related_name="lines")
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="lines")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    row_number = models.PositiveIntegerField()
    date = models.DateField()
    description = models.CharField(max_length=300)
    payee = models.CharField(max_length=200, blank=True)
    amount = money_field()
    balance = money_field()
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    category_rule = models.ForeignKey("CategoryRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    #: a ForeignKey, not one-to-one: a payment may arrive split over two or three lines (rules.reconcile)
    matched_payment = models.ForeignKey(DirectPayment, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="statement_lines")
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["date", "upload_id", "row_number"]
        constraints = [models.UniqueConstraint(fields=["agreement", "fingerprint"], name="dp_line_once_per_agreement")]
        indexes = [models.Index(fields=["audit", "date"], name="dp_line_audit_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"

    @property
    def money_in(self) -> Decimal | None:
        return self.amount if self.amount > 0 else None

    @property
    def money_out(self) -> Decimal | None:
        return -self.amount if self.amount < 0 else None


class CategoryRule(models.Model):
    """A finance administrator's rule: text found in the payee or description puts a line in a
    category. Rules are tried in `priority` order (lowest first); the first match wins; a line
    no rule matches is `other` (out) or `other_income` (in)."""

    pattern = models.CharField(max_length=100, help_text="Text to find, ignoring case, such as 'HMRC'")
    match_on = models.CharField(max_length=12, choices=MatchOn.choices, default=MatchOn.EITHER)
    direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.ANY)
    category = models.CharField(max_length=20, choices=Category.choices)
    priority = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"'{self.pattern}' -> {self.get_category_display()}"


class IrregularityRule(models.Model):
    """A rule that flags lines for review, with its threshold as data: an amount (cash
    withdrawals), a number of weeks (no care spending), or patterns one a line (family words,
    merchants with nothing to do with care)."""

    code = models.CharField(max_length=20, choices=FlagRule.choices, unique=True)
    enabled = models.BooleanField(default=True)
    threshold_amount = money_field(null=True, blank=True)
    threshold_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    patterns = models.TextField(blank=True, help_text="One a line, matched ignoring case against payee and description")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()

    @property
    def pattern_list(self) -> list[str]:
        return [p.strip().lower() for p in self.patterns.splitlines() if p.strip()]


class Flag(models.Model):
    """Something an officer must review: a line an irregularity rule caught, a council payment
    missing from the statements (`payment`), or a run of weeks without care (line may be empty).
    The officer's decision, note, who and when are recorded once; history keeps every change."""

    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="flags")
    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    payment = models.ForeignKey(DirectPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="flags")
    rule = models.CharField(max_length=20, choices=FlagRule.choices)
    message = models.CharField(max_length=300)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["line", "rule"], condition=Q(line__isnull=False),
                                               name="dp_flag_once_per_line_rule")]

    def __str__(self) -> str:
        return self.message


class Liability(models.Model):
    """Money the recipient still owes out of the account at the audit (wages, HMRC, invoices)."""

    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="liabilities")
    kind = models.CharField(max_length=10, choices=LiabilityKind.choices)
    description = models.CharField(max_length=200)
    amount = money_field()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "liabilities"
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dp_liability_positive")]


class SurplusWaiver(AppendOnlyModel):
    """An audit's surplus waived instead of recovered, with the working frozen as it was when the
    officer asked, written once another person approved the request. Nothing is recovered."""

    audit = models.OneToOneField(Audit, on_delete=models.PROTECT, related_name="surplus_waiver")
    reason_kind = models.CharField(max_length=20, choices=WaiverReason.choices)
    reason = models.CharField(max_length=1000)
    closing_balance = money_field()
    liabilities = money_field()
    weekly_budget = money_field()
    contingency_weeks = models.PositiveSmallIntegerField()
    contingency = money_field()
    contribution_refund = money_field()
    amount = money_field(help_text="The surplus waived")
    request = models.OneToOneField("casework.ControlRequest", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-waived_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dp_surplus_waiver_positive")]

    @property
    def reference(self) -> str:
        return f"{self.audit.reference}-WAIVED"


class Recovery(models.Model):
    """Money to recover from an audit, with the working frozen as it was when the officer asked:
    recoverable = closing balance − liabilities − contingency (weeks × weekly budget) − overpaid
    client contribution (refunded to the client first), never below zero; or, for misuse, the
    total of the lines marked as misuse. A team leader other than the officer approves it; then
    it becomes an invoice (with a letter) or reduces future payments until taken in full."""

    ALLOWED_TRANSITIONS = {
        RecoveryStatus.PENDING: {RecoveryStatus.APPROVED, RecoveryStatus.REJECTED},
        RecoveryStatus.APPROVED: set(),
        RecoveryStatus.REJECTED: set(),
    }

    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="recoveries")
    basis = models.CharField(max_length=10, choices=RecoveryBasis.choices, default=RecoveryBasis.SURPLUS)
    route = models.CharField(max_length=10, choices=RecoveryRoute.choices)
    closing_balance = money_field()
    liabilities = money_field()
    weekly_budget = money_field()
    contingency_weeks = models.PositiveSmallIntegerField()
    contingency = money_field()
    contribution_refund = money_field()
    misuse_total = money_field(default=Decimal("0.00"))
    amount = money_field(help_text="What is to be recovered")
    status = models.CharField(max_length=10, choices=RecoveryStatus.choices, default=RecoveryStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    invoice = models.OneToOneField("debt.Invoice", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="dp_recovery")
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "id"]
        verbose_name_plural = "recoveries"
        constraints = [
            models.UniqueConstraint(fields=["audit"], condition=Q(status__in=["pending", "approved"]),
                                    name="dp_one_live_recovery_per_audit"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="dp_recovery_positive"),
        ]

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())
