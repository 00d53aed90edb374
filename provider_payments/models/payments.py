from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Run
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from ..constants import (
    OverpaymentSource,
    OverpaymentStatus,
    PaymentRunStatus,
    ProviderEntryKind,
    RecoveryMethod,
    UrgentMethod,
    UrgentStatus,
)
from .packages import CarePackage
from .providers import Provider


class PaymentRun(models.Model):
    """The provider payments of one run of the engine's `provider_payments` job (one business
    date). Its files are written when the run finishes and released only after a team leader
    approves. Status changes only through payment_run_transition."""

    ALLOWED_TRANSITIONS = {
        PaymentRunStatus.PREPARED: {PaymentRunStatus.RELEASED},
        PaymentRunStatus.RELEASED: set(),
        PaymentRunStatus.CANCELLED: set(),
    }

    run = models.OneToOneField(Run, on_delete=models.PROTECT, related_name="provider_payment_run")
    payment_date = models.DateField()
    status = models.CharField(max_length=10, choices=PaymentRunStatus.choices, default=PaymentRunStatus.PREPARED)
    total = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)
    payment_count = models.PositiveIntegerField(default=0)
    bacs_file = models.FileField(upload_to="provider_payments/runs/", blank=True)
    journal_file = models.FileField(upload_to="provider_payments/runs/", blank=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-payment_date", "-id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"PR{self.payment_date:%Y%m%d}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class Payment(models.Model):
    """What one provider is paid in one run: gross (claims, scheduled care, dispute outcomes) less
    offsets of overpayments. Unique on (run, provider): a re-run never pays twice."""

    payment_run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="payments")
    gross = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    offset = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default=0)
    net = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    sort_code = models.CharField(max_length=6)
    account_number = models.CharField(max_length=8)
    account_name = models.CharField(max_length=18)
    remittance = models.FileField(upload_to="provider_payments/remittances/", blank=True)
    breakdown = models.JSONField(default=dict, help_text="Gross by service type code, for the journal")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["payment_run", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["payment_run", "provider"], name="payment_once_per_run"),
            models.CheckConstraint(condition=Q(net=models.F("gross") - models.F("offset")), name="payment_net_balances"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_run.reference} {self.provider.name}"

    @property
    def bacs_reference(self) -> str:
        return f"{self.payment_run.reference}{self.pk % 10000:04d}"[:18]


class ScheduledPayment(models.Model):
    """A residential (scheduled) package's period paid on its contracted weekly rate, without a
    claim. Unique on (package, period start), so a period is never paid twice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="scheduled")
    package = models.ForeignKey(CarePackage, on_delete=models.PROTECT, related_name="scheduled_payments")
    period_start = models.DateField()
    period_end = models.DateField()
    days = models.PositiveIntegerField()
    weekly_rate = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)

    class Meta:
        ordering = ["package", "period_start"]
        constraints = [models.UniqueConstraint(fields=["package", "period_start"], name="scheduled_once_per_period")]


class Overpayment(models.Model):
    """Money paid to a provider that was not due: approved by someone other than who found it,
    then recovered by offset against the next payments or by an invoice. Status changes only
    through overpayment_transition."""

    ALLOWED_TRANSITIONS = {
        OverpaymentStatus.IDENTIFIED: {OverpaymentStatus.APPROVED, OverpaymentStatus.CANCELLED},
        OverpaymentStatus.APPROVED: {OverpaymentStatus.RECOVERED, OverpaymentStatus.WAIVED},
        OverpaymentStatus.RECOVERED: set(),
        OverpaymentStatus.WAIVED: set(),
        OverpaymentStatus.CANCELLED: set(),
    }

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="overpayments")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    source = models.CharField(max_length=12, choices=OverpaymentSource.choices)
    description = models.CharField(max_length=300)
    method = models.CharField(max_length=10, choices=RecoveryMethod.choices, default=RecoveryMethod.OFFSET)
    invoice_number = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=12, choices=OverpaymentStatus.choices, default=OverpaymentStatus.IDENTIFIED)
    identified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    identified_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    claim_lines = models.ManyToManyField("ClaimLine", blank=True, related_name="overpayments")

    class Meta:
        ordering = ["-identified_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="overpayment_positive")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"OVP-{self.pk:06d}" if self.pk else "OVP-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class OverpaymentRecovery(AppendOnlyModel):
    """An amount of an overpayment recovered: offset in a payment, or received against the invoice."""

    overpayment = models.ForeignKey(Overpayment, on_delete=models.PROTECT, related_name="recoveries")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="offsets")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "overpayment recoveries"


class OverpaymentWaiver(AppendOnlyModel):
    """All or part of an overpayment the provider still owed, waived once another person approved
    the request: a WAIVER entry on the provider's ledger reduces what the provider owes. Never
    changed; the overpayment's own entry stays as it was."""

    overpayment = models.ForeignKey(Overpayment, on_delete=models.PROTECT, related_name="waivers")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    reason = models.CharField(max_length=1000)
    entry = models.OneToOneField("ProviderLedgerEntry", on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField("casework.ControlRequest", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["waived_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="overpayment_waiver_positive")]


class UrgentPayment(models.Model):
    """A payment outside the run (CHAPS or faster payment): requested with a reason, approved by a
    second person, recorded on the provider's ledger when paid."""

    ALLOWED_TRANSITIONS = {
        UrgentStatus.REQUESTED: {UrgentStatus.APPROVED, UrgentStatus.REJECTED},
        UrgentStatus.APPROVED: {UrgentStatus.PAID},
        UrgentStatus.PAID: set(),
        UrgentStatus.REJECTED: set(),
    }

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="urgent_payments")
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    method = models.CharField(max_length=10, choices=UrgentMethod.choices)
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=UrgentStatus.choices, default=UrgentStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="urgent_payment_positive")]

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class ProviderLedgerEntry(AppendOnlyModel):
    """One movement on a provider's ledger. The balance (a sum, never stored) is what the provider
    owes the council: approved claims make it negative, payments bring it back to nothing, an
    overpayment makes it positive until it is offset or the invoice is paid."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=12, choices=ProviderEntryKind.choices)
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    effective_date = models.DateField()
    reference = models.CharField(max_length=60)
    description = models.CharField(max_length=300)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name_plural = "provider ledger entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="provider_ledger_not_zero")]
