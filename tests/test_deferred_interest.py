"""The interest engine and the equity limit against the worked examples, to the penny (rules.md
WE-4, WE-5, WE-6; DP-04, DP-07, DP-08, DP-13)."""
from datetime import date
from decimal import Decimal

import pytest

from deferred_payments.interest import MissingRate, interest_postings, redemption_amount
from deferred_payments.reference import RateTable
from deferred_payments.services import equity_limit

D = Decimal
#: DP-13 national maxima used by WE-5; the council charges the maximum.
MAXIMA = {date(2024, 1, 1): D("4.65"), date(2024, 7, 1): D("4.05"), date(2025, 1, 1): D("4.25")}


def table(council=None):
    return RateTable(maxima=MAXIMA, council=council or [])


def test_we5_daily_compounding_across_a_rate_change():
    """WE-5: £40,000 on 1 January 2024: £938.23 to 30 June at 4.65%, then £844.36 to 31 December at 4.05%."""
    postings = interest_postings(movements=[(date(2024, 1, 1), D("40000.00"))], through=date(2024, 12, 31),
                                 rate_for=table())
    assert [(p.period_start, p.period_end, p.amount) for p in postings] == [
        (date(2024, 1, 1), date(2024, 6, 30), D("938.23")),
        (date(2024, 7, 1), date(2024, 12, 31), D("844.36")),
    ]
    assert D("40000.00") + sum(p.amount for p in postings) == D("41782.59")
    assert postings[0].rates == [["2024-01-01", "2024-06-30", "4.65", "4.65"]]
    assert postings[1].rates == [["2024-07-01", "2024-12-31", "4.05", "4.05"]]


def test_we5_the_period_switches_exactly_on_1_july():
    """Through 30 June only the first period is complete; 1 July's interest is at the new rate."""
    assert [p.amount for p in interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30),
                                                rate_for=table())] == [D("938.23")]
    assert interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 29),
                             rate_for=table()) == []
    # One day at 4.05% on £40,938.23: 40,938.23 × 0.0405 / 365 = £4.54.
    principal, interest = redemption_amount(movements=[(date(2024, 1, 1), D("40000"))], on=date(2024, 7, 2),
                                            rate_for=table())
    assert (principal, interest) == (D("40000.00"), D("942.77"))


def test_we5_simple_interest_differs_and_monthly_compounding_gives_another_figure():
    simple_first_half = (D("40000") * D("0.0465") * 182 / 365).quantize(D("0.01"))
    assert simple_first_half == D("927.45")  # WE-5's comparison figure
    monthly = interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30),
                                rate_for=table(), compounding="monthly")
    assert len(monthly) == 6
    assert sum(p.amount for p in monthly) not in (D("938.23"), D("927.45"))
    # January: simple daily interest for 31 days, added at the month end.
    assert monthly[0].amount == (D("40000") * D("0.0465") / 365 * 31).quantize(D("0.01"))
    quarterly = interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30),
                                  rate_for=table(), compounding="quarterly")
    assert [p.period_end for p in quarterly] == [date(2024, 3, 31), date(2024, 6, 30)]


def test_a_council_rate_below_the_maximum_is_used_and_a_higher_one_is_capped():
    below = table(council=[(date(2015, 4, 1), D("3.00"))])
    postings = interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30), rate_for=below)
    expected = (D("40000") * (1 + D("0.03") / 365) ** 182).quantize(D("0.01")) - D("40000")
    assert postings[0].amount == expected
    above = table(council=[(date(2015, 4, 1), D("9.00"))])
    capped = interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30), rate_for=above)
    assert capped[0].amount == D("938.23")
    assert capped[0].rates[0][2:] == ["4.65", "4.65"]


def test_a_council_rate_change_inside_a_half_year_splits_the_days():
    council = [(date(2015, 4, 1), None), (date(2024, 4, 1), D("2.00"))]
    postings = interest_postings(movements=[(date(2024, 1, 1), D("40000"))], through=date(2024, 6, 30),
                                 rate_for=table(council))
    unrounded = D("40000") * (1 + D("0.0465") / 365) ** 91 * (1 + D("0.02") / 365) ** 91
    assert postings[0].amount == unrounded.quantize(D("0.01")) - D("40000")
    assert [r[:3] for r in postings[0].rates] == [["2024-01-01", "2024-03-31", "4.65"], ["2024-04-01", "2024-06-30", "2.00"]]


def test_a_missing_half_year_is_refused_never_inferred():
    with pytest.raises(MissingRate) as refused:
        interest_postings(movements=[(date(2025, 1, 1), D("1000"))], through=date(2025, 12, 31), rate_for=table())
    assert refused.value.period_start == date(2025, 7, 1)
    assert "1 July 2025 to 31 December 2025" in str(refused.value)


def test_deferrals_inside_a_period_compound_from_their_own_date():
    """A deferral dated D earns interest from D; the period is rounded once, at its end."""
    movements = [(date(2024, 1, 1), D("40000")), (date(2024, 4, 1), D("1000"))]
    postings = interest_postings(movements=movements, through=date(2024, 6, 30), rate_for=table())
    daily = 1 + D("0.0465") / 365
    unrounded = D("40000") * daily ** 182 + D("1000") * daily ** 91
    assert postings[0].amount == unrounded.quantize(D("0.01")) - D("41000")


def test_we6_redemption_figures_to_the_penny():
    """Paying on 1 January 2025 clears £41,782.59 (WE-5's balance); a repayment closes the period."""
    movements = [(date(2024, 1, 1), D("40000"))]
    assert redemption_amount(movements=movements, on=date(2025, 1, 1), rate_for=table()) == (D("40000.00"), D("1782.59"))
    assert redemption_amount(movements=movements, on=date(2024, 7, 1), rate_for=table()) == (D("40000.00"), D("938.23"))
    # Paid on 1 March 2024: interest for 60 days (1 Jan to 29 Feb, a leap year).
    expected = (D("40000") * (1 + D("0.0465") / 365) ** 60).quantize(D("0.01")) - D("40000")
    assert expected == D("306.91")
    assert redemption_amount(movements=movements, on=date(2024, 3, 1), rate_for=table()) == (D("40000.00"), expected)
    # After a repayment of that figure on 1 March nothing more accrues.
    repaid = movements + [(date(2024, 3, 1), D("-40306.91"))]
    postings = interest_postings(movements=repaid, through=date(2024, 12, 31), rate_for=table())
    assert [(p.period_end, p.amount) for p in postings] == [(date(2024, 2, 29), D("306.91"))]


def test_the_day_basis_is_stored_choice():
    """365 in a leap year (the convention) against 366 (the actual basis): different figures."""
    movements = [(date(2024, 1, 1), D("40000"))]
    actual = interest_postings(movements=movements, through=date(2024, 6, 30), rate_for=table(), basis="actual")
    assert actual[0].amount == (D("40000") * (1 + D("0.0465") / 366) ** 182).quantize(D("0.01")) - D("40000")
    assert actual[0].amount != D("938.23")


@pytest.mark.parametrize("value,mortgage,share,expected", [
    (D("250000"), D("20000"), D(100), D("190750.00")),  # WE-4 (1)
    (D("165000"), D("0"), D(100), D("134250.00")),      # WE-4 (2) North Northants
    (D("100000"), D("0"), D(100), D("75750.00")),       # WE-4 (3) payingforcare
    (D("250000"), D("0"), D(50), D("98250.00")),        # half share: 125,000 × 0.9 − 14,250
    (D("15000"), D("0"), D(100), D("0.00")),            # never below zero
])
def test_we4_equity_limit(value, mortgage, share, expected):
    _, _, limit = equity_limit(value=value, share_percent=share, value_percent=D(90),
                               lower_capital_limit=D("14250"), existing_charges=mortgage)
    assert limit == expected
