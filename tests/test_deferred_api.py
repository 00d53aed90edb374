"""The deferred payments API at /api/v1/deferred-payments/: agreements, valuations, the national
maximum rates and statements."""
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.models import Team
from casework.roles import Role
from deferred_payments.models import Agreement, Valuation

from .factories import ClientFactory, UserFactory
from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement

pytestmark = [pytest.mark.django_db]
BASE = "/api/v1/deferred-payments/"


def api_as(*roles) -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory(roles=list(roles)))
    return api


@pytest.fixture
def system_api() -> APIClient:
    api = APIClient()
    user = UserFactory(username="dpa-system", roles=[Role.SYSTEM_ACCOUNT])
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_agreements_read_with_balance_and_equity_limit(system_api):
    agreement = active_agreement(value=Decimal("250000"), mortgage=Decimal("20000"))
    rows = system_api.get(f"{BASE}agreements/", {"client": agreement.client_id}).json()["results"]
    assert [(r["reference"], r["state"], r["equity_limit"], r["balance"]) for r in rows] == [
        (agreement.reference, "active", "190750.00", "176.10")]


def test_an_enquiry_and_a_valuation_through_the_api(system_api):
    team = Team.objects.create(name="Deferred payments")
    person = ClientFactory()
    created = system_api.post(f"{BASE}agreements/", {"client": person.pk, "team": team.pk, "enquiry_on": "2026-01-05",
                                                     "care_home": "Northmoor Lodge"}, format="json")
    assert created.status_code == 201, created.json()
    agreement = Agreement.objects.get(client=person)
    refused = system_api.post(f"{BASE}valuations/", {"agreement": agreement.pk, "valued_on": "2026-01-06",
                                                     "value": "180000.00", "valuer": "RICS"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"property": ["Record the property first"]}
    active = active_agreement()
    added = system_api.post(f"{BASE}valuations/", {"agreement": active.pk, "valued_on": "2025-01-06",
                                                   "value": "200000.00", "valuer": "Desktop"}, format="json")
    assert added.status_code == 201, added.json()
    assert Valuation.objects.filter(property__agreement=active, value=Decimal("200000.00")).exists()


def test_rates_and_statements_are_read_only(system_api):
    rates = system_api.get(f"{BASE}interest-rates/").json()["results"]
    assert {"period_start": "2024-01-01", "period_end": "2024-06-30", "rate": "4.6500"}.items() <= next(
        r for r in rates if r["period_start"] == "2024-01-01").items()
    assert system_api.post(f"{BASE}interest-rates/", {"period_start": "2026-01-01", "rate": "5"}).status_code == 405
    assert system_api.post(f"{BASE}statements/", {}).status_code == 405


def test_an_income_officer_reads_but_cannot_open_agreements():
    api = api_as(Role.INCOME_OFFICER)
    assert api.get(f"{BASE}agreements/").status_code == 200
    assert api.post(f"{BASE}agreements/", {"client": 1, "team": 1, "enquiry_on": str(date.today())}).status_code == 403
