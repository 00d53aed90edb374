"""The income API: charges, payments, invoices, debts and Breathing Space moratoria at /api/v1/."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from casework.roles import Role
from debt.constants import HoldKind
from debt.models import AssessedCharge, BreathingSpaceRule, DebtHold, Moratorium, Payment, PaymentAllocation

from .factories import ClientFactory, UserFactory
from .factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory

pytestmark = [pytest.mark.django_db]

CHARGES, PAYMENTS, INVOICES = "/api/v1/assessed-charges/", "/api/v1/payments/", "/api/v1/invoices/"
DEBTS, MORATORIA = "/api/v1/debts/", "/api/v1/breathing-space/"


def api_as(*roles) -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory(roles=list(roles)))
    return api


@pytest.fixture
def system_api() -> APIClient:
    api = APIClient()
    user = UserFactory(username="finance-system", roles=[Role.SYSTEM_ACCOUNT])
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_anonymous_is_refused_everywhere():
    for url in (CHARGES, PAYMENTS, INVOICES, DEBTS, MORATORIA):
        assert APIClient().get(url).status_code in (401, 403)


def test_system_account_reads_with_a_token(system_api):
    invoice = InvoiceFactory()
    response = system_api.get(INVOICES, {"client": invoice.client_id})
    assert response.status_code == 200
    assert [row["number"] for row in response.json()["results"]] == [invoice.number]


@pytest.mark.parametrize("role,status", [(Role.AUDITOR, 403), (Role.DEFERRED_PAYMENT_OFFICER, 403),
                                         (Role.INCOME_OFFICER, 201), (Role.TEAM_LEADER, 201)])
def test_who_may_record_a_payment(role, status):
    client = ClientFactory()
    body = {"client": client.pk, "amount": "10.00", "method": "card", "received_on": "2026-01-05", "reference": "C1"}
    assert api_as(role).post(PAYMENTS, body, format="json").status_code == status


def test_auditor_reads_but_cannot_create_a_charge():
    auditor = api_as(Role.AUDITOR)
    assert auditor.get(CHARGES).status_code == 200
    assert auditor.post(CHARGES, {}, format="json").status_code == 403


def test_a_value_the_database_cannot_hold_is_a_400_not_a_500(system_api):
    """Found by Schemathesis: a NUL character in the service code reached PostgreSQL (DataError)."""
    client = ClientFactory()
    response = system_api.post(CHARGES, {"client": client.pk, "service": "home\u0000care", "weekly_amount": "10.00",
                                         "effective_from": "2026-01-05"}, format="json")
    assert response.status_code == 400, response.content
    assert "cannot be stored" in response.json()["detail"]
    assert not AssessedCharge.objects.exists()
    assert system_api.get(CHARGES).status_code == 200  # the connection is usable afterwards


def test_payment_is_allocated_to_the_oldest_invoice_first(system_api):
    client = ClientFactory()
    older = InvoiceFactory(client=client, due_date=date(2025, 11, 1), total=Decimal("60.00"))
    newer = InvoiceFactory(client=client, due_date=date(2025, 12, 1), total=Decimal("80.00"))
    response = system_api.post(PAYMENTS, {"client": client.pk, "amount": "100.00", "method": "bank_transfer",
                                          "received_on": "2026-01-05", "reference": "BT1"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["allocations"] == [
        {"invoice": older.pk, "invoice_number": older.number, "amount": "60.00"},
        {"invoice": newer.pk, "invoice_number": newer.number, "amount": "40.00"},
    ]
    assert body["unallocated"] == "0.00"
    listed = system_api.get(PAYMENTS, {"client": client.pk}).json()["results"]
    assert [p["reference"] for p in listed] == ["BT1"]


@pytest.mark.parametrize("change,field", [({"amount": "0.00"}, "amount"), ({"method": "barter"}, "method"),
                                          ({"received_on": "2999-01-01"}, "received_on"),
                                          ({"reference": "   "}, "reference")])
def test_bad_payment_is_refused_naming_the_field_and_writes_nothing(system_api, change, field):
    client = ClientFactory()
    InvoiceFactory(client=client)
    body = {"client": client.pk, "amount": "10.00", "method": "card", "received_on": "2026-01-05",
            "reference": "C1", **change}
    response = system_api.post(PAYMENTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Payment.objects.exists() and not PaymentAllocation.objects.exists()


def test_create_a_charge_and_a_new_version_ends_the_old(system_api):
    client, service = ClientFactory(), ChargeableServiceFactory()
    first = system_api.post(CHARGES, {"client": client.pk, "service": service.code, "weekly_amount": "99.85",
                                      "effective_from": "2026-04-06"}, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["version"] == 1 and first.json()["source"] == "api"
    second = system_api.post(CHARGES, {"client": client.pk, "service": service.code, "weekly_amount": "105.00",
                                       "effective_from": "2026-06-01"}, format="json")
    assert second.status_code == 201
    assert AssessedCharge.objects.get(version=1).effective_to == date(2026, 5, 31)
    assert len(system_api.get(CHARGES, {"client": client.pk}).json()["results"]) == 2


def test_overlapping_charge_is_refused_naming_the_field(system_api):
    client, service = ClientFactory(), ChargeableServiceFactory()
    body = {"client": client.pk, "service": service.code, "weekly_amount": "99.85", "effective_from": "2026-04-06",
            "effective_to": "2026-12-31"}
    assert system_api.post(CHARGES, body, format="json").status_code == 201
    response = system_api.post(CHARGES, {**body, "effective_from": "2026-05-01"}, format="json")
    assert response.status_code == 400
    assert "effective_from" in response.json()
    assert AssessedCharge.objects.count() == 1


def test_unknown_service_is_refused_naming_the_field(system_api):
    response = system_api.post(CHARGES, {"client": ClientFactory().pk, "service": "nope", "weekly_amount": "1.00",
                                         "effective_from": "2026-04-06"}, format="json")
    assert response.status_code == 400 and "service" in response.json()


def test_invoice_reads_with_lines_and_outstanding(system_api):
    invoice = InvoiceFactory()
    InvoiceLineFactory(invoice=invoice)
    system_api.post(PAYMENTS, {"client": invoice.client_id, "amount": "100.00", "method": "card",
                               "received_on": "2026-01-05", "reference": "C9"}, format="json")
    body = system_api.get(f"{INVOICES}{invoice.pk}/").json()
    assert (body["total"], body["paid"], body["outstanding"]) == ("399.40", "100.00", "299.40")
    assert body["lines"][0]["service"] == "home_care" and body["lines"][0]["days"] == 28
    owing = system_api.get(INVOICES, {"owing": "true"}).json()["results"]
    assert [row["id"] for row in owing] == [invoice.pk]


def test_debt_shows_overdue_balance_and_holds(system_api):
    today = timezone.localdate()
    client = ClientFactory()
    InvoiceFactory(client=client, due_date=today - timedelta(days=40), total=Decimal("50.00"))
    InvoiceFactory(client=client, due_date=today + timedelta(days=10), total=Decimal("30.00"))
    DebtHold.objects.create(client=client, kind=HoldKind.DISPUTE, note="Disputes the bill", placed_by=UserFactory(),
                            placed_on=today - timedelta(days=1), review_date=today + timedelta(days=20))
    body = system_api.get(f"{DEBTS}{client.pk}/").json()
    assert (body["outstanding"], body["overdue"]) == ("80.00", "50.00")
    assert body["stage"] is None
    assert [h["kind"] for h in body["holds"]] == ["dispute"]
    assert system_api.get(DEBTS, {"client": client.pk}).json()["results"][0]["client_reference"] == client.reference
    assert system_api.get(f"{DEBTS}{ClientFactory().pk}/").status_code == 404


def test_record_a_moratorium_and_refuse_a_duplicate(system_api):
    BreathingSpaceRule.objects.create(effective_from=date(2020, 1, 1))
    client = ClientFactory()
    body = {"client": client.pk, "register_entry_date": "2026-05-14", "adviser_name": "A Adviser",
            "adviser_organisation": "StepChange", "insolvency_reference": "BS-1"}
    response = system_api.post(MORATORIA, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["start_date"] == "2026-05-15" and response.json()["covers_all_debts"] is True
    again = system_api.post(MORATORIA, body, format="json")
    assert again.status_code == 400 and "insolvency_reference" in again.json()
    assert Moratorium.objects.count() == 1
