"""Estate cases: recovering a deceased client's care debt from their estate (rules DC-01 to DC-07).

An `EstateCase` holds the estate details of one casework Case of type DECEASED_ESTATE (one to
one): the personal representative (a casework Representative, executor or administrator), what is
known about probate, the estimated value of the estate, the claim sent to the representative, the
next follow-up date and the outcome. The balance owed and the payments received since the death
are never stored: they come from the invoices and the client's ledger (debt.estates).

`stage` changes only through debt.estates.estate_transition, which checks ALLOWED_TRANSITIONS.
How many days pass between follow-ups is data: `EstateFollowUpRule` rows with effective dates; so
is when a death's recovery hold is reviewed (`DeathHoldReviewRule`).
"""
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.models import Case, Letter, Representative

from .billing import money_field
from .writeoffs import WriteOffRequest


class EstateFollowUpRule(models.Model):
    """How many days after an estate case is opened, a claim is sent or a follow-up is recorded the
    next follow-up falls due. The rule in force on a date is the latest `effective_from` on or before it."""

    interval_days = models.PositiveSmallIntegerField()
    effective_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(interval_days__gt=0), name="estatefollowup_positive")]

    def __str__(self) -> str:
        return f"Follow up every {self.interval_days} days (from {self.effective_from:%d %B %Y})"


class DeathHoldReviewRule(models.Model):
    """How many months after a death is recorded the hold it puts on recovery comes up for review:
    after the personal representatives' notice period for claims (Trustee Act 1925 s.27: at least
    two months; rules DC-06). The rule in force on a date is the latest `effective_from` on or before it."""

    months = models.PositiveSmallIntegerField()
    effective_from = models.DateField(unique=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(months__gt=0), name="deathholdreview_positive")]

    def __str__(self) -> str:
        return f"Review a death's recovery hold after {self.months} months (from {self.effective_from:%d %B %Y})"


class EstateStage(models.TextChoices):
    OPEN = "open", "Open: no claim sent yet"
    CLAIM_SENT = "claim_sent", "Claim sent to the personal representative"
    CLOSED = "closed", "Closed"


class ProbateStatus(models.TextChoices):
    NOT_KNOWN = "not_known", "Not known yet"
    SEARCH_MADE = "search_made", "Probate search made"
    GRANT_ISSUED = "grant_issued", "Grant issued"
    NO_GRANT_EXPECTED = "no_grant_expected", "No grant expected"


class EstateOutcome(models.TextChoices):
    PAID_IN_FULL = "paid_in_full", "Paid in full"
    PAID_IN_PART = "paid_in_part", "Paid in part"
    NO_ESTATE = "no_estate", "No estate"
    INSOLVENT = "insolvent", "Insolvent estate"
    RECORDED_IN_ERROR = "recorded_in_error", "Death recorded in error"


#: Outcomes an officer chooses; RECORDED_IN_ERROR comes only from reversing a death.
OFFICER_OUTCOMES = [EstateOutcome.PAID_IN_FULL, EstateOutcome.PAID_IN_PART, EstateOutcome.NO_ESTATE,
                    EstateOutcome.INSOLVENT]
#: Outcomes after which whatever is still owed is put forward for write-off.
WRITE_OFF_OUTCOMES = frozenset({EstateOutcome.PAID_IN_PART, EstateOutcome.NO_ESTATE, EstateOutcome.INSOLVENT})


class EstateCaseQuerySet(models.QuerySet):
    def open(self):
        """Estate cases without an outcome yet."""
        return self.exclude(stage=EstateStage.CLOSED)

    def due_for_follow_up(self, on: date):
        """Open estate cases whose next follow-up date is on or before `on`, most overdue first.
        The follow-up queue, its count and its export all use this."""
        return self.open().filter(next_follow_up_on__lte=on).order_by("next_follow_up_on", "pk")


class EstateCase(models.Model):
    """The estate details of a deceased client's case.

    `date_of_death` is the date in force when the case was opened (payments received after it are
    the estate's). `representative` is the executor or administrator letters go to. Probate:
    `probate_search_on` when a search (or standing search) was made; `grant_issued_on` and
    `grant_reference` once a grant of probate or letters of administration issued. `claim_sent_on`
    and `claim_letter` record the council's notice of its claim (DC-06: proof of notice).
    """

    ALLOWED_TRANSITIONS = {
        EstateStage.OPEN: {EstateStage.CLAIM_SENT, EstateStage.CLOSED},
        EstateStage.CLAIM_SENT: {EstateStage.CLOSED},
        EstateStage.CLOSED: set(),
    }

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="estate")
    date_of_death = models.DateField()
    representative = models.ForeignKey(Representative, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="estate_cases")
    probate_status = models.CharField(max_length=20, choices=ProbateStatus.choices, default=ProbateStatus.NOT_KNOWN)
    probate_search_on = models.DateField(null=True, blank=True)
    grant_issued_on = models.DateField(null=True, blank=True)
    grant_reference = models.CharField(max_length=100, blank=True)
    estimated_value = money_field(null=True, blank=True)
    stage = models.CharField(max_length=15, choices=EstateStage.choices, default=EstateStage.OPEN)
    claim_sent_on = models.DateField(null=True, blank=True)
    claim_letter = models.ForeignKey(Letter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    next_follow_up_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=EstateOutcome.choices, blank=True)
    outcome_note = models.CharField(max_length=1000, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    write_off = models.ForeignKey(WriteOffRequest, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="estate_cases")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_on = models.DateField()

    objects = EstateCaseQuerySet.as_manager()

    class Meta:
        ordering = ["next_follow_up_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(stage=EstateStage.CLOSED) | Q(outcome=""),
                                   name="estatecase_outcome_only_when_closed"),
            models.CheckConstraint(condition=~Q(stage=EstateStage.CLOSED) | ~Q(outcome=""),
                                   name="estatecase_closed_has_outcome"),
            models.CheckConstraint(condition=Q(estimated_value__isnull=True) | Q(estimated_value__gte=0),
                                   name="estatecase_value_not_negative"),
        ]
        indexes = [models.Index(fields=["next_follow_up_on"], condition=~Q(stage="closed"),
                                name="estatecase_due_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"EST-{self.pk:06d}" if self.pk else "EST-new"

    def can_transition_to(self, stage: str) -> bool:
        return stage in self.ALLOWED_TRANSITIONS.get(self.stage, set())


class EstateFollowUp(models.Model):
    """One follow-up an officer recorded: what happened and the next follow-up date it set."""

    estate = models.ForeignKey(EstateCase, on_delete=models.PROTECT, related_name="follow_ups")
    note = models.TextField()
    contact_made = models.BooleanField(default=False)
    previous_follow_up_on = models.DateField()
    next_follow_up_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
