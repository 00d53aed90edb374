"""The committed-spend forecast: hand-worked figures for uplifts (from 1 April and mid-year), a
package ending in the year, an agreed rate, provisional placements apart, actuals from paid claims
and released scheduled payments, grouping by area and team, the page, its export and the API."""
import csv
import io
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from casework.constants import CaseStatus
from casework.models import Area, Run
from casework.roles import Role
from provider_payments import forecast as fc
from provider_payments.constants import ClaimStatus, LineResult, PackageStatus, PaymentRunStatus
from provider_payments.models import Claim, ClaimLine, Payment, PaymentRun, ScheduledPayment

from .factories import CaseFactory, ClientFactory, TeamFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, officer, service

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = date(2026, 9, 15)  # in the 2026/27 financial year
YEAR = 2026


def _cells(report, kind):
    return {k: v for k, v in report.cells.items() if k[4] == kind}


def _by_month(report, kind):
    return {row.key: getattr(row, kind) for row in report.by_month if getattr(row, kind)}


# Pure arithmetic -----------------------------------------------------------------------------

def test_financial_year_runs_from_april_to_march():
    assert fc.financial_year_of(date(2026, 3, 31)) == 2025
    assert fc.financial_year_of(date(2026, 4, 1)) == 2026
    assert fc.year_bounds(2026) == (date(2026, 4, 1), date(2027, 3, 31))
    assert fc.year_label(2026) == "2026/27"


def test_a_month_split_at_a_mid_month_rate_change_is_rounded_once_for_the_month():
    # 15 days at £20.05 and 15 at £21.03, 10 units a week: 429.642857 + 450.642857 = 880.285714.
    # Rounded once: £880.29 (rounding each piece would give £880.28).
    costs, unpriced = fc.month_costs(first=date(2026, 11, 1), last=date(2026, 11, 30), units=D("10"), agreed_rate=None,
                                     dates=[date(2026, 4, 1), date(2026, 11, 16)], rates=[D("20.05"), D("21.03")])
    assert costs == {date(2026, 11, 1): D("880.29")}
    assert unpriced is False


def test_days_before_any_rate_are_not_costed_and_flagged():
    costs, unpriced = fc.month_costs(first=date(2026, 9, 1), last=date(2026, 9, 30), units=D("7"), agreed_rate=None,
                                     dates=[date(2026, 9, 16)], rates=[D("14.00")])
    assert costs == {date(2026, 9, 1): D("210.00")}  # 15 days × 7 × £14 ÷ 7
    assert unpriced is True


@pytest.mark.parametrize("first,last,amount,parts", [
    (date(2026, 8, 24), date(2026, 9, 20), D("2800.00"), {date(2026, 8, 1): D("800.00"), date(2026, 9, 1): D("2000.00")}),
    (date(2026, 8, 29), date(2026, 9, 1), D("100.00"), {date(2026, 8, 1): D("75.00"), date(2026, 9, 1): D("25.00")}),
    (date(2026, 8, 30), date(2026, 9, 1), D("100.00"), {date(2026, 8, 1): D("66.67"), date(2026, 9, 1): D("33.33")}),
])
def test_a_scheduled_payment_is_shared_between_months_by_days_and_adds_up(first, last, amount, parts):
    shared = fc.share_by_month(first, last, amount)
    assert shared == parts
    assert sum(shared.values()) == amount


# Worked examples against the database ------------------------------------------------------

@pytest.fixture
def council():
    """Two areas, two teams, and the packages of the worked examples."""
    north, south = Area.objects.create(name="North"), Area.objects.create(name="South")
    adults, older = TeamFactory(name="Adults team"), TeamFactory(name="Older people team")
    provider = ProviderFactory()
    # Card rates: £20 from April 2025, an uplift to £21 from 1 April 2026 and another, mid-year, to
    # £22.40 from 1 October 2026.
    for rate, effective in ((D("20.00"), date(2025, 4, 1)), (D("21.00"), date(2026, 4, 1)), (D("22.40"), date(2026, 10, 1))):
        RateFactory(provider=provider, rate=rate, effective_from=effective)
    care_home = ProviderFactory()
    RateFactory(provider=care_home, service_type=service("residential"), rate=D("850.00"), effective_from=date(2025, 4, 1))
    ann = ClientFactory(area=north)
    CaseFactory(client=ann, team=adults)
    bob = ClientFactory(area=south)
    CaseFactory(client=bob, team=adults, status=CaseStatus.CLOSED)
    CaseFactory(client=bob, team=older)  # the open case wins over the closed one
    cath = ClientFactory(area=None)  # no area, no case
    return {
        "north": north, "south": south, "adults": adults, "older": older, "provider": provider, "ann": ann, "bob": bob,
        "cath": cath,
        # 14 hours a week at the card rate, open-ended.
        "a": CarePackageFactory(client=ann, provider=provider, units_per_week=D("14"), start_date=date(2026, 1, 5)),
        # 7 hours a week at an agreed £30.00, ending 10 November 2026.
        "b": CarePackageFactory(client=bob, provider=provider, units_per_week=D("7"), start_date=date(2026, 5, 1),
                                end_date=date(2026, 11, 10), agreed_rate=D("30.00"), agreed_rate_reason="Panel"),
        # A provisional care home placement from 1 September 2026.
        "c": CarePackageFactory(client=cath, provider=care_home, service_type=service("residential"),
                                units_per_week=D("1"), start_date=date(2026, 9, 1), status=PackageStatus.PROVISIONAL),
    }


def test_card_rate_package_with_a_mid_year_uplift(council):
    report = fc.forecast(fc.Filters(year=YEAR, area=council["north"].pk), TODAY)
    committed = _by_month(report, "committed")
    # 15 to 30 September at £21.00: 14 × 21 × 16 ÷ 7 = £672.00.
    assert committed[date(2026, 9, 1)] == D("672.00")
    # From 1 October at £22.40 (£313.60 a week): October 31 days = £1,388.80; February 28 days = £1,254.40.
    assert committed[date(2026, 10, 1)] == D("1388.80")
    assert committed[date(2027, 2, 1)] == D("1254.40")
    # October to March is 182 days, 26 weeks: 26 × £313.60 = £8,153.60; with September £8,825.60.
    assert report.total.committed == D("8825.60")
    assert date(2026, 8, 1) not in committed  # nothing is forecast before today


def test_uplift_effective_1_april_counts_for_a_year_still_to_come(council):
    # Forecasting 2026/27 as it stood on 1 March 2026: April to September at £21.00 (the April uplift),
    # October to March at £22.40. April: 30 days × 14 × £21 ÷ 7 = £1,260.00.
    report = fc.forecast(fc.Filters(year=YEAR, area=council["north"].pk), date(2026, 3, 1))
    assert report.forecast_from == date(2026, 4, 1)
    committed = _by_month(report, "committed")
    assert committed[date(2026, 4, 1)] == D("1260.00")
    # 183 days (April to September) at £42.00 a day, 182 at £44.80: £7,686.00 + £8,153.60.
    assert report.total.committed == D("15839.60")


def test_package_ending_mid_year_stops_at_its_end_date_at_its_agreed_rate(council):
    report = fc.forecast(fc.Filters(year=YEAR, area=council["south"].pk), TODAY)
    committed = _by_month(report, "committed")
    # £210 a week at the agreed rate, uplifts ignored: 16 days £480.00, October £930.00, 1 to 10 November £300.00.
    assert committed == {date(2026, 9, 1): D("480.00"), date(2026, 10, 1): D("930.00"), date(2026, 11, 1): D("300.00")}


def test_a_client_who_dies_is_not_costed_after_the_death(council):
    ann = council["ann"]
    ann.date_of_death = date(2026, 10, 3)
    ann.save()
    report = fc.forecast(fc.Filters(year=YEAR, area=council["north"].pk), TODAY)
    # September £672.00, 1 to 3 October at £44.80 a day: £134.40.
    assert _by_month(report, "committed") == {date(2026, 9, 1): D("672.00"), date(2026, 10, 1): D("134.40")}


def test_provisional_placements_are_shown_apart_and_not_in_the_outturn(council):
    report = fc.forecast(fc.Filters(year=YEAR, area=fc.NONE), TODAY)
    provisional = _by_month(report, "provisional")
    # £850 a week: 16 days £1,942.86 (1,942.857…), October £3,764.29 (3,764.285…).
    assert provisional[date(2026, 9, 1)] == D("1942.86")
    assert provisional[date(2026, 10, 1)] == D("3764.29")
    assert report.total.committed == D("0.00")
    assert report.total.outturn == D("0.00")
    assert report.total.provisional == sum(provisional.values())
    assert report.provisional_count == 1


def test_grouped_by_area_and_team_with_no_area_and_no_team(council):
    report = fc.forecast(fc.Filters(year=YEAR), TODAY)
    by_area = {r.group: r for r in report.by_area}
    by_team = {r.group: r for r in report.by_team}
    assert by_area["North"].committed == D("8825.60")
    assert by_area["South"].committed == D("1710.00")
    assert by_area[fc.NO_AREA].provisional == report.total.provisional
    assert by_team["Adults team"].committed == D("8825.60")
    assert by_team["Older people team"].committed == D("1710.00")  # Bob's open case, not his closed one
    assert by_team[fc.NO_TEAM].provisional == report.total.provisional
    assert [r.group for r in report.by_area][-1] == fc.NO_AREA
    # Every table adds up to the same totals.
    for rows in (report.by_month, report.by_service, report.by_area, report.by_team):
        assert sum((r.committed for r in rows), D("0")) == report.total.committed
        assert sum((r.provisional for r in rows), D("0")) == report.total.provisional
    only_older = fc.forecast(fc.Filters(year=YEAR, team=council["older"].pk), TODAY)
    assert only_older.total.committed == D("1710.00")
    home_care = fc.forecast(fc.Filters(year=YEAR, service_type=service("homecare").pk), TODAY)
    assert home_care.total.provisional == D("0.00")


def test_ended_packages_and_past_years_are_not_forecast(council):
    CarePackageFactory(client=council["ann"], provider=council["provider"], status=PackageStatus.ENDED,
                       start_date=date(2026, 1, 5), end_date=date(2026, 12, 31))
    assert fc.forecast(fc.Filters(year=YEAR, area=council["north"].pk), TODAY).total.committed == D("8825.60")
    past = fc.forecast(fc.Filters(year=2025), TODAY)
    assert past.total.committed == D("0.00") and past.package_count == 0


def _paid_claim(provider, status=ClaimStatus.PAID):
    return Claim.objects.create(provider=provider, reference=f"INV-{status}-{Claim.objects.count()}", source="invoice",
                                period_start=date(2026, 5, 1), period_end=date(2026, 5, 28), status=status,
                                imported_by=officer())


def _line(claim, package, on, amount, row):
    return ClaimLine.objects.create(
        claim=claim, row_number=row, client_reference=package.client.reference, client=package.client,
        service_code="homecare", service_type=package.service_type, service_date=on, units=D("2"), amount=amount,
        package=package, result=LineResult.ACCEPTED, payable_units=D("2"), payable_rate=amount / 2, payable_amount=amount)


def test_actuals_from_paid_claims_and_released_scheduled_payments(council):
    a, c = council["a"], council["c"]
    paid = _paid_claim(council["provider"])
    _line(paid, a, date(2026, 5, 10), D("42.00"), 1)
    _line(paid, a, date(2026, 6, 2), D("42.00"), 2)
    _line(paid, a, date(2025, 12, 1), D("40.00"), 3)  # last financial year
    waiting = _paid_claim(council["provider"], status=ClaimStatus.APPROVED)
    _line(waiting, a, date(2026, 5, 11), D("42.00"), 1)  # approved, not yet paid: not an actual
    run = Run.objects.create(job="provider_payments", business_date=date(2026, 9, 21), trigger="test")
    payment_run = PaymentRun.objects.create(run=run, payment_date=date(2026, 9, 21), status=PaymentRunStatus.RELEASED)
    payment = Payment.objects.create(payment_run=payment_run, provider=c.provider, gross=D("2800.00"), net=D("2800.00"),
                                     sort_code="200000", account_number="12345678", account_name="CARE HOME")
    ScheduledPayment.objects.create(payment=payment, package=c, period_start=date(2026, 8, 24), period_end=date(2026, 9, 20),
                                    days=28, weekly_rate=D("700.00"), amount=D("2800.00"))
    report = fc.forecast(fc.Filters(year=YEAR), TODAY)
    assert _by_month(report, "actual") == {date(2026, 5, 1): D("42.00"), date(2026, 6, 1): D("42.00"),
                                           date(2026, 8, 1): D("800.00"), date(2026, 9, 1): D("2000.00")}
    by_area = {r.group: r for r in report.by_area}
    assert by_area["North"].actual == D("84.00")
    assert by_area[fc.NO_AREA].actual == D("2800.00")
    assert report.total.outturn == report.total.actual + report.total.committed


# The page, its export and the API ------------------------------------------------------------

@pytest.fixture
def at_today():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield


def test_page_shows_the_tables_chart_and_team_rule(council, client_as, at_today):
    http = client_as(Role.RESOURCE_MANAGEMENT_OFFICER)
    response = http.get(reverse("provider_payments:forecast"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Committed spend forecast 2026/27" in body
    assert "£8,825.60" in body and "£1,710.00" in body
    assert "<svg" in body and "No area" in body and "No team" in body
    assert "most recently opened case that is still open" in body


def test_page_filters_and_bad_filters_never_fail(council, client_as, at_today):
    http = client_as(Role.TEAM_LEADER)
    response = http.get(reverse("provider_payments:forecast"), {"area": council["south"].pk})
    assert response.status_code == 200
    assert "£1,710.00" in response.content.decode() and "£8,825.60" not in response.content.decode()
    response = http.get(reverse("provider_payments:forecast"), {"year": "banana", "team": "x", "area": "999999"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_export_csv_and_xlsx(council, client_as, at_today):
    http = client_as(Role.AUDITOR)
    response = http.get(reverse("provider_payments:forecast"), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Grouped by", "Group", "Paid so far", "Committed forecast"]
    found = {(r[0], r[1]): r for r in rows[1:]}
    assert found[("Area", "North")][3] == "8825.60"
    assert found[("Team", "No team")][5] == str(sum(_by_month(fc.forecast(fc.Filters(year=YEAR), TODAY),
                                                                    "provisional").values()))
    assert found[("Month", "October 2026")][3] == "2318.80"  # 1,388.80 + 930.00
    response = http.get(reverse("provider_payments:forecast"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == ["Grouped by", "Group"]


def test_api_summary_by_month_and_service_type(council, client_as, at_today):
    http = client_as(Role.TEAM_LEADER)
    response = http.get(reverse("api:committedspendforecast-list"), {"year": 2026})
    assert response.status_code == 200
    data = response.json()
    assert data["financial_year"] == "2026/27"
    assert data["totals"]["committed"] == "10535.60"  # 8,825.60 + 1,710.00
    october = [m for m in data["months"] if m["month"] == "2026-10-01"]
    assert {m["service_type_name"]: m["committed"] for m in october} == {"Home care": "2318.80",
                                                                          "Residential care": "0.00"}
    assert http.get(reverse("api:committedspendforecast-list"), {"area": "north"}).status_code == 400


def test_bench_command_refuses_a_database_not_its_own_and_its_seeding_works_small():
    from django.core.management import CommandError, call_command

    from provider_payments.management.commands import bench_forecast

    with pytest.raises(CommandError, match="ends in 'bench'"):
        call_command("bench_forecast")
    out = io.StringIO()
    command = bench_forecast.Command(stdout=out)
    with mock.patch.multiple(bench_forecast, CLIENTS=40, PACKAGES=20, PROVIDERS=3, REPEATS=1):
        command._seed(TODAY)
        command._time(TODAY)
    assert "packages costed" in out.getvalue() and "SQL queries" in out.getvalue()
    assert "(whole council)" in out.getvalue() and "(one area)" in out.getvalue()
