"""Provider claims after a client's death, and the payable rule (WE-11 step 4, PP-03, PP-05, PP-06):
a claim pays each rate period's payable hours times its rate, rounded once; lines rejected because
the client died carry no payable hours; a death that ends a package costs the unpaid claims it
touches again, and reversing the death costs them back."""
import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from casework.constants import DeathSource
from casework.deaths.registry import HANDLERS
from casework.services import client_record_death
from provider_payments import death as pp_death
from provider_payments.constants import ClaimStatus, LineResult
from provider_payments.models import Claim, ClaimLine, ProviderEvent
from provider_payments.services.claims import claim_line_override, claim_totals, claim_transition
from provider_payments.services.payable import claim_payable, payable_for
from provider_payments.services.payment_run import claim_lines_by_service

from .factories import ClientFactory, UserFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory, leader, officer
from .test_provider_validation import ecm, setup, visit, we11_visits  # noqa: F401 (setup is a fixture)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _reference_data(db):
    for name in ("provider_payments.migrations.0002_append_only_and_defaults",
                 "provider_payments.migrations.0003_death_notice_period"):
        importlib.import_module(name).seed_defaults(django_apps)


def record_death(client, on: date):
    return client_record_death(client=client, date_of_death=on, source=DeathSource.REGISTRAR, verified=True,
                               actor=UserFactory(username="registrar-clerk"))


def proposals(client, on: date):
    return HANDLERS[pp_death.KIND].propose(client, on)


def apply(client, on: date, proposal):
    return HANDLERS[pp_death.KIND].apply(client, on, proposal.payload, officer())


def reverse(client, on: date, proposal, result):
    HANDLERS[pp_death.KIND].reverse(client, on, proposal.payload, result, leader())


# --- WE-11: the payable rule -------------------------------------------------------------------------


def test_we11_each_rate_period_is_its_payable_hours_times_its_rate(setup):  # noqa: F811
    provider, _ = setup
    claim = ecm(provider, we11_visits("SC500001"))
    old, new = claim_payable(claim).periods
    assert (old.rate, old.units, old.amount, old.first, old.last) == (D("24.00"), D("17.25"), D("414.00"),
                                                                      date(2026, 3, 23), date(2026, 3, 31))
    assert (new.rate, new.units, new.amount, new.first, new.last) == (D("25.20"), D("37.50"), D("945.00"),
                                                                      date(2026, 4, 1), date(2026, 4, 19))
    totals = claim_totals(claim)
    assert (totals["payable"], totals["payable_hours"]) == (D("1359.00"), D("54.75"))
    assert (totals["commissioned"], totals["variance"]) == (D("1389.60"), D("-30.60"))
    assert old.text == "23 Mar 2026 to 31 Mar 2026: 17.25h × £24.00 = £414.00"


def test_the_claim_rounds_once_per_rate_period_not_once_per_visit():
    """Three 20-minute visits at £23.47 an hour: each visit is £7.8233, so rounding each gives
    £7.82 × 3 = £23.46; the rule pays 1 hour × £23.47 = £23.47."""
    provider = ProviderFactory()
    RateFactory(provider=provider, rate=D("23.47"), effective_from=date(2026, 1, 1))
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"), start_date=date(2026, 1, 5))
    claim = ecm(provider, "".join(visit("SC500001", date(2026, 3, 24), start, planned=20, actual=20)
                                  for start in ("08:00", "12:00", "17:00")))
    lines = list(ClaimLine.objects.filter(claim=claim))
    assert [l.payable_amount for l in lines] == [D("7.82")] * 3
    assert sum(l.payable_amount for l in lines) == D("23.46")
    totals = claim_totals(claim)
    assert (totals["payable"], totals["payable_hours"]) == (D("23.47"), D("1.00"))
    assert payable_for(D(60), D("23.47"), D(60)) == D("23.47")
    # Approval posts, and the payment run pays, the same figure.
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    assert claim_lines_by_service([claim]) == {"homecare": D("23.47")}


def test_a_line_whose_amount_an_officer_set_is_paid_that_amount_beside_the_rate_periods(setup):  # noqa: F811
    provider, _ = setup
    claim = ecm(provider, visit("SC500001", date(2026, 3, 24)) + visit("SC500001", date(2026, 3, 25)))
    first = ClaimLine.objects.filter(claim=claim).order_by("row_number").first()
    claim_line_override(line=first, result=LineResult.ADJUSTED, payable_amount=D("10.00"), note="Visit cut short",
                        actor=officer())
    totals = claim_totals(claim)
    assert (totals["payable"], totals["set_by_hand"], totals["payable_hours"]) == (D("34.00"), D("10.00"), D("1.00"))


# --- A death: rejected lines, commissioned cost, reversal ---------------------------------------------


@pytest.fixture
def died():
    """Home care at £24.00/h (two 1-hour visits a day) from 5 January 2026. A claim for 23 March to
    19 April 2026 has visits on 3 to 9 April, not yet approved; the client died on 5 April."""
    client = ClientFactory(reference="SC500001")
    provider = ProviderFactory(name="Moorland Care Ltd")
    RateFactory(provider=provider, rate=D("24.00"), effective_from=date(2026, 1, 1))
    package = CarePackageFactory(provider=provider, client=client, start_date=date(2026, 1, 5))
    claim = ecm(provider, "".join(visit("SC500001", date(2026, 4, d)) for d in range(3, 10)))
    client = record_death(client, date(2026, 4, 5))
    return client, provider, package, claim


def test_lines_rejected_because_the_client_died_carry_no_payable_hours(died):
    client, _, _, claim = died
    assert claim_totals(claim)["payable_hours"] == D("7.00")
    reject = [p for p in proposals(client, date(2026, 4, 5)) if p.payload["action"] == pp_death.REJECT_LINES]
    assert len(reject) == 1
    apply(client, date(2026, 4, 5), reject[0])
    after = ClaimLine.objects.filter(claim=claim, service_date__gt=date(2026, 4, 5))
    assert list(after.values_list("result", "payable_units", "payable_amount")) == [
        (LineResult.REJECTED, D("0"), D("0"))] * 4
    totals = claim_totals(claim)
    assert (totals["payable_hours"], totals["payable"], totals["rejected"]) == (D("3.00"), D("72.00"), 4)


def test_ending_the_package_on_the_death_costs_the_claim_again_and_the_reversal_restores_it(died):
    client, provider, _, claim = died
    # 28 days × 2 hours × £24.00 commissioned when the claim came in.
    assert claim.commissioned_cost == D("1344.00")
    done = [(p, apply(client, date(2026, 4, 5), p)) for p in proposals(client, date(2026, 4, 5))]
    claim.refresh_from_db()
    # Care to 5 April only: 14 days × 2 hours × £24.00; 3 hours payable (3 to 5 April).
    assert claim.commissioned_cost == D("672.00")
    totals = claim_totals(claim)
    assert (totals["payable"], totals["variance"]) == (D("72.00"), D("-600.00"))
    end = next(r for p, r in done if r["action"] == pp_death.END_PACKAGE)
    assert end["claims"] == [[claim.pk, "1344.00", "672.00"]]
    assert ProviderEvent.objects.filter(provider=provider, action="provider.claim.recosted").count() == 1
    for proposal, result in reversed(done):
        reverse(client, date(2026, 4, 5), proposal, result)
    claim.refresh_from_db()
    assert claim.commissioned_cost == D("1344.00")
    totals = claim_totals(claim)
    assert (totals["payable"], totals["payable_hours"], totals["variance"]) == (D("168.00"), D("7.00"), D("-1176.00"))
    assert set(ClaimLine.objects.filter(claim=claim).values_list("payable_units", flat=True)) == {D("1.0000")}


def test_a_paid_claim_keeps_the_commissioned_cost_it_was_paid_on(died):
    client, _, _, claim = died
    Claim.objects.filter(pk=claim.pk).update(status=ClaimStatus.PAID)
    end = next(p for p in proposals(client, date(2026, 4, 5)) if p.payload["action"] == pp_death.END_PACKAGE)
    assert apply(client, date(2026, 4, 5), end)["claims"] == []
    claim.refresh_from_db()
    assert claim.commissioned_cost == D("1344.00")


def test_the_migration_clears_the_hours_of_lines_rejected_before_the_rule(died):
    _, _, _, claim = died
    last, before = ClaimLine.objects.filter(claim=claim).order_by("-row_number")[:2]
    ClaimLine.objects.filter(pk=last.pk).update(result=LineResult.REJECTED, payable_amount=0)
    module = importlib.import_module("provider_payments.migrations.0007_claims_after_death")
    module.clear_rejected_hours(django_apps, None)
    assert ClaimLine.objects.get(pk=last.pk).payable_units == 0
    assert ClaimLine.objects.get(pk=before.pk).payable_units == D("1")
