"""What the approver of a payment run sees before releasing it, and the record that they looked.

For each provider paid: the payment against the commissioned cost of what it pays for (the claims'
commissioned cost for their periods and the scheduled care), against the provider's previous run,
and against its usual payment (the median of its last N runs); a payment more than a ratio above
its usual, or claims paying more than was commissioned, is flagged. Every line overridden by hand
in the run's claims (who, when, why, and who approved it) and every upheld dispute it pays are
listed. The ratio and N are data (`PaymentFlagRule`, from a date); without a rule in force the
documented defaults below apply.

The run's exceptions page lists the flags, overrides and disputes; opening it is recorded
(`PaymentRunExceptionsOpened`) and the run is released only by someone who has opened them since
it was prepared (payment_run_transition).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from statistics import median

from casework.money import ZERO, format_pounds, to_pennies

from ..constants import PaymentRunStatus
from ..models import (
    ClaimLineOverride,
    Dispute,
    Payment,
    PaymentFlagRule,
    PaymentRun,
    PaymentRunExceptionsOpened,
    ScheduledPayment,
)
from .claims import claim_totals

#: Without a PaymentFlagRule in force: a payment is unusual above 1.5 times the median of the
#: provider's last 6 runs.
DEFAULT_USUAL_RUNS = 6
DEFAULT_RATIO = Decimal("1.50")


@dataclass(frozen=True)
class FlagRule:
    usual_runs: int
    ratio: Decimal


def flag_rule_on(on: date) -> FlagRule:
    row = PaymentFlagRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    return FlagRule(row.usual_runs, row.ratio) if row else FlagRule(DEFAULT_USUAL_RUNS, DEFAULT_RATIO)


@dataclass
class ProviderReview:
    """One provider's payment in the run, against what it should be."""

    payment: Payment
    claims_payable: Decimal
    claims_commissioned: Decimal
    scheduled: Decimal
    disputes: Decimal
    previous: Payment | None
    usual: Decimal | None
    usual_count: int
    flags: list[str] = field(default_factory=list)

    @property
    def commissioned(self) -> Decimal:
        """The commissioned cost of what this payment pays for: the claims' periods and scheduled care."""
        return to_pennies(self.claims_commissioned + self.scheduled)

    @property
    def against_commissioned(self) -> Decimal:
        return to_pennies(self.payment.gross - self.commissioned)

    @property
    def against_previous(self) -> Decimal | None:
        return None if self.previous is None else to_pennies(self.payment.net - self.previous.net)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def _previous_payments(payment: Payment, runs: int) -> list[Payment]:
    return list(Payment.objects.filter(provider_id=payment.provider_id,
                                       payment_run__payment_date__lt=payment.payment_run.payment_date)
                .exclude(payment_run__status=PaymentRunStatus.CANCELLED).select_related("payment_run")
                .order_by("-payment_run__payment_date", "-pk")[:runs])


def provider_reviews(payment_run: PaymentRun) -> list[ProviderReview]:
    rule = flag_rule_on(payment_run.payment_date)
    reviews = []
    payments = (Payment.objects.filter(payment_run=payment_run).select_related("provider", "payment_run")
                .prefetch_related("claims").order_by("provider__name", "pk"))
    for payment in payments:
        claims = list(payment.claims.all())
        payable = to_pennies(sum((claim_totals(c)["payable"] for c in claims), ZERO))
        commissioned = to_pennies(sum((c.commissioned_cost for c in claims), ZERO))
        scheduled = to_pennies(sum(ScheduledPayment.objects.filter(payment=payment).values_list("amount", flat=True),
                                   ZERO))
        disputes = to_pennies(sum(Dispute.objects.filter(payment=payment).values_list("outcome_amount", flat=True),
                                  ZERO))
        earlier = _previous_payments(payment, rule.usual_runs)
        usual = to_pennies(Decimal(median([p.net for p in earlier]))) if earlier else None
        review = ProviderReview(payment=payment, claims_payable=payable, claims_commissioned=commissioned,
                                scheduled=scheduled, disputes=disputes, previous=earlier[0] if earlier else None,
                                usual=usual, usual_count=len(earlier))
        net = payment.net
        if usual is not None and net > rule.ratio * usual:
            times = f"{(net / usual).quantize(Decimal('0.1'))} times" if usual > 0 else "more than"
            review.flags.append(f"{format_pounds(net)} is {times} its usual {format_pounds(usual)} (the median of its "
                                f"last {len(earlier)} run{'s' if len(earlier) != 1 else ''}; flagged above "
                                f"{rule.ratio} times)")
        if payable > commissioned and claims:
            review.flags.append(f"Its claims pay {format_pounds(payable)}, {format_pounds(payable - commissioned)} more "
                                f"than the {format_pounds(commissioned)} commissioned for their periods")
        reviews.append(review)
    return reviews


def run_overrides(payment_run: PaymentRun):
    """Every override of a line of a claim the run pays, oldest first within each claim."""
    return (ClaimLineOverride.objects.filter(claim__payment__payment_run=payment_run)
            .select_related("claim__provider", "line", "made_by", "approved_by", "request")
            .order_by("claim__provider__name", "claim__reference", "line__row_number", "made_at", "pk"))


def run_disputes(payment_run: PaymentRun):
    """Upheld disputes the run pays: amounts decided by hand."""
    return (Dispute.objects.filter(payment__payment_run=payment_run).select_related("provider", "claim", "decided_by")
            .order_by("provider__name", "pk"))


@dataclass
class Exceptions:
    reviews: list[ProviderReview]
    overrides: list[ClaimLineOverride]
    disputes: list[Dispute]

    @property
    def flagged(self) -> list[ProviderReview]:
        return [r for r in self.reviews if r.flagged]

    @property
    def count(self) -> int:
        return len(self.flagged) + len(self.overrides) + len(self.disputes)


def run_exceptions(payment_run: PaymentRun) -> Exceptions:
    return Exceptions(provider_reviews(payment_run), list(run_overrides(payment_run)), list(run_disputes(payment_run)))


def exceptions_opened_by(payment_run: PaymentRun, user) -> PaymentRunExceptionsOpened | None:
    """When `user` first opened the run's exceptions after it was prepared, or None."""
    if payment_run.prepared_at is None or user is None or not user.pk:
        return None
    return (PaymentRunExceptionsOpened.objects.filter(payment_run=payment_run, opened_by=user,
                                                      opened_at__gte=payment_run.prepared_at)
            .order_by("opened_at", "pk").first())


def exceptions_open(*, payment_run: PaymentRun, user) -> PaymentRunExceptionsOpened | None:
    """Record that `user` opened the exceptions of a prepared run (once: the first time counts)."""
    if payment_run.prepared_at is None:
        return None
    return exceptions_opened_by(payment_run, user) or PaymentRunExceptionsOpened.objects.create(
        payment_run=payment_run, opened_by=user)
