"""Income: assessed charges, billing cycles, invoices and their lines, payments and their allocation.

Money moves only through casework's ledger: an invoice posts a charge entry, a payment a payment
entry. These models say why: which assessed charge, which days, which invoice a payment paid.
Invoices, their lines, payments and allocations are written once and never changed; a correction
is a credit note (an invoice with negative lines that refers to the one it corrects) or a
reversing allocation.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from casework.models import Account, Client, Letter, RunItem
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from debt.constants import ChargeSource, LineKind, PaymentMethod, SuspenseStatus


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


class ChargeableService(models.Model):
    """A kind of care a client is charged for (home care, day care, residential ...)."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    residential = models.BooleanField(default=False, help_text="Care home: never capped by the week's actual cost")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BillingCycle(models.Model):
    """How clients are billed, as data with an effective date: period length, the first period's
    start (periods run on from it), and the payment terms. The cycle in force on a period's start
    date applies."""

    name = models.CharField(max_length=100)
    period_days = models.PositiveIntegerField(default=28)
    anchor_date = models.DateField(help_text="The first day of a billing period; periods follow on from it")
    payment_terms_days = models.PositiveIntegerField(default=14)
    bill_days_after_period = models.PositiveIntegerField(default=0, help_text="Invoices are raised this many days "
                                                         "after a period ends (in arrears)")
    effective_from = models.DateField(unique=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from:%d %B %Y})"


class AssessedCharge(models.Model):
    """A client's assessed weekly contribution for a service over dates.

    A reassessment is a new row with the next version; the earlier row gets its `effective_to`
    through the service (recorded in history). A back-dated change is billed as adjustment lines
    on the next invoice, never by changing an issued one.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="assessed_charges")
    service = models.ForeignKey(ChargeableService, on_delete=models.PROTECT, related_name="charges")
    version = models.PositiveIntegerField()
    weekly_amount = money_field()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    assessment_reference = models.CharField(max_length=60, blank=True)
    source = models.CharField(max_length=10, choices=ChargeSource.choices, default=ChargeSource.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["client", "service", "-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["client", "service", "version"], name="assessedcharge_unique_version"),
            models.CheckConstraint(condition=Q(weekly_amount__gte=0), name="assessedcharge_not_negative"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                                   name="assessedcharge_dates_in_order"),
        ]
        indexes = [models.Index(fields=["client", "service", "effective_from"], name="charge_client_service_idx")]

    def __str__(self) -> str:
        return f"{self.client.reference} {self.service.code} v{self.version} £{self.weekly_amount}/wk"


class InvoiceSequence(models.Model):
    """The next invoice number of a series. Taken under a row lock in the transaction that issues
    the invoice, so numbers are unique and gap-free: a rolled-back invoice gives its number back."""

    series = models.CharField(max_length=10, unique=True)
    next_number = models.PositiveIntegerField(default=1)


class Invoice(AppendOnlyModel):
    """An issued invoice (or, with `corrects` set, a credit note). Never edited or deleted.

    `run_item` is unique: a billing run raises at most one invoice per item however often it runs.
    """

    number = models.CharField(max_length=20, unique=True)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    period_start = models.DateField()
    period_end = models.DateField()
    issue_date = models.DateField()
    due_date = models.DateField()
    total = money_field()
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes")
    reason = models.CharField(max_length=300, blank=True, help_text="Why a credit note was raised")
    ledger_entry = models.OneToOneField("casework.LedgerEntry", on_delete=models.PROTECT, related_name="invoice")
    run_item = models.OneToOneField(RunItem, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice")
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-number"]
        indexes = [models.Index(fields=["client", "due_date"], name="invoice_client_due_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_credit_note(self) -> bool:
        return self.corrects_id is not None


class InvoiceLine(AppendOnlyModel):
    """One line, explaining itself: which assessed charge (and version), which service, the dates,
    the days counted, the weekly rate, any cap by the actual cost of care, and the amount."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=12, choices=LineKind.choices, default=LineKind.CHARGE)
    assessed_charge = models.ForeignKey(AssessedCharge, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="invoice_lines")
    service = models.ForeignKey(ChargeableService, on_delete=models.PROTECT, related_name="+")
    date_from = models.DateField()
    date_to = models.DateField()
    days = models.PositiveIntegerField()
    weekly_rate = money_field()
    cap = money_field(null=True, blank=True, help_text="The actual cost of care that capped the charge, if it did")
    amount = money_field()
    explanation = models.CharField(max_length=400)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "date_from", "id"]
        indexes = [models.Index(fields=["assessed_charge", "date_from"], name="line_charge_dates_idx")]


class Payment(AppendOnlyModel):
    """Money received from or for a client, posted to their ledger, then allocated to invoices."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    received_on = models.DateField()
    reference = models.CharField(max_length=60)
    ledger_entry = models.OneToOneField("casework.LedgerEntry", on_delete=models.PROTECT, related_name="payment")
    import_batch = models.ForeignKey("PaymentImport", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="payments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]


class PaymentAllocation(AppendOnlyModel):
    """How much of a payment paid an invoice. Undoing one is a negative allocation with a reason."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = money_field()
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]


class PaymentImport(AppendOnlyModel):
    """One payment file from the bank or cash receipting, imported whole or not at all. The file's
    SHA-256 is unique, so the same file cannot be imported twice."""

    source = models.CharField(max_length=30)
    original_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/payments/%Y/%m/", max_length=200)
    sha256 = models.CharField(max_length=64, unique=True)
    rows = models.PositiveIntegerField()
    total = money_field()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()


class SuspensePayment(models.Model):
    """A received payment no client could be found for, waiting for an officer to match it."""

    amount = money_field()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    received_on = models.DateField()
    reference = models.CharField(max_length=60)
    payer = models.CharField(max_length=200, blank=True)
    import_batch = models.ForeignKey(PaymentImport, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="suspense")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SuspenseStatus.choices, default=SuspenseStatus.UNMATCHED)
    matched_payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["received_on", "id"]
        indexes = [models.Index(fields=["status"], name="suspense_status_idx")]


class BillingSuppression(models.Model):
    """An officer's decision, made on the billing preview, not to invoice a client for a period."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="billing_suppressions")
    period_start = models.DateField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "period_start"], name="suppression_unique_period")]
