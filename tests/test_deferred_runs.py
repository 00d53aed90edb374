"""The deferred payment jobs on the runs engine: the nightly accrual and the six-monthly
statements, each idempotent (a second run, or the same run resumed, adds nothing)."""
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from casework.models import LedgerEntry, Letter, PrintBatch, Run
from casework.runs.services import run_start
from deferred_payments.models import InterestPosting, Statement, StatementKind
from deferred_payments.statements import last_half_year_end

from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def start(job: str, on: date) -> Run:
        with django_capture_on_commit_callbacks(execute=True):
            started = run_start(job=job, business_date=on, trigger="test")
        started.refresh_from_db()
        return started
    return start


def test_last_half_year_end():
    assert last_half_year_end(date(2024, 7, 1)) == date(2024, 6, 30)
    assert last_half_year_end(date(2024, 12, 31)) == date(2024, 6, 30)
    assert last_half_year_end(date(2025, 1, 1)) == date(2024, 12, 31)
    assert last_half_year_end(date(2024, 6, 30)) == date(2023, 12, 31)


def test_the_accrual_run_posts_once_and_a_second_run_adds_nothing(run):
    agreements = [active_agreement() for _ in range(2)]
    first = run("dpa_accrual", date(2024, 7, 1))
    assert first.status == "completed", first.error
    entries = LedgerEntry.objects.filter(account__deferred_payment_agreement__in=agreements).count()
    # 26 weekly deferrals to 30 June, the set-up fee and one interest posting each.
    assert entries == 2 * (26 + 1 + 1)
    assert InterestPosting.objects.filter(agreement__in=agreements).count() == 2
    again = run("dpa_accrual", date(2024, 7, 2))
    assert again.status == "completed"
    assert LedgerEntry.objects.filter(account__deferred_payment_agreement__in=agreements).count() == entries
    assert set(again.items.values_list("outcome", flat=True)) == {"Nothing due"}


def test_the_statements_run_sends_one_statement_per_agreement_per_half_year(run):
    agreement = active_agreement(weekly_care_cost=D("1000.00"), weekly_contribution=D("300.00"))
    run("dpa_accrual", date(2024, 7, 1))
    statements = run("dpa_statements", date(2024, 7, 1))
    assert statements.status == "completed", statements.error
    statement = Statement.objects.get(agreement=agreement, kind=StatementKind.SIX_MONTHLY)
    assert statement.period_end == date(2024, 6, 30)
    figures = statement.figures
    # Deferred £700 × 26 weeks; set-up fee £176.10; the half-year's interest as posted.
    assert figures["deferred"] == "18200.00"
    assert figures["fees"] == "176.10"
    interest = InterestPosting.objects.get(agreement=agreement).amount
    assert figures["interest"] == str(interest)
    assert D(figures["closing"]) == D("18376.10") + interest
    assert D(figures["equity_limit"]) == D("210750.00")  # £250,000 × 90% − £14,250
    assert D(figures["headroom"]) == D("210750.00") - D(figures["closing"])
    assert statement.letter.letter_type == "dpa_statement"
    assert PrintBatch.objects.filter(run=statements).exists()
    # The next day's run finds nothing to send.
    next_day = run("dpa_statements", date(2024, 7, 2))
    assert next_day.items.count() == 0
    assert Letter.objects.filter(letter_type="dpa_statement").count() == 1


def test_the_set_based_night_posts_what_one_by_one_would(run):
    """The same agreements through the run (set-based groups) and through services.nightly."""
    from casework.services.system import system_user
    from deferred_payments import services

    grouped = [active_agreement(weekly_care_cost=D("1000.00") + n, weekly_contribution=D("300.00")) for n in range(3)]
    alone = [active_agreement(weekly_care_cost=D("1000.00") + n, weekly_contribution=D("300.00")) for n in range(3)]
    for on in (date(2024, 6, 24), date(2024, 7, 1), date(2024, 7, 8)):
        with mock.patch("deferred_payments.jobs.services.nightly", side_effect=AssertionError("not set-based")):
            done = run("dpa_accrual", on)
        assert done.status == "completed", list(done.items.values_list("outcome", flat=True))
        for agreement in alone:
            services.nightly(agreement=agreement.__class__.objects.get(pk=agreement.pk), business_date=on,
                             actor=system_user())

    def ledger(agreement):
        return [(e.kind, e.effective_date, e.amount) for e in
                LedgerEntry.objects.filter(account_id=agreement.account_id).order_by("effective_date", "kind", "amount")]

    for a, b in zip(grouped, alone):
        assert ledger(a) == ledger(b)
        assert len(ledger(a)) == 1 + 27 + 1  # set-up fee, 27 weeks to 7 July, interest to 30 June
