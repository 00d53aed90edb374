"""Deferred payment agreements (Care Act ss.34-36; the Care and Support (Deferred Payment)
Regulations 2014), their property, valuations, charges, fees, interest postings and statements,
and the reference data they are computed from (effective-dated, edited in the Django admin).

Money on an agreement lives on its own ledger account (casework AccountKind.DEFERRED_PAYMENT);
the rows here record why each entry was posted, so a nightly re-run can tell what is done.
The agreement's state changes only through deferred_payments.services.agreement_transition.
"""
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Account, Case, Client, LedgerEntry, Letter
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet
from casework.money import DECIMAL_PLACES, MAX_DIGITS


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


def percent_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=7, decimal_places=4, **kwargs)


# --- Reference data -------------------------------------------------------------------------------


class CapitalLimit(models.Model):
    """The lower and upper capital limits in force from a date (FA-02)."""

    effective_from = models.DateField(unique=True)
    lower_limit = money_field()
    upper_limit = money_field()
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Capital limits from {self.effective_from:%d %B %Y}: £{self.lower_limit:,} / £{self.upper_limit:,}"


class NationalMaximumRate(models.Model):
    """The national maximum interest rate for one half-year (DPA Regs reg 9; DP-07, DP-13).

    Periods run 1 January to 30 June and 1 July to 31 December. A half-year with no row has no
    rate: interest for it is refused, never inferred from a neighbour.
    """

    period_start = models.DateField(unique=True, help_text="1 January or 1 July")
    rate = percent_field(help_text="Annual rate in per cent, such as 4.6500")
    source = models.CharField(max_length=300, blank=True)
    confidence = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [models.CheckConstraint(condition=Q(rate__gte=0), name="dpa_max_rate_not_negative")]

    def __str__(self) -> str:
        return f"{self.period_start:%d %b %Y} to {self.period_end:%d %b %Y}: {self.rate}%"

    @property
    def period_end(self) -> date:
        return date(self.period_start.year, 6, 30) if self.period_start.month == 1 else date(self.period_start.year, 12, 31)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.period_start and (self.period_start.day != 1 or self.period_start.month not in (1, 7)):
            raise ValidationError({"period_start": "A half-year starts on 1 January or 1 July"})


class RateMissingNotice(models.Model):
    """The finance administrators were told by email that a half-year has no national maximum
    interest rate: one row a half-year, so the email goes once however many agreements need the
    rate and however many nights the run meets the gap. `sent_at` stays empty while the mail
    server could not take it (the next run tries again)."""

    period_start = models.DateField(unique=True, help_text="1 January or 1 July")
    raised_on = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-period_start"]

    def __str__(self) -> str:
        return f"Rate missing from {self.period_start:%d %b %Y}"


class CouncilInterestRate(models.Model):
    """The rate the council charges from a date; blank means the national maximum. The rate used
    for a day is never above the national maximum for that day's half-year."""

    effective_from = models.DateField(unique=True)
    rate = percent_field(null=True, blank=True, help_text="Leave blank to charge the national maximum")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"From {self.effective_from:%d %B %Y}: {'national maximum' if self.rate is None else f'{self.rate}%'}"


class DeferredPaymentRule(models.Model):
    """The council's deferred payment figures in force from a date (DP-04, DP-05, DP-11, DC-08)."""

    effective_from = models.DateField(unique=True)
    value_percent = percent_field(default=90, help_text="Share of the property value that may be lent (90%)")
    alert_percent = percent_field(default=70, help_text="Alert officers when the deferred total reaches this "
                                                        "share of the equity limit")
    death_due_days = models.PositiveIntegerField(default=90, help_text="Debt falls due this many days after death")
    charge_registration_days = models.PositiveIntegerField(
        default=60, help_text="Flag a legal charge not registered this many days after it was sent")
    on_request_statement_days = models.PositiveIntegerField(default=28)
    statement_grace_days = models.PositiveIntegerField(
        default=14, help_text="A six-monthly statement is overdue this many days after the half-year ends")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Deferred payment rules from {self.effective_from:%d %B %Y}"


class FeeKind(models.TextChoices):
    SET_UP = "set_up", "Set-up"
    ANNUAL = "annual", "Annual administration"
    VALUATION = "valuation", "Valuation"
    LAND_REGISTRY = "land_registry", "Land Registry"


class AdministrationFee(models.Model):
    """An administration fee's amount from a date (DPA Regs reg 10; DP-09, DP-10). A blank amount
    means the fee is charged at cost, entered by the officer each time."""

    kind = models.CharField(max_length=20, choices=FeeKind.choices)
    effective_from = models.DateField()
    amount = money_field(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "effective_from"], name="dpa_fee_kind_date_unique")]

    def __str__(self) -> str:
        amount = "at cost" if self.amount is None else f"£{self.amount:,}"
        return f"{self.get_kind_display()} fee from {self.effective_from:%d %B %Y}: {amount}"


# --- Agreements -----------------------------------------------------------------------------------


class State(models.TextChoices):
    ENQUIRY = "enquiry", "Enquiry"
    APPLICATION = "application", "Application"
    ELIGIBILITY_CHECKED = "eligibility_checked", "Eligibility checked"
    OFFERED = "offered", "Offered"
    SIGNED = "signed", "Signed"
    LEGAL_CHARGE_PENDING = "legal_charge_pending", "Legal charge pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"
    REPAID = "repaid", "Repaid and charge removed"


class TerminationReason(models.TextChoices):
    SALE = "sale", "Sale of the property"
    DEATH = "death", "Death"
    REPAID_EARLY = "repaid_early", "Repaid early"
    REFUSED = "refused", "Refused (not eligible)"
    WITHDRAWN = "withdrawn", "Withdrawn or declined"
    OTHER = "other", "Other"


class Compounding(models.TextChoices):
    DAILY = "daily", "Daily"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class DayBasis(models.TextChoices):
    FIXED_365 = "365", "365 days (leap years too)"
    ACTUAL = "actual", "Days in the year (366 in leap years)"


class FeeTreatment(models.TextChoices):
    ADDED = "added", "Added to the deferred amount"
    INVOICED = "invoiced", "Invoiced to pay separately"


#: Where each state may go. Guards (evidence, valuation, charge, balance) are in the service.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    State.ENQUIRY: {State.APPLICATION, State.TERMINATED},
    State.APPLICATION: {State.ELIGIBILITY_CHECKED, State.TERMINATED},
    State.ELIGIBILITY_CHECKED: {State.OFFERED, State.TERMINATED},
    State.OFFERED: {State.SIGNED, State.TERMINATED},
    State.SIGNED: {State.LEGAL_CHARGE_PENDING, State.TERMINATED},
    State.LEGAL_CHARGE_PENDING: {State.ACTIVE, State.TERMINATED},
    State.ACTIVE: {State.SUSPENDED, State.TERMINATED},
    State.SUSPENDED: {State.ACTIVE, State.TERMINATED},
    State.TERMINATED: {State.REPAID},
    State.REPAID: set(),
}
#: Back from terminated only when the death that ended the agreement was recorded in error: to the
#: state it was in when it ended (agreement_transition with reinstate=True).
REINSTATEMENTS: dict[str, set[str]] = {State.TERMINATED: {State.ACTIVE, State.SUSPENDED}}
#: States in which the agreement may hold money.
MONEY_STATES = (State.ACTIVE, State.SUSPENDED, State.TERMINATED)
#: Termination reasons open before the agreement holds money / after.
EARLY_REASONS = (TerminationReason.REFUSED, TerminationReason.WITHDRAWN, TerminationReason.OTHER)


class Agreement(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="deferred_payment_agreements")
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="deferred_payment_agreement")
    account = models.OneToOneField(Account, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="deferred_payment_agreement")
    state = models.CharField(max_length=30, choices=State.choices, default=State.ENQUIRY)
    termination_reason = models.CharField(max_length=20, choices=TerminationReason.choices, blank=True)
    care_home = models.CharField(max_length=200, blank=True)
    weekly_care_cost = money_field(default=0, help_text="What the council pays the care home each week")
    weekly_contribution = money_field(default=0, help_text="The person's assessed weekly contribution")
    weekly_top_up = money_field(default=0, help_text="Any top-up being deferred each week")
    compounding = models.CharField(max_length=10, choices=Compounding.choices, default=Compounding.DAILY)
    day_basis = models.CharField(max_length=10, choices=DayBasis.choices, default=DayBasis.FIXED_365)
    fee_treatment = models.CharField(max_length=10, choices=FeeTreatment.choices, default=FeeTreatment.ADDED)
    enquiry_on = models.DateField()
    applied_on = models.DateField(null=True, blank=True)
    offered_on = models.DateField(null=True, blank=True)
    signed_on = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True, help_text="First day the council defers care costs")
    deferred_through = models.DateField(null=True, blank=True, help_text="Last day deferral has been posted for")
    suspended_reason = models.CharField(max_length=300, blank=True)
    terminated_on = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True, help_text="When the whole debt falls due")
    repaid_on = models.DateField(null=True, blank=True)
    recovery_case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state"], name="dpa_state_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(state="terminated") | ~Q(termination_reason=""),
                                   name="dpa_terminated_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.client.full_name})"

    @property
    def reference(self) -> str:
        return f"DPA-{self.pk:06d}" if self.pk else "DPA-new"

    @property
    def weekly_deferral(self):
        return self.weekly_care_cost - self.weekly_contribution + self.weekly_top_up

    def can_transition_to(self, state: str, *, reinstate: bool = False) -> bool:
        allowed = REINSTATEMENTS if reinstate else ALLOWED_TRANSITIONS
        return state in allowed.get(self.state, set())


class Criterion(models.TextChoices):
    CARE_HOME = "care_home", "Is in, or is entering, a care home"
    CAPITAL = "capital", "Capital other than the home is not above the upper capital limit"
    NOT_DISREGARDED = "not_disregarded", "The home is not disregarded (no spouse or qualifying relative living there)"
    CONSENT = "consent", "Everyone with an interest in the property consents"
    SECURITY = "security", "Adequate security (a first legal charge preferred)"


class EligibilityCheck(AppendOnlyModel):
    """One recorded check of one criterion, with its evidence. The latest check of each counts."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="checks")
    criterion = models.CharField(max_length=20, choices=Criterion.choices)
    met = models.BooleanField()
    evidence = models.CharField(max_length=500)
    capital_amount = money_field(null=True, blank=True, help_text="Capital other than the home (capital check)")
    checked_on = models.DateField()
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["criterion", "-recorded_at", "-id"]


class Property(models.Model):
    agreement = models.OneToOneField(Agreement, on_delete=models.PROTECT, related_name="property")
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8)
    title_number = models.CharField("Land Registry title number", max_length=20)
    share_percent = percent_field(default=100, help_text="The person's share of the property, in per cent")

    class Meta:
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return ", ".join(self.address_lines)

    @property
    def address_lines(self) -> list[str]:
        return [p for p in [self.address_line_1, self.address_line_2, self.town, self.postcode] if p]


class Valuation(AppendOnlyModel):
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="valuations")
    valued_on = models.DateField()
    value = money_field()
    valuer = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-valued_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(value__gt=0), name="dpa_valuation_positive")]


class ExistingCharge(models.Model):
    """A charge secured on the property before the council's (a mortgage, an equity release)."""

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="existing_charges")
    lender = models.CharField(max_length=200)
    amount = money_field(help_text="Amount secured against the person's share")
    as_at = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["as_at", "id"]


class LegalCharge(models.Model):
    agreement = models.OneToOneField(Agreement, on_delete=models.PROTECT, related_name="legal_charge")
    first_charge = models.BooleanField(default=True)
    sent_on = models.DateField(null=True, blank=True, help_text="Sent to HM Land Registry")
    registered_on = models.DateField(null=True, blank=True)
    reference = models.CharField("Land Registry reference", max_length=60, blank=True)
    removal_requested_on = models.DateField(null=True, blank=True)
    removed_on = models.DateField(null=True, blank=True)


class DeferralPosting(models.Model):
    """Care costs deferred for one period (normally a week); unique per start so a re-run adds none."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="deferrals")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = money_field()
    capped = models.BooleanField(default=False, help_text="Cut to the equity headroom")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["period_start"]
        constraints = [models.UniqueConstraint(fields=["agreement", "period_start"], name="dpa_deferral_once")]


class FeePosting(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(max_length=20, choices=FeeKind.choices)
    charged_on = models.DateField()
    amount = money_field()
    treatment = models.CharField(max_length=10, choices=FeeTreatment.choices)
    #: For the annual fee: which year of the agreement (1, 2 ...), so the nightly job charges it once.
    year = models.PositiveIntegerField(null=True, blank=True)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["charged_on", "id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "kind", "year"], condition=Q(year__isnull=False),
                                               name="dpa_annual_fee_once")]


class FeeWaiver(AppendOnlyModel):
    """All or part of a fee waived: a credit on the account the fee was posted to, dated the day
    the fee was charged (so it bears no interest), posted once another person approved the
    request. Never changed; the fee's own entry stays as it was."""

    fee = models.ForeignKey(FeePosting, on_delete=models.PROTECT, related_name="waivers")
    amount = money_field()
    reason = models.CharField(max_length=1000)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField("casework.ControlRequest", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["waived_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dpa_fee_waiver_positive")]


class InterestPosting(models.Model):
    """Interest capitalised for one period. A back-dated change reverses the entry (`reversal`) and
    posts the corrected figure as a new row."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="interest_postings")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = money_field()
    rates = models.JSONField(help_text="The rates applied: [[from, to, rate %, national maximum %], ...]")
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    reversal = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_start", "id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "period_start"], condition=Q(reversal__isnull=True),
                                               name="dpa_interest_once")]


class StatementKind(models.TextChoices):
    SIX_MONTHLY = "six_monthly", "Six-monthly"
    ON_REQUEST = "on_request", "On request"
    REDEMPTION = "redemption", "Redemption"


class Statement(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(max_length=20, choices=StatementKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    figures = models.JSONField()
    requested_on = models.DateField(null=True, blank=True)
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    produced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    produced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "period_end"], condition=Q(kind="six_monthly"),
                                               name="dpa_six_monthly_once")]


class AlertKind(models.TextChoices):
    NEARING_LIMIT = "nearing_limit", "Deferred total nearing the equity limit"
    LIMIT_REACHED = "limit_reached", "Equity limit reached: deferral stopped"
    RATE_MISSING = "rate_missing", "Interest rate missing"


class Alert(models.Model):
    """Something an officer must see on the agreement. `key` makes each alert once only (the
    valuation it was raised against, the half-year whose rate is missing)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    key = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    raised_on = models.DateField()
    cleared_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "kind", "key"], name="dpa_alert_once")]
