"""The validation engine's rules (PP-05), each with a worked example; WE-11 in full."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from casework.roles import Role
from provider_payments.claim_files import ImportRejected
from provider_payments.constants import ClaimSource, ClaimStatus, LineResult, PackageStatus
from provider_payments.models import Claim, ClaimLine, ToleranceRule
from provider_payments.services.claims import claim_import, claim_totals, claim_transition
from provider_payments.services.rates import rate_add

from .factories import ClientFactory
from .factories_provider import (
    CarePackageFactory,
    ProviderFactory,
    RateFactory,
    band,
    leader,
    officer,
    second_officer,
    service,
)

pytestmark = pytest.mark.django_db

ECM_HEADER = "client_reference,service_code,visit_date,planned_start,planned_minutes,check_in,check_out\n"
INVOICE_HEADER = "client_reference,service_code,service_date,units,unit_rate,amount\n"
START, END = date(2026, 3, 23), date(2026, 4, 19)


def visit(ref: str, day: date, start: str = "08:00", planned: int = 60, actual: int = 60, code="homecare") -> str:
    h, m = (int(x) for x in start.split(":"))
    end = h * 60 + m + actual
    return f"{ref},{code},{day.isoformat()},{start},{planned},{start},{end // 60:02d}:{end % 60:02d}\n"


def ecm(provider, body: str, reference="ECM-1", start=START, end=END):
    return claim_import(provider=provider, source=ClaimSource.ECM, reference=reference, period_start=start,
                        period_end=end, data=(ECM_HEADER + body).encode(), filename="ecm.csv", actor=officer())


def invoice(provider, body: str, reference="INV-1", start=START, end=END):
    return claim_import(provider=provider, source=ClaimSource.INVOICE, reference=reference, period_start=start,
                        period_end=end, data=(INVOICE_HEADER + body).encode(), filename="inv.csv", actor=officer())


@pytest.fixture
def setup():
    """WE-11: 14 hours a week (two 1-hour visits a day), £24.00/h, £25.20/h from 1 April 2026."""
    provider = ProviderFactory()
    RateFactory(provider=provider, rate=Decimal("24.00"), effective_from=date(2026, 1, 1))
    rate_add(provider=provider, service_type=service(), band=band(), rate=Decimal("25.20"),
             effective_from=date(2026, 4, 1), actor=officer())
    package = CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"),
                                 start_date=date(2026, 1, 5))
    return provider, package


def we11_visits(ref: str) -> str:
    """56 visits over 28 days. Old rate: three visits of 45 minutes (17.25 h payable), one of 57
    (within tolerance: paid 60), one of 70 (paid the planned 60). New rate: two of 45 (37.50 h
    payable) and one of 56 (paid 60)."""
    odd = {(date(2026, 3, 24), "08:00"): 45, (date(2026, 3, 25), "17:00"): 45, (date(2026, 3, 27), "08:00"): 45,
           (date(2026, 3, 28), "08:00"): 57, (date(2026, 3, 30), "17:00"): 70,
           (date(2026, 4, 2), "08:00"): 45, (date(2026, 4, 9), "17:00"): 45, (date(2026, 4, 15), "08:00"): 56}
    body = ""
    day = START
    while day <= END:
        for start in ("08:00", "17:00"):
            body += visit(ref, day, start, 60, odd.get((day, start), 60))
        day += timedelta(days=1)
    return body


def test_we11_payable_split_at_the_april_uplift_with_variance_against_commissioned(setup):
    provider, package = setup
    claim = ecm(provider, we11_visits("SC500001"))
    lines = ClaimLine.objects.filter(claim=claim)
    old = sum(l.payable_amount for l in lines if l.service_date < date(2026, 4, 1))
    new = sum(l.payable_amount for l in lines if l.service_date >= date(2026, 4, 1))
    assert (old, new) == (Decimal("414.00"), Decimal("945.00"))
    assert sum(l.payable_units for l in lines if l.service_date < date(2026, 4, 1)) == Decimal("17.25")
    totals = claim_totals(claim)
    assert totals["payable"] == Decimal("1359.00")
    assert totals["commissioned"] == Decimal("1389.60")
    assert totals["variance"] == Decimal("-30.60")
    assert (totals["accepted"], totals["adjusted"], totals["rejected"]) == (53, 3, 0)


def test_visit_within_tolerance_is_paid_as_planned_and_a_short_one_by_the_minute(setup):
    provider, _ = setup
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24), actual=56) + visit("SC500001", date(2026, 3, 25), actual=40))
    within, short = ClaimLine.objects.filter(claim=claim).order_by("row_number")
    assert (within.result, within.payable_amount, within.amount) == (LineResult.ADJUSTED, Decimal("24.00"), Decimal("22.40"))
    assert within.reason == "Visit within 5 minutes of plan: paid the planned 60 minutes"
    assert (short.result, short.payable_amount) == (LineResult.ACCEPTED, Decimal("16.00"))


def test_tolerance_rules_are_data_with_effective_dates(setup):
    provider, _ = setup
    ToleranceRule.objects.create(service_type=service(), effective_from=date(2026, 3, 25), tolerance_minutes=10,
                                 round_to_minutes=15)
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24), actual=52) + visit("SC500001", date(2026, 3, 25), actual=52)
                + visit("SC500001", date(2026, 3, 26), actual=44))
    before, after, short = ClaimLine.objects.filter(claim=claim).order_by("row_number")
    assert before.payable_amount == Decimal("20.80")  # general rule: 8 minutes short is beyond 5, paid 52 minutes
    assert after.payable_amount == Decimal("24.00")  # the home care rule from 25 March: within 10 minutes
    assert short.payable_amount == Decimal("12.00")  # 44 minutes rounded down to 15-minute units: 30 minutes
    assert short.reason == "Visit 16 minutes short: paid 30 minutes (rounded down to 15-minute units)"


def test_visits_after_death_are_rejected(setup):
    provider, package = setup
    package.client.date_of_death = date(2026, 4, 5)
    package.client.save()
    claim = ecm(provider, visit("SC500001", date(2026, 4, 5)) + visit("SC500001", date(2026, 4, 6)))
    on_death, after = ClaimLine.objects.filter(claim=claim).order_by("row_number")
    assert on_death.result == LineResult.ACCEPTED
    assert (after.result, after.payable_amount) == (LineResult.REJECTED, Decimal("0"))
    assert after.reason == "After the client's death on 5 April 2026"
    # The commissioned cost stops at the death too: 2 h a day for 14 days (23 Mar to 5 Apr).
    assert claim.commissioned_cost == Decimal("9") * 2 * Decimal("24.00") + Decimal("5") * 2 * Decimal("25.20")


def test_visits_after_the_package_ended_or_on_a_provisional_package_are_rejected(setup):
    provider, package = setup
    package.end_date = date(2026, 3, 31)
    package.status = PackageStatus.ENDED
    package.save()
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500002"), status=PackageStatus.PROVISIONAL)
    claim = ecm(provider, visit("SC500001", date(2026, 4, 1)) + visit("SC500002", date(2026, 4, 1))
                + visit("SC999999", date(2026, 4, 1)))
    ended, provisional, unknown = ClaimLine.objects.filter(claim=claim).order_by("row_number")
    assert ended.reason == "After the package ended on 31 March 2026"
    assert provisional.reason == "The package for this date is not approved yet"
    assert unknown.reason == "No client with reference SC999999"
    assert {ended.result, provisional.result, unknown.result} == {LineResult.REJECTED}


def test_a_line_outside_the_claim_period_is_rejected(setup):
    provider, _ = setup
    claim = ecm(provider, visit("SC500001", date(2026, 4, 20)))
    line = claim.lines.get()
    assert line.reason == "20 April 2026 is outside the claim period 23 March 2026 to 19 April 2026"


def test_duplicates_within_a_claim_and_across_claims_are_rejected(setup):
    provider, _ = setup
    first = ecm(provider, visit("SC500001", date(2026, 3, 24)) + visit("SC500001", date(2026, 3, 24)))
    original, repeat = first.lines.order_by("row_number")
    assert original.result == LineResult.ACCEPTED
    assert (repeat.result, repeat.reason) == (LineResult.REJECTED, "Duplicates row 2 of this claim")
    claim_transition(claim=first, to_status=ClaimStatus.APPROVED, actor=leader())
    second = ecm(provider, visit("SC500001", date(2026, 3, 24)) + visit("SC500001", date(2026, 3, 24), "17:00"),
                 reference="ECM-2")
    again, other = second.lines.order_by("row_number")
    assert again.reason == "Duplicates row 2 of claim ECM-1, already approved"
    assert other.result == LineResult.ACCEPTED


def test_invoice_rate_above_the_card_is_paid_at_the_card_rate_in_force_that_day(setup):
    provider, _ = setup
    claim = invoice(provider, "SC500001,homecare,2026-03-31,2,25.20,50.40\nSC500001,homecare,2026-04-01,2,25.20,50.40\n")
    before, after = claim.lines.order_by("row_number")
    assert (before.result, before.payable_amount) == (LineResult.ADJUSTED, Decimal("48.00"))
    assert before.reason == "Rate £25.20 claimed; card rate from 1 January 2026 is £24.00"
    assert (after.result, after.payable_amount) == (LineResult.ACCEPTED, Decimal("50.40"))


def test_an_agreed_individual_rate_replaces_the_card(setup):
    provider, package = setup
    package.agreed_rate, package.agreed_rate_reason = Decimal("30.00"), "Complex needs agreed by panel"
    package.save()
    claim = invoice(provider, "SC500001,homecare,2026-04-01,2,30.00,60.00\n")
    assert claim.lines.get().result == LineResult.ACCEPTED


def test_units_beyond_the_weeks_commissioned_hours_are_cut_then_refused(setup):
    provider, _ = setup
    claim = invoice(provider, "SC500001,homecare,2026-03-23,10,24.00,240.00\n"
                              "SC500001,homecare,2026-03-24,6,24.00,144.00\n"
                              "SC500001,homecare,2026-03-25,1,24.00,24.00\n"
                              "SC500001,homecare,2026-03-30,3,24.00,72.00\n")
    a, b, c, d = claim.lines.order_by("row_number")
    assert a.result == LineResult.ACCEPTED
    assert (b.result, b.payable_amount) == (LineResult.ADJUSTED, Decimal("96.00"))
    assert b.reason == "Only 4.00 of the 14.00 commissioned hours for the week of 23 March 2026 remained"
    assert (c.result, c.reason) == (LineResult.REJECTED,
                                    "The 14.00 commissioned hours for the week of 23 March 2026 are already claimed")
    assert d.result == LineResult.ACCEPTED  # a new week


def test_invoice_arithmetic_is_checked(setup):
    provider, _ = setup
    line = invoice(provider, "SC500001,homecare,2026-03-23,2,24.00,50.00\n").lines.get()
    assert (line.result, line.payable_amount) == (LineResult.ADJUSTED, Decimal("48.00"))
    assert line.reason == "Amount £50.00 is not units × rate (£48.00)"


def test_a_malformed_file_is_refused_whole_with_row_numbered_errors(setup):
    provider, _ = setup
    with pytest.raises(ImportRejected) as refused:
        invoice(provider, "SC500001,homecare,2026-03-23,2,24.00,48.00\n"
                          "SC500001,homecare,31/02/2026,two,24.00,48.00\n"
                          ",homecare,2026-03-25,2,24.001,48.00\n")
    assert refused.value.problems == [
        "Row 3, service_date: '31/02/2026' is not a date (use a date like 16/11/2026, 16 Nov 2026 or 2026-11-16)",
        "Row 3, units: 'two' is not a number",
        "Row 4, client_reference: enter a value",
        "Row 4, unit_rate: '24.001' is not an amount: Enter an amount to the penny, with no more than 2 decimal places",
    ]
    assert Claim.objects.count() == 0 and ClaimLine.objects.count() == 0


def test_a_missing_column_is_named(setup):
    provider, _ = setup
    with pytest.raises(ImportRejected) as refused:
        claim_import(provider=provider, source=ClaimSource.INVOICE, reference="X", period_start=START, period_end=END,
                     data=b"client_reference,service_code\nSC500001,homecare\n", filename="x.csv", actor=officer())
    assert "The file has no column 'service_date', 'units', 'unit_rate', 'amount'" in refused.value.problems[0]


def test_each_provider_has_its_own_ecm_column_mapping(setup):
    provider, _ = setup
    provider.ecm_mapping = {"client_reference": "ServiceUserId", "visit_date": "Date", "check_in": "In",
                            "check_out": "Out"}
    provider.save()
    data = ("ServiceUserId,service_code,Date,planned_start,planned_minutes,In,Out\n"
            "SC500001,homecare,24/03/2026,08:00,60,08:02,09:00\n").encode()
    claim = claim_import(provider=provider, source=ClaimSource.ECM, reference="M-1", period_start=START,
                         period_end=END, data=data, filename="m.csv", actor=officer())
    assert claim.lines.get().payable_amount == Decimal("24.00")


def test_the_same_file_twice_is_refused(setup):
    from casework.services import DomainError

    provider, _ = setup
    body = visit("SC500001", date(2026, 3, 24))
    ecm(provider, body)
    with pytest.raises(DomainError, match="already imported as claim ECM-1"):
        ecm(provider, body, reference="ECM-2")


def test_only_officers_and_team_leaders_approve_claims(setup, user_for):
    from casework.services import NotAllowed

    provider, _ = setup
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24)))
    with pytest.raises(NotAllowed):
        claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=user_for(Role.INCOME_OFFICER))
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=second_officer())
    assert provider.ledger.get().amount == Decimal("-24.00")
