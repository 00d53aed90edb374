"""Client financial affairs: appointeeship, Court of Protection deputyship, protection of property
under section 47 of the Care Act, finance-only involvement, and mental capacity assessments about
financial decisions.

Each affairs case hangs off one casework Case. Its checklist steps are data (ChecklistStepDefinition,
seeded by migration 0008 and correctable by an administrator); a ChecklistStep row exists only once
a step is done. Status changes only through casework.affairs.services.affairs_transition.
"""
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.constants import Capacity
from casework.money import DECIMAL_PLACES, MAX_DIGITS

from .cases import Case, Document
from .clients import Client, Representative
from .ledger import LedgerEntry


class AffairsKind(models.TextChoices):
    APPOINTEESHIP = "appointeeship", "Appointeeship (the council as DWP appointee)"
    DEPUTYSHIP = "deputyship", "Court of Protection deputyship (property and affairs)"
    PROTECTION_OF_PROPERTY = "protection_of_property", "Protection of property (Care Act section 47)"
    FINANCE_ONLY = "finance_only", "Finance only"


class AffairsStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class StepCapture(models.TextChoices):
    """What a step asks for beyond its date, note and document."""

    PLAIN = "", "Date, note and document"
    FEE = "fee", "Court fee paid, exempt or remitted"
    DEPUTY = "deputy", "The appointed deputy"
    COSTS = "costs", "Costs charged to the client's account"


class FeeOutcome(models.TextChoices):
    PAID = "paid", "Paid in full"
    EXEMPT = "exempt", "Exempt (help with fees)"
    REMITTED = "remitted", "Remitted in full"
    PART_REMITTED = "part_remitted", "Part remitted"


class ChecklistStepDefinition(models.Model):
    """One step of a kind of affairs case: reference data, so a council can correct its procedure
    without a release. `required` steps must be done before the case can be completed;
    `capture` names the form the step uses (plain, fee, deputy or costs)."""

    kind = models.CharField(max_length=30, choices=AffairsKind.choices)
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    hint = models.CharField(max_length=400, blank=True)
    order = models.PositiveIntegerField()
    requires_date = models.BooleanField(default=True)
    requires_document = models.BooleanField(default=False)
    required = models.BooleanField(default=True, help_text="Must be done before the case can be completed")
    capture = models.CharField(max_length=10, choices=StepCapture.choices, blank=True, default=StepCapture.PLAIN)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="affairs_step_kind_code_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.order}. {self.label}"


class CourtFee(models.Model):
    """A Court of Protection fee in force from a date (for example the application fee, code
    `cop_application`). The fee for a day is the row with the latest `effective_from` on or before it."""

    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    effective_from = models.DateField()
    amount = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    source = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="affairs_court_fee_code_date_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="affairs_court_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label} from {self.effective_from:%d %B %Y}: £{self.amount:,.2f}"


class AffairsCaseQuerySet(models.QuerySet):
    def active(self):
        """Cases still being worked (open or in progress)."""
        return self.filter(status__in=[AffairsStatus.OPEN, AffairsStatus.IN_PROGRESS])

    def review_due(self, on: date):
        """Active cases whose review date has come (every finance-only case has one)."""
        return self.active().filter(review_date__lte=on)


class AffairsCase(models.Model):
    """The financial affairs details of one casework Case.

    `reason` and `review_date` are required for finance-only cases (why the council is involved
    only with the money, and when that is next looked at). The fee fields record the Court of
    Protection application fee step of a deputyship: the standard fee from CourtFee on the day,
    what was paid and whether help with fees applied. `deputy` is the Representative recorded
    when the deputy step is done.
    """

    ALLOWED_TRANSITIONS = {
        AffairsStatus.OPEN: {AffairsStatus.IN_PROGRESS, AffairsStatus.WITHDRAWN},
        AffairsStatus.IN_PROGRESS: {AffairsStatus.COMPLETED, AffairsStatus.WITHDRAWN},
        AffairsStatus.COMPLETED: set(),
        AffairsStatus.WITHDRAWN: set(),
    }

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="affairs")
    kind = models.CharField(max_length=30, choices=AffairsKind.choices)
    status = models.CharField(max_length=20, choices=AffairsStatus.choices, default=AffairsStatus.OPEN)
    reason = models.TextField(blank=True, help_text="Why the council is involved (required for finance only)")
    review_date = models.DateField(null=True, blank=True)
    court_reference = models.CharField(max_length=60, blank=True)
    fee_outcome = models.CharField(max_length=20, choices=FeeOutcome.choices, blank=True)
    fee_standard = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    fee_paid = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, null=True, blank=True)
    fee_rate = models.ForeignKey(CourtFee, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    deputy = models.ForeignKey(Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AffairsCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status"], name="affairs_kind_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=AffairsKind.FINANCE_ONLY) | (~Q(reason="") & Q(review_date__isnull=False)),
                name="affairs_finance_only_has_reason_and_review",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_kind_display()}"

    @property
    def reference(self) -> str:
        return self.case.reference

    @property
    def is_active(self) -> bool:
        return self.status in (AffairsStatus.OPEN, AffairsStatus.IN_PROGRESS)

    def can_transition_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class ChecklistStep(models.Model):
    """A step done on an affairs case: when (`done_on`), who, a note and an optional document."""

    affairs = models.ForeignKey(AffairsCase, on_delete=models.PROTECT, related_name="steps")
    definition = models.ForeignKey(ChecklistStepDefinition, on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["definition__order", "id"]
        constraints = [models.UniqueConstraint(fields=["affairs", "definition"], name="affairs_step_once")]

    def __str__(self) -> str:
        return f"{self.definition.label} done {self.done_on or self.completed_at.date()}"


class AffairsCost(models.Model):
    """Costs of protecting a client's property (Care Act s.47(7)) charged to their account: the
    ledger entry is the financial record; this row says why and on which case."""

    affairs = models.ForeignKey(AffairsCase, on_delete=models.PROTECT, related_name="costs")
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]


class CapacityAssessment(models.Model):
    """A mental capacity assessment about a financial decision (Mental Capacity Act 2005): who
    assessed, when, the decision in question and the outcome, with its evidence. The latest
    assessment sets the client's capacity fields (through casework's client_update)."""

    OUTCOMES = [(Capacity.HAS.value, Capacity.HAS.label), (Capacity.LACKS.value, Capacity.LACKS.label)]

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="capacity_assessments")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    assessed_on = models.DateField()
    assessor = models.CharField(max_length=200, help_text="Name and role of the person who assessed")
    decision = models.CharField(max_length=300, help_text="The financial decision the assessment was about")
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    note = models.TextField(blank=True)
    evidence = models.ForeignKey(Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=[Capacity.HAS, Capacity.LACKS]),
                                   name="capacity_assessment_outcome_known")
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} ({self.assessed_on:%d %B %Y}, {self.assessor})"
