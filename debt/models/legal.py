"""Investigations (non-payment, deprivation of assets) and legal action (referral to court).

An `Investigation` belongs to a case. A deprivation investigation lists `AssetTransfer` rows; where
the officer finds a transfer was a deliberate deprivation, section 70 makes the transferee liable
(DR-08): a `ThirdPartyDebt` records that liability, charged to the transferee's own account (the
transferee is recorded as a casework Client with a `TP` reference, because a third party is a
person the council bills).

A `LegalReferral` takes a client's invoices to the county court. Status changes only through
debt.services.legal.referral_transition, which checks ALLOWED_TRANSITIONS. The court fee comes
from `CourtFeeBand` rows and the pleaded interest rate from `ClaimInterestRule` rows (both data).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Case, Client

from .billing import Invoice, money_field


class InvestigationKind(models.TextChoices):
    NON_PAYMENT = "non_payment", "Non-payment"
    DEPRIVATION = "deprivation", "Deprivation of assets"


class InvestigationStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Investigation(models.Model):
    """What an officer found out about why a client has not paid, or whether assets were given
    away to avoid charges. `contacts_made` lists who was contacted and when, in the officer's words."""

    ALLOWED_TRANSITIONS = {InvestigationStatus.OPEN: {InvestigationStatus.CLOSED},
                           InvestigationStatus.CLOSED: set()}

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="investigations")
    kind = models.CharField(max_length=20, choices=InvestigationKind.choices)
    status = models.CharField(max_length=10, choices=InvestigationStatus.choices, default=InvestigationStatus.OPEN)
    findings = models.TextField(blank=True)
    contacts_made = models.TextField(blank=True)
    benefits_check_suggested = models.BooleanField(default=False)
    benefits_check_note = models.CharField(max_length=1000, blank=True)
    outcome = models.TextField(blank=True)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"INVG-{self.pk:06d}" if self.pk else "INVG-new"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class AssetTransfer(models.Model):
    """One asset the client gave away or sold. `value` is the open-market value at the time of
    transfer less encumbrances and reasonable sale costs (DR-08); `consideration` what the client
    got for it. `deliberate` is the officer's finding: None until they make one."""

    investigation = models.ForeignKey(Investigation, on_delete=models.PROTECT, related_name="transfers")
    asset = models.CharField("asset", max_length=300)
    transferred_to = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100, blank=True)
    transferred_on = models.DateField()
    value = money_field()
    consideration = money_field(default=0)
    deliberate = models.BooleanField(null=True, blank=True)
    finding_reasoning = models.TextField(blank=True)
    found_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    found_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["transferred_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0) & Q(consideration__gte=0), name="assettransfer_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} to {self.transferred_to}"

    @property
    def benefit(self):
        """What the transferee gained: the value less what they paid, never below nothing."""
        return max(self.value - self.consideration, 0)


class ThirdPartyDebt(models.Model):
    """A transferee's section 70 liability, charged to their own account (`third_party`)."""

    transfer = models.OneToOneField(AssetTransfer, on_delete=models.PROTECT, related_name="third_party_debt")
    third_party = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="third_party_debts")
    would_have_charged = money_field()
    actually_charged = money_field()
    amount = money_field()
    ledger_entry = models.OneToOneField("casework.LedgerEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="thirdpartydebt_positive")]


class CourtFeeBand(models.Model):
    """A money claim issue fee band (DR-22): claims from `lower` to `upper` (blank: no upper limit)
    pay `fixed_fee`, or `percentage` of the claim rounded down to the penny. The bands in force on
    a date are the rows sharing the latest `effective_from` on or before it."""

    lower = money_field()
    upper = money_field(null=True, blank=True)
    fixed_fee = money_field(null=True, blank=True)
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    effective_from = models.DateField()

    class Meta:
        ordering = ["-effective_from", "lower"]
        constraints = [
            models.UniqueConstraint(fields=["effective_from", "lower"], name="courtfeeband_unique_lower"),
            models.CheckConstraint(condition=Q(fixed_fee__isnull=True) ^ Q(percentage__isnull=True),
                                   name="courtfeeband_fixed_or_percentage"),
        ]

    def __str__(self) -> str:
        fee = f"£{self.fixed_fee:,.2f}" if self.fixed_fee is not None else f"{self.percentage}%"
        upper = f"£{self.upper:,.2f}" if self.upper is not None else "no limit"
        return f"£{self.lower:,.2f} to {upper}: {fee} (from {self.effective_from:%d %B %Y})"


class ClaimInterestRule(models.Model):
    """The simple interest rate pleaded on a claim (DR-20: usually 8% a year, County Courts Act s.69)."""

    rate_percent = models.DecimalField(max_digits=5, decimal_places=2)
    effective_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.rate_percent}% a year (from {self.effective_from:%d %B %Y})"


class ServiceMethod(models.TextChoices):
    FIRST_CLASS_POST = "first_class_post", "First class post"


class PreActionRule(models.Model):
    """How long a debtor has to reply to a letter before claim (Pre-Action Protocol for Debt Claims:
    30 days) and when a posted letter is deemed served (CPR 6.26: first class post, the second
    business day after posting). The reply period runs in calendar days from the day of deemed
    service; business days are casework.calendar working days. The rule in force for a letter is
    the row of its `method` with the latest `effective_from` on or before the letter's date."""

    method = models.CharField(max_length=20, choices=ServiceMethod.choices, default=ServiceMethod.FIRST_CLASS_POST)
    reply_days = models.PositiveIntegerField(help_text="Calendar days the debtor has to reply, from deemed service")
    deemed_service_business_days = models.PositiveIntegerField(
        help_text="Business days after posting on which the letter is deemed served")
    effective_from = models.DateField()
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["method", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["method", "effective_from"], name="preactionrule_unique")]

    def __str__(self) -> str:
        return (f"{self.get_method_display()}: served {self.deemed_service_business_days} business days after "
                f"posting, {self.reply_days} days to reply (from {self.effective_from:%d %B %Y})")


class ReferralStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CLAIM_ISSUED = "claim_issued", "Claim issued"
    JUDGMENT = "judgment", "Judgment obtained"
    ENFORCEMENT = "enforcement", "Enforcement"
    CLOSED = "closed", "Closed"


class LegalReferral(models.Model):
    """A request to take a client's invoices to the county court. `amount` is what the invoices
    owed when referred; `interest`, `court_fee` and `daily_rate` are fixed when the claim is issued;
    `claim_pack` is the PDF made then, with its SHA-256."""

    S = ReferralStatus
    ALLOWED_TRANSITIONS = {
        S.REQUESTED: {S.APPROVED, S.REJECTED},
        S.APPROVED: {S.CLAIM_ISSUED, S.CLOSED},
        S.CLAIM_ISSUED: {S.JUDGMENT, S.CLOSED},
        S.JUDGMENT: {S.ENFORCEMENT, S.CLOSED},
        S.ENFORCEMENT: {S.CLOSED},
        S.REJECTED: set(),
        S.CLOSED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="legal_referrals")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="legal_referrals")
    invoices = models.ManyToManyField(Invoice, related_name="legal_referrals")
    amount = money_field()
    status = models.CharField(max_length=15, choices=ReferralStatus.choices, default=ReferralStatus.REQUESTED)
    note = models.CharField(max_length=1000, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True)
    claim_issued_on = models.DateField(null=True, blank=True)
    interest_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    daily_rate = money_field(null=True, blank=True)
    interest = money_field(null=True, blank=True)
    court_fee = money_field(null=True, blank=True)
    claim_pack = models.FileField(upload_to="legal/claim-packs/", max_length=200, blank=True)
    claim_pack_sha256 = models.CharField(max_length=64, blank=True)
    judgment_on = models.DateField(null=True, blank=True)
    judgment_amount = money_field(null=True, blank=True)
    court_name = models.CharField(max_length=200, blank=True)
    claim_number = models.CharField(max_length=30, blank=True)
    # CPR Part 21: a defendant who lacks capacity is sued through a litigation friend, whose
    # certificate of suitability (form N235) is filed with the claim.
    litigation_friend_name = models.CharField(max_length=200, blank=True)
    litigation_friend_address = models.TextField(blank=True)
    litigation_friend_relationship = models.CharField(max_length=100, blank=True)
    litigation_friend_certificate_on = models.DateField(
        "date of the certificate of suitability (N235)", null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="legalreferral_positive")]
        indexes = [models.Index(fields=["status"], name="legalreferral_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"LR-{self.pk:06d}" if self.pk else "LR-new"

    @property
    def claim_total(self):
        return self.amount + (self.interest or 0) + (self.court_fee or 0)

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())

    @property
    def has_litigation_friend(self) -> bool:
        return bool(self.litigation_friend_name and self.litigation_friend_address
                    and self.litigation_friend_certificate_on)


class EnforcementKind(models.TextChoices):
    ATTACHMENT_OF_EARNINGS = "attachment_of_earnings", "Attachment of earnings order"
    CHARGING_ORDER = "charging_order", "Charging order"


class EnforcementAction(models.Model):
    """One step taken to enforce a judgment: applied for on a date, perhaps granted on a later one."""

    referral = models.ForeignKey(LegalReferral, on_delete=models.PROTECT, related_name="enforcement_actions")
    kind = models.CharField(max_length=30, choices=EnforcementKind.choices)
    applied_on = models.DateField()
    granted_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["applied_on", "id"]
