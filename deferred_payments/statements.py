"""Statements: the six-monthly statement (half-years ending 30 June and 31 December), a statement
on request (produced at once, well inside 28 days) and the redemption statement for a chosen date.
Each is a PDF letter to the right correspondent (casework.correspondence) and a Statement row."""
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.letters.services import letter_produce
from casework.letters.types import get_letter_type
from casework.models import LedgerEntry
from casework.money import to_pennies
from casework.services import DomainError
from casework.services.system import system_user

from . import services
from .interest import MissingRate
from .letters import REDEMPTION_LETTER, STATEMENT_LETTER
from .rates_today import interest_sentence, rate_missing_notify
from .reference import RateTable
from .models import MONEY_STATES, Agreement, FeeWaiver, InterestPosting, State, Statement, StatementKind

ONE_DAY = timedelta(days=1)


def last_half_year_end(before: date) -> date:
    """The last 30 June or 31 December strictly before `before`."""
    return date(before.year, 6, 30) if before.month > 6 else date(before.year - 1, 12, 31)


def half_year_start_of(end: date) -> date:
    return date(end.year, 1, 1) if end.month == 6 else date(end.year, 7, 1)


def statement_figures(agreement: Agreement, start: date, end: date) -> dict:
    """The period's movements by kind and the position at its end, as strings for the record."""
    entries = LedgerEntry.objects.filter(account_id=agreement.account_id)
    opening = to_pennies(entries.filter(effective_date__lt=start).aggregate(t=Sum("amount"))["t"])
    period = entries.filter(effective_date__gte=start, effective_date__lte=end)

    def total(*kinds) -> Decimal:
        return to_pennies(period.filter(kind__in=kinds).aggregate(t=Sum("amount"))["t"])

    deferred, fees, interest = total(EntryKind.CHARGE), total(EntryKind.FEE), total(EntryKind.INTEREST)
    # Credits that waived a fee are shown as such, not as repayments.
    waived = to_pennies(period.filter(pk__in=FeeWaiver.objects.filter(fee__agreement=agreement).values("entry_id"))
                        .aggregate(t=Sum("amount"))["t"])
    repaid = total(EntryKind.PAYMENT, EntryKind.CREDIT, EntryKind.WRITE_OFF, EntryKind.ADJUSTMENT,
                   EntryKind.REFUND) - waived
    closing = opening + deferred + fees + waived + interest + repaid
    position = services.equity_position(agreement, end, total_owed=closing)
    rates, applied = [], []
    for posting in InterestPosting.objects.filter(agreement=agreement, reversal__isnull=True,
                                                  period_end__gte=start, period_end__lte=end):
        for row in posting.rates:
            applied.append(row)
            text = f"{Decimal(row[2]).normalize()}%"
            if text not in rates:
                rates.append(text)
    compounding = agreement.get_compounding_display().lower()
    return {
        "period_start": start.isoformat(), "period_end": end.isoformat(), "opening": str(opening),
        "deferred": str(deferred), "fees": str(fees), "fees_waived": str(waived), "interest": str(interest),
        "repaid": str(repaid),
        "closing": str(closing), "equity_limit": str(position.limit), "headroom": str(position.headroom),
        "weekly_deferral": str(position.weekly_deferral),
        "projected_date": position.projected_date.isoformat() if position.projected_date else None,
        # Only rates that were applied: a period without one has no figure to print.
        "rates_text": f"{' and '.join(rates)} a year, compounded {compounding}" if rates else "",
        "interest_sentence": interest_sentence(start=start, end=end, applied=applied, compounding=compounding),
    }


def _produce(agreement: Agreement, *, kind: str, start: date, end: date, actor, on: date, run_item=None,
             requested_on: date | None = None) -> Statement:
    figures = statement_figures(agreement, start, end)
    context = get_letter_type(STATEMENT_LETTER).build_context(agreement.client, on, agreement=agreement, figures=figures)
    letter = letter_produce(client=agreement.client, letter_type=STATEMENT_LETTER, on=on, actor=actor,
                            case=agreement.case, run_item=run_item, context=context)
    return Statement.objects.create(agreement=agreement, kind=kind, period_start=start, period_end=end,
                                    figures=figures, requested_on=requested_on, letter=letter,
                                    produced_by=actor or system_user())


def six_monthly_due(agreement: Agreement, business_date: date) -> date | None:
    """The half-year end whose statement the agreement still needs on this date, or None."""
    if agreement.state not in MONEY_STATES or agreement.start_date is None:
        return None
    end = last_half_year_end(business_date)
    if end < agreement.start_date:
        return None
    if Statement.objects.filter(agreement=agreement, kind=StatementKind.SIX_MONTHLY, period_end=end).exists():
        return None
    if agreement.state == State.TERMINATED and services.agreement_balance(agreement) == 0 \
            and agreement.repaid_on and agreement.repaid_on <= half_year_start_of(end):
        return None
    return end


def six_monthly_produce(*, agreement: Agreement, business_date: date, actor, run_item=None) -> Statement | None:
    """The statement for the last half-year ended before the business date, once only: interest to
    the half-year end is posted first so the statement shows it."""
    end = six_monthly_due(agreement, business_date)
    if end is None:
        return None
    start = max(half_year_start_of(end), agreement.start_date)
    rates = RateTable()
    if half_year_start_of(end) not in rates.maxima:
        rate_missing_notify(half_year_start_of(end), on=business_date)
        raise DomainError(str(MissingRate(half_year_start_of(end))))
    services.interest_accrue(agreement=agreement, through=end, actor=actor or system_user(), rates=rates)
    try:
        with transaction.atomic():
            statement = _produce(agreement, kind=StatementKind.SIX_MONTHLY, start=start, end=end, actor=actor,
                                 on=business_date, run_item=run_item)
    except IntegrityError:
        return None  # another worker produced it in the same instant
    services._record(agreement, action="statement.produced", kind=TimelineKind.LETTER, actor=actor,
                     summary=f"Six-monthly statement to {end:%-d %B %Y}: £{Decimal(statement.figures['closing']):,.2f} owed",
                     new={"statement": statement.pk, "letter": statement.letter_id})
    return statement


@transaction.atomic
def statement_on_request(*, agreement: Agreement, actor, requested_on: date | None = None) -> Statement:
    """A statement asked for by the person or their representative: from the last half-year end to
    yesterday, with interest to yesterday (posted only at the half-year; shown here as accrued)."""
    today = timezone.localdate()
    requested_on = requested_on or today
    if agreement.state not in MONEY_STATES or agreement.start_date is None:
        raise DomainError(f"{agreement.reference} has no account yet: a statement starts once it is active")
    end = today - ONE_DAY
    if end < agreement.start_date:
        raise DomainError("The agreement started today: there is nothing to state yet")
    services.interest_accrue(agreement=agreement, through=end, actor=actor)
    start = max(last_half_year_end(today) + ONE_DAY, agreement.start_date)
    statement = _produce(agreement, kind=StatementKind.ON_REQUEST, start=start, end=end, actor=actor, on=today,
                         requested_on=requested_on)
    principal, interest = services.redemption(agreement, today)
    accrued = principal + interest - Decimal(statement.figures["closing"])
    services._record(agreement, action="statement.requested", kind=TimelineKind.LETTER, actor=actor,
                     summary=f"Statement on request to {end:%-d %B %Y}: £{Decimal(statement.figures['closing']):,.2f} "
                             f"posted, £{accrued:,.2f} interest accrued since",
                     new={"statement": statement.pk, "letter": statement.letter_id})
    return statement


@transaction.atomic
def redemption_statement(*, agreement: Agreement, on: date, actor) -> Statement:
    """The exact amount to repay on a chosen date, as a letter (sale, or the estate paying)."""
    if agreement.state not in MONEY_STATES:
        raise DomainError(f"{agreement.reference} holds no debt")
    today = timezone.localdate()
    if on < today:
        raise DomainError("Choose today or a later date", field="on")
    if on > today + timedelta(days=366):
        raise DomainError("Choose a date within a year", field="on")
    figures = services.redemption_figures(agreement, on)
    context = get_letter_type(REDEMPTION_LETTER).build_context(agreement.client, today, agreement=agreement,
                                                               figures=figures)
    letter = letter_produce(client=agreement.client, letter_type=REDEMPTION_LETTER, on=today, actor=actor,
                            case=agreement.case, context=context)
    record = {"on": on.isoformat(), "principal": str(figures["principal"]), "interest": str(figures["interest"]),
              "total": str(figures["total"]), "period_start": agreement.start_date.isoformat(),
              "period_end": (on - ONE_DAY).isoformat()}
    statement = Statement.objects.create(agreement=agreement, kind=StatementKind.REDEMPTION,
                                         period_start=agreement.start_date, period_end=on - ONE_DAY, figures=record,
                                         requested_on=today, letter=letter, produced_by=actor)
    services._record(agreement, action="statement.redemption", kind=TimelineKind.LETTER, actor=actor,
                     summary=f"Redemption statement: £{figures['total']:,.2f} repays the debt on {on:%-d %B %Y}",
                     new={"statement": statement.pk, "total": str(figures["total"])})
    return statement


def overdue_filter(on: date) -> Q:
    """Agreements whose six-monthly statement for the last half-year is overdue (grace days as data)."""
    from .reference import rule_on

    end = last_half_year_end(on)
    if (on - end).days <= rule_on(on).statement_grace_days:
        end = last_half_year_end(half_year_start_of(end))
    produced = Statement.objects.filter(agreement=OuterRef("pk"), kind=StatementKind.SIX_MONTHLY, period_end=end)
    return (Q(state__in=MONEY_STATES, start_date__lte=end) & ~Q(Exists(produced))
            & ~Q(state=State.TERMINATED, repaid_on__lte=half_year_start_of(end)))
