"""Relief from recovery: Breathing Space moratoria and affordable repayment plans.

Figures the regulations or the Standard Financial Statement give (60 days, review by day 20,
treatment + 30 days, spending guidelines, a plan's grace period) are rows with an effective date
(`BreathingSpaceRule`, `SpendingGuideline`, `PlanRule`), never constants, so an administrator can
correct them. Dates and sums are worked out in debt/relief.py; changes go through
debt/services/relief.py.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Case, Client, Letter
from casework.models.base import AppendOnlyModel, AppendOnlyQuerySet

from debt.constants import PaymentMethod

from .billing import Invoice, money_field


class MoratoriumKind(models.TextChoices):
    STANDARD = "standard", "Standard breathing space"
    MENTAL_HEALTH = "mental_health", "Mental health crisis breathing space"


class MoratoriumEndReason(models.TextChoices):
    ENDED = "ended", "Ended (Insolvency Service end notice)"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired at its expected end"


class HouseholdType(models.TextChoices):
    SINGLE = "single", "Single adult"
    COUPLE = "couple", "Couple"
    SINGLE_WITH_CHILDREN = "single_children", "Single adult with children"
    COUPLE_WITH_CHILDREN = "couple_children", "Couple with children"


class SfsCategory(models.TextChoices):
    """The Standard Financial Statement's income and expenditure headings."""

    EARNINGS = "earnings", "Earnings"
    BENEFITS = "benefits", "Benefits"
    PENSIONS = "pensions", "Pensions"
    OTHER_INCOME = "other_income", "Other income"
    HOME = "home", "Home and contents"
    TRAVEL = "travel", "Travel"
    FOOD = "food", "Food and housekeeping"
    PERSONAL = "personal", "Personal costs"
    COMMUNICATIONS = "communications", "Communications and leisure"
    OTHER_SPENDING = "other_spending", "Other spending"


INCOME_CATEGORIES = (SfsCategory.EARNINGS, SfsCategory.BENEFITS, SfsCategory.PENSIONS, SfsCategory.OTHER_INCOME)
SPENDING_CATEGORIES = (SfsCategory.HOME, SfsCategory.TRAVEL, SfsCategory.FOOD, SfsCategory.PERSONAL,
                       SfsCategory.COMMUNICATIONS, SfsCategory.OTHER_SPENDING)


class PlanFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    FOUR_WEEKLY = "four_weekly", "Every four weeks"
    MONTHLY = "monthly", "Monthly"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class BreathingSpaceRule(models.Model):
    """The Breathing Space periods in force from a date (BS-01, BS-03, BS-07, BS-09). The row in
    force on a moratorium's start date applies to it."""

    effective_from = models.DateField(unique=True)
    standard_days = models.PositiveIntegerField(default=60, help_text="A standard one runs to start + this many days")
    review_request_days = models.PositiveIntegerField(
        default=19, help_text="The creditor's review request is due by start + this many days (20 days beginning "
                              "with the start day)")
    crisis_extra_days = models.PositiveIntegerField(
        default=30, help_text="A mental health crisis one ends this many days after the crisis treatment ends")
    standard_repeat_months = models.PositiveIntegerField(
        default=12, help_text="Only one standard breathing space may start in this many months (BS-08); a second "
                              "one is recorded with a warning, as grounds to ask the adviser for a review")
    midway_review_from_day = models.PositiveIntegerField(
        default=25, help_text="The debt adviser's midway review window opens on this day of the moratorium (the "
                              "start day is day 1; BS-04)")
    midway_review_to_day = models.PositiveIntegerField(
        default=35, help_text="The midway review window closes on this day of the moratorium (BS-04)")
    limitation_extension_days = models.PositiveIntegerField(
        default=56, help_text="A limitation period that would end during a moratorium, or within this many days "
                              "after it, ends this many days after the moratorium instead (BS-10, 8 weeks; the "
                              "regulation's exact formula is unconfirmed)")

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Breathing Space rules from {self.effective_from:%d %B %Y}"


class MoratoriumQuerySet(models.QuerySet):
    def active_on(self, on) -> "MoratoriumQuerySet":
        """Moratoria protecting their debts on `on`: started, not ended or cancelled, and not past
        their expected end (a crisis one with no treatment end yet is open-ended)."""
        return self.filter(start_date__lte=on, ended_on__isnull=True).filter(
            Q(expected_end__isnull=True) | Q(expected_end__gte=on))

    def past_expected_end(self, on) -> "MoratoriumQuerySet":
        """Open moratoria whose expected end is before `on`: the expiry job marks them expired."""
        return self.filter(ended_on__isnull=True, expected_end__lt=on)


class Moratorium(models.Model):
    """A Breathing Space recorded from the Insolvency Service notice.

    `expected_end` is provisional (BS-03): the last protected day. A crisis moratorium has none
    until `treatment_ended_on` is notified. `ended_on` and `end_reason` are the actual end, from an
    end or cancellation notice, or from expiry. With `covers_all_debts` the moratorium covers every
    invoice issued on or before the start date; otherwise just `invoices`.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="moratoria")
    kind = models.CharField(max_length=20, choices=MoratoriumKind.choices, default=MoratoriumKind.STANDARD)
    register_entry_date = models.DateField()
    start_date = models.DateField()
    expected_end = models.DateField(null=True, blank=True)
    treatment_ended_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=12, choices=MoratoriumEndReason.choices, blank=True)
    adviser_name = models.CharField(max_length=200)
    adviser_organisation = models.CharField(max_length=200)
    adviser_contact = models.CharField(max_length=300, blank=True)
    insolvency_reference = models.CharField(max_length=60)
    covers_all_debts = models.BooleanField(default=True)
    invoices = models.ManyToManyField(Invoice, blank=True, related_name="moratoria")
    review_due_on = models.DateField(null=True, blank=True)
    review_requested_on = models.DateField(null=True, blank=True)
    review_grounds = models.TextField(blank=True)
    review_outcome = models.CharField(max_length=300, blank=True)
    eligibility_warning = models.CharField(max_length=300, blank=True,
                                           help_text="Why the debtor may not have been eligible (BS-08), when recorded")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MoratoriumQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["insolvency_reference", "client"], name="moratorium_unique_reference"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | ~Q(end_reason=""),
                                   name="moratorium_end_has_reason"),
        ]
        indexes = [models.Index(fields=["client", "start_date"], name="moratorium_client_start_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.insolvency_reference}"

    @property
    def last_day(self):
        """The last protected day so far: the actual end if there is one, else the expected end."""
        return self.ended_on or self.expected_end


class SuppressedAction(AppendOnlyModel):
    """Something the system did not do because of a Breathing Space (BS-05): a letter not sent,
    a stage not advanced, a charge not added. Written by any part of the system through
    debt.services.relief.suppression_record."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="suppressed_actions")
    moratorium = models.ForeignKey(Moratorium, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="suppressed_actions")
    action = models.CharField(max_length=60, help_text="A dotted code, such as debt.plan.missed_letter")
    detail = models.CharField(max_length=400)
    occurred_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "occurred_on"], name="suppressed_client_date_idx")]


class SpendingGuideline(models.Model):
    """The SFS spending guideline for one category and household type (RP-01): spending above the
    monthly trigger is flagged for the officer to query. Figures are licensed: entered by an
    administrator, never in code."""

    category = models.CharField(max_length=20, choices=SfsCategory.choices)
    household_type = models.CharField(max_length=20, choices=HouseholdType.choices)
    monthly_trigger = money_field()
    effective_from = models.DateField()

    class Meta:
        ordering = ["category", "household_type", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["category", "household_type", "effective_from"],
                                               name="guideline_unique_from")]


class PlanRule(models.Model):
    """How the nightly plan check treats missed instalments, from a date."""

    effective_from = models.DateField(unique=True)
    grace_days = models.PositiveIntegerField(default=7, help_text="Days after an instalment's due date before it "
                                                                  "counts as missed")
    breaks_allowed = models.PositiveIntegerField(default=1, help_text="Missed instalments tolerated; the next one "
                                                                      "breaks the plan")

    class Meta:
        ordering = ["-effective_from"]


class FinancialStatement(models.Model):
    """A person's monthly income and spending in SFS categories, as lines."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="financial_statements")
    household_type = models.CharField(max_length=20, choices=HouseholdType.choices)
    taken_on = models.DateField()
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_on", "-id"]


class FinancialStatementLine(models.Model):
    statement = models.ForeignKey(FinancialStatement, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=20, choices=SfsCategory.choices)
    monthly_amount = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "category"], name="statementline_unique_category"),
            models.CheckConstraint(condition=Q(monthly_amount__gte=0), name="statementline_not_negative"),
        ]


class RepaymentPlanQuerySet(models.QuerySet):
    def in_good_standing(self) -> "RepaymentPlanQuerySet":
        """Plans that hold recovery: active ones (a broken, completed or cancelled plan holds nothing)."""
        return self.filter(status=PlanStatus.ACTIVE)

    def due_for_check(self, on) -> "RepaymentPlanQuerySet":
        """Active plans whose first instalment has fallen due by `on`: the nightly plan check's queue."""
        return self.in_good_standing().filter(start_date__lte=on)


class RepaymentPlan(models.Model):
    """An agreed plan to pay `total` (the balance outstanding at agreement) in instalments of at
    most `instalment_amount` (the schedule spreads the total evenly; see debt.relief.schedule).
    Status changes only through debt.services.relief.plan_transition."""

    ALLOWED_TRANSITIONS = {
        PlanStatus.ACTIVE: {PlanStatus.COMPLETED, PlanStatus.BROKEN, PlanStatus.CANCELLED},
        PlanStatus.COMPLETED: set(),
        PlanStatus.BROKEN: set(),
        PlanStatus.CANCELLED: set(),
    }

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="repayment_plans")
    statement = models.ForeignKey(FinancialStatement, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="plans")
    total = money_field()
    instalment_amount = money_field()
    frequency = models.CharField(max_length=12, choices=PlanFrequency.choices, default=PlanFrequency.MONTHLY)
    start_date = models.DateField()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    times_broken = models.PositiveIntegerField(default=0)
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_on = models.DateField(null=True, blank=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    confirmation_letter = models.OneToOneField(Letter, on_delete=models.PROTECT, null=True, blank=True,
                                               related_name="+")
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_at = models.DateTimeField(auto_now_add=True)

    objects = RepaymentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0) & Q(instalment_amount__gt=0), name="plan_amounts_positive"),
        ]
        indexes = [models.Index(fields=["status", "start_date"], name="plan_status_start_idx")]

    def __str__(self) -> str:
        return f"Plan {self.pk} for {self.client.reference}"

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class PlanMiss(AppendOnlyModel):
    """A missed instalment found by the plan check. Unique per instalment, so a re-run (or a run
    on a later day) never counts or writes about the same instalment twice."""

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.PROTECT, related_name="misses")
    instalment_number = models.PositiveIntegerField()
    due_on = models.DateField()
    shortfall = money_field()
    detected_on = models.DateField()
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "instalment_number"]
        constraints = [models.UniqueConstraint(fields=["plan", "instalment_number"], name="planmiss_unique_instalment")]
