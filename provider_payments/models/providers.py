import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet

from ..constants import BankChangeStatus, Frequency, ProviderStatus, Timing

#: Characters a Bacs record may carry in names and references.
BACS_TEXT = re.compile(r"^[A-Z0-9 .&/\-]*$")


def normalise_sort_code(value: str) -> str:
    """'20-00-00' or '20 00 00' -> '200000'; ValidationError unless six digits.

    No maintained library checks a bare UK sort code and account number (python-schwifty works on
    IBANs and needs the bank code; ukmodulus ships 2017 tables), so the format is checked here and
    the modulus check is left to the bank's own validation of the Bacs file.
    """
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{6}", digits):
        raise ValidationError("Enter a sort code of 6 digits, like 20-00-00")
    return digits


def normalise_account_number(value: str) -> str:
    digits = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{8}", digits):
        raise ValidationError("Enter an account number of 8 digits")
    return digits


def normalise_account_name(value: str) -> str:
    name = " ".join((value or "").upper().split())
    if not name:
        raise ValidationError("Enter the name on the account")
    if len(name) > 18 or not BACS_TEXT.match(name):
        raise ValidationError("Enter the account name in up to 18 letters, digits, spaces and . & / -")
    return name


class PaymentSchedule(models.Model):
    """When providers on this schedule are paid: every `frequency` days from `anchor_date`, for the
    period before the payment date (in arrears) or the period from it (in advance)."""

    name = models.CharField(max_length=100, unique=True)
    frequency = models.PositiveIntegerField(choices=Frequency.choices, default=Frequency.FOUR_WEEKLY)
    timing = models.CharField(max_length=10, choices=Timing.choices, default=Timing.ARREARS)
    anchor_date = models.DateField(help_text="A payment date; payments follow every `frequency` days from it")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def is_due(self, on) -> bool:
        return on >= self.anchor_date and (on - self.anchor_date).days % self.frequency == 0


class Provider(models.Model):
    """A care provider the council pays. Bank details change only through an approved
    BankDetailsChange (a second person approves), never by editing this row."""

    name = models.CharField(max_length=200)
    supplier_number = models.CharField("supplier number in the finance system", max_length=20, unique=True)
    cqc_location_id = models.CharField("CQC location ID", max_length=20, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    remittance_email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    sort_code = models.CharField(max_length=6, blank=True)
    account_number = models.CharField(max_length=8, blank=True)
    account_name = models.CharField(max_length=18, blank=True)
    payment_terms_days = models.PositiveIntegerField(default=30)
    payment_schedule = models.ForeignKey(PaymentSchedule, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="providers")
    status = models.CharField(max_length=10, choices=ProviderStatus.choices, default=ProviderStatus.ACTIVE)
    ecm_mapping = models.JSONField(default=dict, blank=True,
                                   help_text="This provider's ECM column names: {standard column: their column}")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["sort_code", "account_number"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.supplier_number})"

    @property
    def has_bank_details(self) -> bool:
        return bool(self.sort_code and self.account_number)

    @property
    def masked_account(self) -> str:
        return f"{self.sort_code[:2]}-**-** ****{self.account_number[-4:]}" if self.has_bank_details else "None"


class BankDetailsChange(models.Model):
    """A request to change a provider's bank details; takes effect only when someone other than the
    requester approves it (a common fraud route is a forged change of bank details)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="bank_changes")
    sort_code = models.CharField(max_length=6)
    account_number = models.CharField(max_length=8)
    account_name = models.CharField(max_length=18)
    evidence = models.CharField(max_length=300, help_text="How the change was verified (e.g. call-back to a known number)")
    status = models.CharField(max_length=10, choices=BankChangeStatus.choices, default=BankChangeStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Bank change for {self.provider.name} ({self.get_status_display()})"


class ProviderEvent(AppendOnlyModel):
    """The provider's audit trail: who did what, when, with old and new values."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=80)
    summary = models.CharField(max_length=300)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
