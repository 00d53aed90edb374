"""Rate cards with effective dates, the annual uplift (PP-03), packages, bank details, and the
actual cost of care that caps a non-residential charge."""
from datetime import date
from decimal import Decimal

import pytest

from casework.services import DomainError, NotAllowed
from provider_payments.constants import (
    BankChangeStatus,
    ClaimStatus,
    PackageStatus,
    Rounding,
    UpliftMethod,
    UpliftStatus,
)
from provider_payments.models import Rate
from provider_payments.services.claims import claim_totals, claim_transition
from provider_payments.services.packages import package_create, package_transition
from provider_payments.services.providers import bank_change_decide, bank_change_request
from provider_payments.services.rates import package_cost_per_week, rate_add, rate_in_force
from provider_payments.services.uplifts import round_rate, uplift_create, uplift_preview, uplift_transition

from .factories import ClientFactory, UserFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, band, leader, officer, service
from .test_provider_validation import ecm, we11_visits

pytestmark = pytest.mark.django_db


def test_a_new_rate_never_overwrites_an_old_one():
    provider = ProviderFactory()
    first = RateFactory(provider=provider, rate=Decimal("24.00"), effective_from=date(2026, 1, 1))
    rate_add(provider=provider, service_type=service(), band=band(), rate=Decimal("25.00"),
             effective_from=date(2026, 4, 1), actor=officer())
    with pytest.raises(DomainError, match="rates are never overwritten"):
        rate_add(provider=provider, service_type=service(), band=band(), rate=Decimal("26.00"),
                 effective_from=date(2026, 4, 1), actor=officer())
    assert rate_in_force(provider, service(), band(), date(2026, 3, 31)) == first
    assert rate_in_force(provider, service(), band(), date(2026, 4, 1)).rate == Decimal("25.00")
    assert rate_in_force(provider, service(), band(), date(2025, 12, 31)) is None
    assert Rate.objects.filter(provider=provider).count() == 2


@pytest.mark.parametrize("value, rule, expected", [
    ("25.2049", Rounding.HALF_UP, "25.20"), ("25.205", Rounding.HALF_UP, "25.21"), ("25.201", Rounding.UP, "25.21"),
    ("25.209", Rounding.DOWN, "25.20"), ("25.201", Rounding.UP_5P, "25.25"), ("25.25", Rounding.UP_5P, "25.25"),
])
def test_uplift_rounding_rules(value, rule, expected):
    assert round_rate(Decimal(value), rule) == Decimal(expected)


@pytest.fixture
def cohort():
    a, b = ProviderFactory(name="A Care"), ProviderFactory(name="B Care")
    RateFactory(provider=a, rate=Decimal("24.00"))
    RateFactory(provider=a, band=band("rural"), rate=Decimal("26.30"))
    RateFactory(provider=b, rate=Decimal("22.71"))
    CarePackageFactory(provider=a, client=ClientFactory(reference="SC500001"), units_per_week=Decimal("14"))
    CarePackageFactory(provider=a, units_per_week=Decimal("10"))
    CarePackageFactory(provider=a, units_per_week=Decimal("7"), agreed_rate=Decimal("30.00"),
                       agreed_rate_reason="Panel decision")  # an agreed rate is not uplifted
    return a, b


def test_uplift_preview_shows_every_rate_before_and_after_with_the_weekly_impact(cohort):
    a, b = cohort
    author = officer()
    uplift = uplift_create(name="2026/27 homecare uplift", effective_from=date(2026, 4, 1),
                           method=UpliftMethod.PERCENTAGE, percentage=Decimal("5"), rounding=Rounding.HALF_UP,
                           service_types=[service()], actor=author)
    preview = uplift_preview(uplift)
    assert [(r.rate.provider.name, r.rate.band.code, r.before, r.after, r.packages) for r in preview["rows"]] == [
        ("A Care", "rural", Decimal("26.30"), Decimal("27.62"), 0),
        ("A Care", "standard", Decimal("24.00"), Decimal("25.20"), 2),
        ("B Care", "standard", Decimal("22.71"), Decimal("23.85"), 0),
    ]
    # 24 hours a week on current packages: 576.00 before, 604.80 after.
    assert (preview["weekly_before"], preview["weekly_after"], preview["weekly_change"]) == (
        Decimal("576.00"), Decimal("604.80"), Decimal("28.80"))


def test_uplift_needs_a_team_leader_other_than_its_author_and_applies_in_one_go(cohort):
    a, b = cohort
    uplift = uplift_create(name="Uplift", effective_from=date(2026, 4, 1), method=UpliftMethod.PERCENTAGE,
                           percentage=Decimal("5"), providers=[a], actor=leader())
    with pytest.raises(NotAllowed):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=officer())
    with pytest.raises(DomainError, match="You made or changed this, so someone else must approve the uplift"):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=leader())
    with pytest.raises(DomainError, match="cannot move from draft to applied"):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=leader())
    second = UserFactory(username="second-leader", roles=["Team leader"])
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=second)
    # A rate already on the card for the date makes the whole application fail: nothing is half-applied.
    clash = rate_add(provider=a, service_type=service(), band=band("rural"), rate=Decimal("27.00"),
                     effective_from=date(2026, 4, 1), actor=officer())
    with pytest.raises(DomainError):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=second)
    assert Rate.objects.filter(uplift=uplift).count() == 0
    clash.withdrawn_at = clash.created_at
    clash.save()
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=second)
    assert sorted(r.rate for r in Rate.objects.filter(uplift=uplift)) == [Decimal("25.20"), Decimal("27.62")]
    assert rate_in_force(b, service(), band(), date(2026, 4, 1)).rate == Decimal("22.71")  # not in the cohort


def test_an_uplift_inside_a_claim_period_is_paid_from_its_date_and_can_be_reversed_before_a_run(cohort):
    a, _ = cohort
    uplift = uplift_create(name="Uplift", effective_from=date(2026, 4, 1), method=UpliftMethod.PERCENTAGE,
                           percentage=Decimal("5"), providers=[a], bands=[band()], actor=officer())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=leader())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=leader())
    claim = ecm(a, we11_visits("SC500001"))
    assert claim_totals(claim)["payable"] == Decimal("1359.00")  # WE-11 with the uplift as the April rate
    with pytest.raises(DomainError, match="reason"):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.REVERSED, actor=leader())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.REVERSED, actor=leader(), reason="Wrong cohort")
    assert rate_in_force(a, service(), band(), date(2026, 4, 1)).rate == Decimal("24.00")


def test_an_uplift_cannot_be_reversed_after_a_payment_run(cohort, django_capture_on_commit_callbacks):
    from casework.runs.services import run_start

    a, _ = cohort
    uplift = uplift_create(name="Uplift", effective_from=date(2026, 4, 1), method=UpliftMethod.NEW_RATE,
                           new_rate=Decimal("25.00"), providers=[a], actor=officer())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPROVED, actor=leader())
    uplift_transition(uplift=uplift, to_status=UpliftStatus.APPLIED, actor=leader())
    assert sorted(r.rate for r in Rate.objects.filter(uplift=uplift)) == [Decimal("25.00"), Decimal("25.00")]
    with django_capture_on_commit_callbacks(execute=True):
        run_start(job="provider_payments", business_date=date(2026, 4, 20), trigger="test")
    with pytest.raises(DomainError, match="can no longer be reversed"):
        uplift_transition(uplift=uplift, to_status=UpliftStatus.REVERSED, actor=leader(), reason="Too late")


def test_package_from_a_visit_pattern_costs_units_times_the_rate_at_each_date():
    provider = ProviderFactory()
    RateFactory(provider=provider, rate=Decimal("24.00"))
    RateFactory(provider=provider, rate=Decimal("25.20"), effective_from=date(2026, 4, 1))
    client = ClientFactory()
    pattern = [{"weekday": d, "start": "08:00", "minutes": 45} for d in range(7)] + [
        {"weekday": 0, "start": "18:00", "minutes": 30}]
    package = package_create(client=client, provider=provider, service_type=service(), band=band(),
                             start_date=date(2026, 3, 2), visit_pattern=pattern, actor=officer())
    assert package.units_per_week == Decimal("5.75") and package.status == PackageStatus.PROVISIONAL
    assert package_cost_per_week(package, date(2026, 3, 31)) == Decimal("138.00")
    assert package_cost_per_week(package, date(2026, 4, 1)) == Decimal("144.90")
    with pytest.raises(DomainError, match="Enter the date the package ends"):
        package_transition(package=package, to_status=PackageStatus.ENDED, actor=officer())
    package_transition(package=package, to_status=PackageStatus.APPROVED, actor=officer())
    package_transition(package=package, to_status=PackageStatus.ENDED, actor=officer(), end_date=date(2026, 6, 30))
    assert package.history.count() == 3
    assert [t.action for t in client.timeline.order_by("id")] == [
        "provider.package.created", "provider.package.status", "provider.package.status"]


def test_an_agreed_rate_needs_a_reason():
    with pytest.raises(DomainError, match="reason for the agreed individual rate"):
        package_create(client=ClientFactory(), provider=ProviderFactory(), service_type=service(), band=band(),
                       start_date=date(2026, 3, 2), units_per_week=Decimal("7"), agreed_rate=Decimal("30"),
                       actor=officer())


def test_bank_details_change_only_when_a_second_person_approves():
    provider = ProviderFactory(sort_code="", account_number="", account_name="")
    requester = officer()
    with pytest.raises(DomainError, match="sort code of 6 digits"):
        bank_change_request(provider=provider, sort_code="20-00", account_number="12345678", account_name="X",
                            evidence="Call back", actor=requester)
    change = bank_change_request(provider=provider, sort_code="20-45-77", account_number="4123 4567",
                                 account_name="Moorside Care", evidence="Call back to known number", actor=requester)
    provider.refresh_from_db()
    assert provider.sort_code == ""  # nothing changes until approved
    with pytest.raises(DomainError, match="You made or changed this, so someone else must decide the change"):
        bank_change_decide(change=change, approve=True, actor=requester)
    change = bank_change_decide(change=change, approve=True, actor=leader())
    provider.refresh_from_db()
    assert (provider.sort_code, provider.account_number, provider.account_name) == ("204577", "41234567", "MOORSIDE CARE")
    assert change.status == BankChangeStatus.APPROVED
    assert [e.action for e in provider.events.order_by("id")] == ["provider.bank.requested", "provider.bank.approved"]
    assert provider.events.order_by("id").last().old_value == {"account": "none", "name": ""}


def test_validated_actual_cost_caps_the_income_charge_through_the_billing_seam():
    from debt.billing import actual_weekly_cost
    from debt.models import ChargeableService

    provider = ProviderFactory()
    RateFactory(provider=provider, rate=Decimal("24.00"))
    package = CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    home_care = ChargeableService.objects.get(code="home_care")
    claim = ecm(provider, we11_visits("SC500001"), end=date(2026, 4, 19))
    week = (date(2026, 3, 23), date(2026, 3, 29))
    assert actual_weekly_cost(package.client, home_care.pk, *week) is None  # not approved yet: no cap
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    # Week of 23 March: 14 visits, three of 45 minutes, all other paid as planned: 13.25 h × £24.00.
    assert actual_weekly_cost(package.client, home_care.pk, *week) == Decimal("318.00")
    assert actual_weekly_cost(package.client, home_care.pk, date(2026, 4, 20), date(2026, 4, 26)) is None
