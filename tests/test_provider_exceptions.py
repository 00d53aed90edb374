"""High-cost exceptions: each detection rule, guide prices by area and date, idempotent detection
(and the nightly run), the challenge's transitions, savings arithmetic, the report and the API."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from casework.constants import CaseStatus, CaseType
from casework.models import Area, Run, TimelineEntry
from casework.roles import Role
from casework.runs.services import run_start
from casework.services import DomainError, NotAllowed
from provider_payments.constants import PackageStatus
from provider_payments.models import (
    ExceptionOutcome,
    ExceptionRule,
    ExceptionStatus,
    GuidePrice,
    HighCostException,
    HighCostExceptionNote,
    NoSavingReason,
    ProviderContract,
    UrgentPlacement,
)
from provider_payments.services.exceptions import (
    exception_add_note,
    exception_transition,
    exceptions_detect_for_package,
    guide_price_add,
    guide_price_for,
    savings,
    savings_by_month,
    savings_by_reason,
    urgent_placement_record,
)

from .conftest import sign_in
from .factories import ClientFactory, UserFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, officer, service

pytestmark = pytest.mark.django_db
ON = date(2026, 3, 2)


@pytest.fixture
def rmo():
    return UserFactory(username="rmo", roles=[Role.RESOURCE_MANAGEMENT_OFFICER])


def guide(price: str, code: str = "homecare", area=None, effective_from: date = date(2026, 1, 1)) -> GuidePrice:
    return GuidePrice.objects.create(service_type=service(code), area=area, price=Decimal(price),
                                     effective_from=effective_from)


def homecare_package(units: str = "14.00", rate: str = "24.00", **kwargs):
    """14 hours a week at £24.00 an hour: £336.00 a week."""
    provider = kwargs.pop("provider", None) or ProviderFactory()
    RateFactory(provider=provider, rate=Decimal(rate))
    return CarePackageFactory(provider=provider, units_per_week=Decimal(units), **kwargs)


def residential_package(weekly: str = "900.00", **kwargs):
    provider = kwargs.pop("provider", None) or ProviderFactory()
    RateFactory(provider=provider, service_type=service("residential"), rate=Decimal(weekly))
    return CarePackageFactory(provider=provider, service_type=service("residential"), units_per_week=Decimal("1"),
                              **kwargs)


def detect(package, on: date = ON):
    return exceptions_detect_for_package(package=package, actor=officer(), on=on)


def rules(package) -> set[str]:
    return set(HighCostException.objects.get(package=package).triggers.values_list("rule", flat=True))


# ---------------------------------------------------------------- the rules


def test_over_guide_raises_an_exception_with_cost_and_guide_and_a_case():
    guide("23.00")
    package = homecare_package()
    triggers = detect(package)
    assert [t.rule for t in triggers] == [ExceptionRule.OVER_GUIDE]
    exception = triggers[0].exception
    assert (exception.weekly_cost, exception.weekly_guide) == (Decimal("336.00"), Decimal("322.00"))
    assert exception.status == ExceptionStatus.OPEN
    assert exception.case.case_type == CaseType.HIGH_COST_EXCEPTION and exception.case.client == package.client
    assert TimelineEntry.objects.filter(case=exception.case, action="provider.exception.raised").count() == 1


def test_cost_at_the_guide_price_is_not_an_exception():
    guide("24.00")
    assert detect(homecare_package()) == []
    assert not HighCostException.objects.exists()


def test_no_guide_price_in_force_means_no_over_guide_exception():
    guide("20.00", effective_from=date(2026, 6, 1))  # not yet in force
    assert detect(homecare_package()) == []


def test_area_guide_price_wins_over_the_all_areas_price():
    north, south = Area.objects.create(name="North"), Area.objects.create(name="South")
    guide("23.00", effective_from=date(2026, 2, 1))
    guide("25.00", area=north, effective_from=date(2025, 4, 1))  # older, but the more specific
    assert guide_price_for(service("homecare"), north, ON).price == Decimal("25.00")
    assert guide_price_for(service("homecare"), south, ON).price == Decimal("23.00")
    assert guide_price_for(service("homecare"), None, ON).price == Decimal("23.00")
    assert detect(homecare_package(client=ClientFactory(area=north))) == []
    south_triggers = detect(homecare_package(client=ClientFactory(area=south)))
    assert south_triggers[0].exception.weekly_guide == Decimal("322.00")
    assert south_triggers[0].exception.area == south


def test_guide_prices_take_effect_from_their_dates():
    guide("23.00", effective_from=date(2026, 1, 1))
    guide("25.00", effective_from=date(2026, 6, 1))
    assert guide_price_for(service("homecare"), None, date(2026, 5, 31)).price == Decimal("23.00")
    assert guide_price_for(service("homecare"), None, date(2026, 6, 1)).price == Decimal("25.00")
    assert guide_price_for(service("homecare"), None, date(2025, 12, 31)) is None
    assert detect(homecare_package(), on=date(2026, 5, 31))
    assert detect(homecare_package(), on=date(2026, 6, 1)) == []


def test_a_package_starting_later_is_priced_at_its_start():
    guide("23.00", effective_from=date(2026, 1, 1))
    guide("25.00", effective_from=date(2026, 6, 1))
    assert detect(homecare_package(start_date=date(2026, 7, 6)), on=ON) == []


def test_provider_not_on_contract_is_an_exception_until_it_joins_one():
    package = homecare_package()
    user = officer()
    ProviderContract.objects.create(provider=package.provider, contracted=False, effective_from=date(2026, 1, 1),
                                    created_by=user)
    ProviderContract.objects.create(provider=package.provider, contracted=True, effective_from=date(2026, 4, 1),
                                    created_by=user)
    assert detect(package, on=date(2026, 4, 1)) == []
    triggers = detect(package, on=ON)
    assert [t.rule for t in triggers] == [ExceptionRule.NON_CONTRACTED]
    assert triggers[0].weekly_guide is None


def test_provider_with_no_contract_record_is_taken_as_contracted():
    assert detect(homecare_package()) == []


def test_urgent_residential_placement_above_the_guide():
    guide("850.00", code="residential")
    package = residential_package("900.00")
    urgent_placement_record(package=package, reason="Weekend hospital discharge", actor=officer())
    assert rules(package) == {ExceptionRule.OVER_GUIDE, ExceptionRule.URGENT_PLACEMENT}
    exception = HighCostException.objects.get(package=package)
    assert (exception.weekly_cost, exception.weekly_guide) == (Decimal("900.00"), Decimal("850.00"))


def test_urgent_placement_at_or_below_the_guide_is_not_an_exception():
    guide("900.00", code="residential")
    package = residential_package("900.00")
    urgent_placement_record(package=package, reason="Breakdown of care at home", actor=officer())
    assert UrgentPlacement.objects.filter(package=package).exists()
    assert not HighCostException.objects.exists()


def test_urgent_rule_is_only_for_residential_placements():
    guide("23.00")
    package = homecare_package()
    urgent_placement_record(package=package, reason="Out of hours", actor=officer())
    assert rules(package) == {ExceptionRule.OVER_GUIDE}


def test_permanent_increase_on_the_package_it_replaced():
    client = ClientFactory()
    provider = ProviderFactory()
    old = homecare_package(units="10.00", client=client, provider=provider, start_date=date(2026, 1, 5),
                           end_date=date(2026, 2, 1), status=PackageStatus.ENDED)
    new = CarePackageFactory(client=client, provider=provider, units_per_week=Decimal("14.00"),
                             start_date=date(2026, 2, 2))
    assert old.pk != new.pk
    triggers = detect(new)
    assert [t.rule for t in triggers] == [ExceptionRule.INCREASE]
    assert triggers[0].previous_weekly_cost == Decimal("240.00") and triggers[0].weekly_cost == Decimal("336.00")
    assert triggers[0].detail.startswith("Permanent increase")


def test_temporary_increase_on_the_package_s_own_previous_version():
    package = homecare_package(units="10.00", end_date=date(2026, 6, 30))
    package.units_per_week = Decimal("12.50")  # a change of the package (kept in its history)
    package.save()
    triggers = detect(package)
    assert [t.rule for t in triggers] == [ExceptionRule.INCREASE]
    assert triggers[0].previous_weekly_cost == Decimal("240.00") and triggers[0].weekly_cost == Decimal("300.00")
    assert triggers[0].detail.startswith("Temporary increase to 30 June 2026")


def test_a_decrease_is_not_an_exception():
    package = homecare_package(units="14.00")
    package.units_per_week = Decimal("10.00")
    package.save()
    assert detect(package) == []


def test_extra_support_within_a_residential_placement():
    client = ClientFactory()
    residential_package("800.00", client=client)
    support = homecare_package(units="7.00", client=client)
    assert [t.rule for t in detect(support)] == [ExceptionRule.RESIDENTIAL_SUPPORT]


def test_ended_packages_are_not_checked():
    guide("20.00")
    assert detect(homecare_package(status=PackageStatus.ENDED, end_date=date(2026, 2, 1))) == []
    assert detect(homecare_package(end_date=date(2026, 2, 1))) == []


# ---------------------------------------------------------------- idempotence


def test_detection_is_idempotent_and_adds_new_rules_to_the_open_exception():
    guide("23.00")
    package = homecare_package()
    assert len(detect(package)) == 1
    assert detect(package) == []
    ProviderContract.objects.create(provider=package.provider, contracted=False, effective_from=date(2026, 1, 1),
                                    created_by=officer())
    assert [t.rule for t in detect(package)] == [ExceptionRule.NON_CONTRACTED]
    assert HighCostException.objects.filter(package=package).count() == 1
    assert rules(package) == {ExceptionRule.OVER_GUIDE, ExceptionRule.NON_CONTRACTED}


def test_nightly_run_twice_raises_each_exception_once(django_capture_on_commit_callbacks):
    guide("23.00")
    packages = [homecare_package() for _ in range(3)]
    homecare_package(units="1.00", rate="10.00")  # below the guide
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_start(job="high_cost_exceptions", business_date=ON, trigger="test")
    with django_capture_on_commit_callbacks(execute=True):
        run_start(job="high_cost_exceptions", business_date=ON + timedelta(days=1), trigger="test")
    assert Run.objects.filter(job="high_cost_exceptions").count() == 2
    assert HighCostException.objects.count() == 3
    assert {e.package_id for e in HighCostException.objects.all()} == {p.pk for p in packages}


def closed(exception, user, **outcome):
    exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=user)
    return exception_transition(exception=exception, to_status=ExceptionStatus.CLOSED, actor=user,
                                review="Checked against the assessment", **outcome)


def test_a_closed_challenge_is_not_raised_again_until_the_cost_rises(rmo):
    guide("23.00")
    package = homecare_package()
    exception = detect(package)[0].exception
    closed(exception, rmo, outcome=ExceptionOutcome.NO_SAVING, no_saving_reason=NoSavingReason.objects.get(
        code="needs_justify_cost"))
    assert detect(package) == []
    package.units_per_week = Decimal("16.00")
    package.save()
    again = detect(package)
    assert {t.rule for t in again} == {ExceptionRule.OVER_GUIDE, ExceptionRule.INCREASE}
    assert HighCostException.objects.filter(package=package).count() == 2


# ---------------------------------------------------------------- savings


@pytest.mark.parametrize("weekly, new, start, ends, expected", [
    # £1,250.00 down to £1,130.50 a week: £119.50 a week; open-ended: 52 weeks = £6,214.00.
    ("1250.00", "1130.50", date(2026, 4, 6), None, ("119.50", 364, "6214.00")),
    # The package ends after 100 days (6 to 14 July inclusive): 119.50 × 100 ÷ 7 = 1,707.142857 → £1,707.14.
    ("1250.00", "1130.50", date(2026, 4, 6), date(2026, 7, 14), ("119.50", 100, "1707.14")),
    # Ending later than a year away still counts 52 weeks.
    ("336.00", "322.00", date(2026, 4, 6), date(2027, 12, 31), ("14.00", 364, "728.00")),
    # One day: 0.01 × 1 ÷ 7 = 0.0014 → £0.00 (half up to the penny).
    ("100.00", "99.99", date(2026, 4, 6), date(2026, 4, 6), ("0.01", 1, "0.00")),
    # Three days: 10.00 × 3 ÷ 7 = 4.2857… → £4.29 (rounded once, on the total).
    ("100.00", "90.00", date(2026, 4, 6), date(2026, 4, 8), ("10.00", 3, "4.29")),
])
def test_savings_arithmetic(weekly, new, start, ends, expected):
    result = savings(Decimal(weekly), Decimal(new), start, ends)
    assert result == (Decimal(expected[0]), expected[1], Decimal(expected[2]))


def test_closing_with_a_saving_records_the_worked_example(rmo):
    guide("1000.00", code="residential")
    package = residential_package("1250.00", end_date=date(2026, 7, 14))
    exception = detect(package)[0].exception
    exception = closed(exception, rmo, outcome=ExceptionOutcome.SAVING, new_weekly_cost=Decimal("1130.50"),
                       saving_from=date(2026, 4, 6))
    assert exception.status == ExceptionStatus.CLOSED
    assert (exception.weekly_saving, exception.saving_days, exception.full_year_saving) == (
        Decimal("119.50"), 100, Decimal("1707.14"))
    exception.case.refresh_from_db()
    assert exception.case.status == CaseStatus.CLOSED


# ---------------------------------------------------------------- transitions


@pytest.fixture
def exception():
    guide("23.00")
    return detect(homecare_package())[0].exception


def test_the_challenge_moves_step_by_step_and_is_written_on_the_case(exception, rmo):
    exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=rmo)
    exception.refresh_from_db()
    assert exception.case.assigned_officer == rmo and exception.case.status == CaseStatus.IN_PROGRESS
    exception_add_note(exception=exception, noted_on=date(2026, 3, 3), text="Rang the provider", actor=rmo)
    exception_transition(exception=exception, to_status=ExceptionStatus.NEGOTIATING, actor=rmo,
                         review="Assessment says 12 hours", alternative="12 hours a week",
                         proposed_weekly_cost=Decimal("288"))
    exception.refresh_from_db()
    assert exception.case.status == CaseStatus.AWAITING_RESPONSE
    assert exception.proposed_weekly_cost == Decimal("288.00")
    exception_transition(exception=exception, to_status=ExceptionStatus.CLOSED, actor=rmo,
                         outcome=ExceptionOutcome.SAVING, new_weekly_cost=Decimal("288.00"),
                         saving_from=date(2026, 3, 9))
    exception.refresh_from_db()
    assert (exception.weekly_saving, exception.full_year_saving) == (Decimal("48.00"), Decimal("2496.00"))
    actions = list(TimelineEntry.objects.filter(case=exception.case).values_list("action", flat=True))
    assert actions.count("provider.exception.status") == 3 and "provider.exception.note" in actions


@pytest.mark.parametrize("to_status", [ExceptionStatus.NEGOTIATING, ExceptionStatus.CLOSED, ExceptionStatus.OPEN])
def test_skipping_steps_is_refused(exception, rmo, to_status):
    if to_status == ExceptionStatus.OPEN:
        exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=rmo)
    with pytest.raises(DomainError, match="cannot move from"):
        exception_transition(exception=exception, to_status=to_status, actor=rmo, review="x", alternative="y",
                             outcome=ExceptionOutcome.NO_SAVING,
                             no_saving_reason=NoSavingReason.objects.first())


def test_a_closed_exception_cannot_move_or_take_notes(exception, rmo):
    closed(exception, rmo, outcome=ExceptionOutcome.NO_SAVING, no_saving_reason=NoSavingReason.objects.first())
    with pytest.raises(DomainError, match="cannot move from closed"):
        exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=rmo)
    with pytest.raises(DomainError, match="closed"):
        exception_add_note(exception=exception, noted_on=ON, text="Late", actor=rmo)


@pytest.mark.parametrize("kwargs, field", [
    ({"to_status": ExceptionStatus.NEGOTIATING, "review": "Found", "alternative": ""}, "alternative"),
    ({"to_status": ExceptionStatus.NEGOTIATING, "alternative": "Fewer hours"}, "review"),
    ({"to_status": ExceptionStatus.CLOSED, "outcome": ExceptionOutcome.SAVING, "new_weekly_cost": Decimal("1"),
      "saving_from": ON}, "review"),
    ({"to_status": ExceptionStatus.CLOSED, "review": "r", "outcome": ""}, "outcome"),
    ({"to_status": ExceptionStatus.CLOSED, "review": "r", "outcome": ExceptionOutcome.SAVING,
      "new_weekly_cost": Decimal("336.00"), "saving_from": ON}, "new_weekly_cost"),
    ({"to_status": ExceptionStatus.CLOSED, "review": "r", "outcome": ExceptionOutcome.SAVING,
      "new_weekly_cost": Decimal("300.00")}, "saving_from"),
    ({"to_status": ExceptionStatus.CLOSED, "review": "r", "outcome": ExceptionOutcome.NO_SAVING}, "no_saving_reason"),
])
def test_moves_without_what_they_need_are_refused(exception, rmo, kwargs, field):
    exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=rmo)
    with pytest.raises(DomainError) as error:
        exception_transition(exception=exception, actor=rmo, **kwargs)
    assert error.value.field == field
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.UNDER_REVIEW


def test_only_resource_management_officers_and_team_leaders_challenge(exception):
    with pytest.raises(NotAllowed):
        exception_transition(exception=exception, to_status=ExceptionStatus.UNDER_REVIEW, actor=officer())


def test_guide_prices_are_kept_by_a_finance_administrator():
    admin = UserFactory(username="fa", roles=[Role.FINANCE_ADMINISTRATOR])
    guide_price_add(service_type=service("homecare"), price=Decimal("23.00"), effective_from=ON, actor=admin)
    with pytest.raises(DomainError, match="already"):
        guide_price_add(service_type=service("homecare"), price=Decimal("24.00"), effective_from=ON, actor=admin)
    with pytest.raises(NotAllowed):
        guide_price_add(service_type=service("homecare"), price=Decimal("24.00"), effective_from=ON, actor=officer())


def test_notes_are_append_only(exception, rmo):
    from casework.models.base import ImmutableError

    note = exception_add_note(exception=exception, noted_on=ON, text="Called", actor=rmo)
    with pytest.raises(ImmutableError):
        HighCostExceptionNote.objects.filter(pk=note.pk).update(text="Changed")


# ---------------------------------------------------------------- reports


def _close_on(package, user, day: date, **outcome):
    exception = detect(package)[0].exception
    exception = closed(exception, user, **outcome)
    HighCostException.objects.filter(pk=exception.pk).update(closed_on=day)
    return exception


def test_report_totals_by_month_and_reason(rmo):
    guide("20.00")
    reason = NoSavingReason.objects.get(code="provider_refused")
    _close_on(homecare_package(), rmo, date(2026, 4, 10), outcome=ExceptionOutcome.SAVING,
              new_weekly_cost=Decimal("300.00"), saving_from=date(2026, 4, 13))  # 36.00 a week, 1,872.00
    _close_on(homecare_package(), rmo, date(2026, 4, 20), outcome=ExceptionOutcome.SAVING,
              new_weekly_cost=Decimal("326.00"), saving_from=date(2026, 4, 27))  # 10.00 a week, 520.00
    _close_on(homecare_package(), rmo, date(2026, 6, 1), outcome=ExceptionOutcome.NO_SAVING, no_saving_reason=reason)
    _close_on(homecare_package(), rmo, date(2026, 8, 1), outcome=ExceptionOutcome.SAVING,  # outside the period
              new_weekly_cost=Decimal("300.00"), saving_from=date(2026, 8, 3))
    months = savings_by_month(date(2026, 4, 1), date(2026, 6, 30))
    assert [(m.label, m.closed, m.with_saving, m.weekly_saving, m.full_year_saving) for m in months] == [
        ("April 2026", 2, 2, Decimal("46.00"), Decimal("2392.00")),
        ("May 2026", 0, 0, Decimal("0.00"), Decimal("0.00")),
        ("June 2026", 1, 0, Decimal("0.00"), Decimal("0.00")),
    ]
    by_reason = savings_by_reason(date(2026, 4, 1), date(2026, 6, 30))
    assert [(r.label, r.closed, r.full_year_saving) for r in by_reason] == [
        ("Saving achieved", 2, Decimal("2392.00")),
        ("No saving: The provider would not reduce the price", 1, Decimal("0.00")),
    ]


def test_report_page_chart_and_csv(client, rmo):
    guide("20.00")
    _close_on(homecare_package(), rmo, date(2026, 4, 10), outcome=ExceptionOutcome.SAVING,
              new_weekly_cost=Decimal("300.00"), saving_from=date(2026, 4, 13))
    http = sign_in(client, rmo)
    url = reverse("provider_payments:exception_report")
    page = http.get(url, {"from": "2026-04-01", "to": "2026-05-31"})
    assert page.status_code == 200
    assert b"<svg" in page.content and "£1,872.00" in page.content.decode()
    response = http.get(url, {"from": "2026-04-01", "to": "2026-05-31", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Grouped by", "Group", "Closed", "With a saving", "Weekly saving", "Full-year saving"]
    assert ["Month closed", "April 2026", "1", "1", "36.00", "1872.00"] in rows
    bad = http.get(url, {"from": "not a date"})
    assert bad.status_code == 200 and "There is a problem" in bad.content.decode()
    assert http.get(url, {"format": "xlsx"}).status_code == 200


# ---------------------------------------------------------------- pages and API


def test_queue_and_close_page(client, exception, rmo):
    http = sign_in(client, rmo)
    queue = http.get(reverse("provider_payments:exception_list"))
    assert exception.reference in queue.content.decode()
    assert http.get(reverse("provider_payments:exception_list"), {"format": "csv"}).status_code == 200
    http.post(reverse("provider_payments:exception_review", args=[exception.pk]), {"review": "Started"})
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.UNDER_REVIEW
    page = http.post(reverse("provider_payments:exception_close", args=[exception.pk]),
                     {"outcome": "saving", "new_weekly_cost": "abc"})
    assert page.status_code == 200 and "govuk-error-summary" in page.content.decode()
    done = http.post(reverse("provider_payments:exception_close", args=[exception.pk]), {
        "review": "Started", "outcome": "saving", "new_weekly_cost": "300.00", "saving_from_0": "9",
        "saving_from_1": "3", "saving_from_2": "2026"})
    assert done.status_code == 302
    exception.refresh_from_db()
    assert exception.weekly_saving == Decimal("36.00") and exception.full_year_saving == Decimal("1872.00")
    assert http.get(reverse("provider_payments:exception_detail", args=[exception.pk])).status_code == 200


def test_api_reads_exceptions(client, exception, rmo):
    http = sign_in(client, rmo)
    listing = http.get("/api/v1/high-cost-exceptions/")
    assert listing.status_code == 200
    detail = http.get(f"/api/v1/high-cost-exceptions/{exception.pk}/").json()
    assert detail["reference"] == exception.reference and detail["weekly_cost"] == "336.00"
    assert detail["triggers"][0]["rule"] == "over_guide" and detail["weekly_guide"] == "322.00"
    assert http.post("/api/v1/high-cost-exceptions/", {}).status_code in (403, 405)


def test_the_demo_shows_each_stage_and_a_second_run_adds_nothing():
    from provider_payments.demo import seed_provider_payments
    from provider_payments.demo_exceptions import seed_high_cost_exceptions

    users = {"provider": UserFactory(username="provider", roles=[Role.PROVIDER_PAYMENT_OFFICER]),
             "teamleader": UserFactory(username="teamleader", roles=[Role.TEAM_LEADER]),
             "resource": UserFactory(username="resource", roles=[Role.RESOURCE_MANAGEMENT_OFFICER]),
             "financeadmin": UserFactory(username="financeadmin", roles=[Role.FINANCE_ADMINISTRATOR])}
    for _ in range(4):
        ClientFactory()
    seed_provider_payments(users, io.StringIO())
    out = io.StringIO()
    seed_high_cost_exceptions(users, out)
    assert "high-cost exceptions" in out.getvalue()
    stages = sorted((e.package.service_type.code, e.status) for e in HighCostException.objects.select_related(
        "package__service_type"))
    assert stages == [("homecare", ExceptionStatus.OPEN), ("homecare", ExceptionStatus.UNDER_REVIEW),
                      ("residential", ExceptionStatus.CLOSED), ("supported_living", ExceptionStatus.NEGOTIATING)]
    saved = HighCostException.objects.get(package__service_type__code="residential")
    assert saved.weekly_saving == Decimal("22.50") and saved.full_year_saving == Decimal("1170.00")
    assert rules(saved.package) == {ExceptionRule.OVER_GUIDE, ExceptionRule.URGENT_PLACEMENT}
    count = HighCostException.objects.count()
    again = io.StringIO()
    seed_high_cost_exceptions(users, again)
    assert HighCostException.objects.count() == count
