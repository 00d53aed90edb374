"""The unbilled provision queues: care with no assessed charge, charges not invoiced for a period
that is due, and packages with no provider payment for a period that has ended. Each row says why
it is there and since when; the page filters by queue and exports CSV and XLSX."""
import csv
import io
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from casework.models import Run
from casework.roles import Role
from debt import unbilled
from provider_payments.constants import ClaimStatus, LineResult, PackageStatus, PaymentRunStatus
from provider_payments.models import Claim, ClaimLine, Payment, PaymentRun, ScheduledPayment

from .factories import ClientFactory
from .factories_debt import AssessedChargeFactory, BillingSuppressionFactory, ChargeableServiceFactory, InvoiceFactory
from .factories_provider import CarePackageFactory, ProviderFactory, officer, service

pytestmark = pytest.mark.django_db
D = Decimal
ON = date(2026, 11, 20)
# Billing periods (four-weekly from 7 April 2025, billed the day after): 21 Sep to 18 Oct and
# 19 Oct to 15 Nov 2026 are due by 20 November. Provider payment periods (four-weekly from
# 21 April 2025): 7 Sep to 4 Oct and 5 Oct to 1 Nov 2026 have ended.
BILL_1, BILL_2 = (date(2026, 9, 21), date(2026, 10, 18)), (date(2026, 10, 19), date(2026, 11, 15))


def _rows(kind: str) -> dict:
    return {row.client.pk: row for row in unbilled.KINDS[kind].find(ON)}


# (a) Care with no assessed charge -------------------------------------------------------------

def test_care_with_no_assessed_charge_in_force():
    home_care = ChargeableServiceFactory(code="home_care", name="Home care")
    day_care = ChargeableServiceFactory(code="day_care", name="Day care")
    start = date(2026, 6, 1)
    uncharged = CarePackageFactory(start_date=start)
    charged = CarePackageFactory(start_date=start)
    AssessedChargeFactory(client=charged.client, service=home_care)
    lapsed = CarePackageFactory(start_date=start)
    AssessedChargeFactory(client=lapsed.client, service=home_care, effective_to=date(2026, 10, 31))
    other_service = CarePackageFactory(start_date=start)
    AssessedChargeFactory(client=other_service.client, service=day_care)
    not_chargeable = CarePackageFactory(start_date=start, service_type=service("sleep_in"))
    provisional = CarePackageFactory(start_date=start, status=PackageStatus.PROVISIONAL)
    ended = CarePackageFactory(start_date=start, end_date=date(2026, 10, 31))

    rows = _rows("no_charge")
    assert set(rows) == {uncharged.client.pk, lapsed.client.pk, other_service.client.pk}
    assert rows[uncharged.client.pk].since == start
    assert uncharged.reference in rows[uncharged.client.pk].why
    assert "no assessed charge for home care in force" in rows[uncharged.client.pk].why
    assert rows[lapsed.client.pk].since == date(2026, 11, 1)
    assert "the last one ended on 31 Oct 2026" in rows[lapsed.client.pk].why
    for package in (charged, not_chargeable, provisional, ended):
        assert package.client.pk not in rows


def test_one_row_per_client_and_service_however_many_packages():
    client = ClientFactory()
    first = CarePackageFactory(client=client, start_date=date(2026, 7, 1))
    second = CarePackageFactory(client=client, start_date=date(2026, 8, 1))
    rows = unbilled.care_without_charge(ON)
    assert len(rows) == 1
    assert rows[0].since == date(2026, 7, 1)
    assert first.reference in rows[0].why and second.reference in rows[0].why


# (b) Charges not invoiced ---------------------------------------------------------------------

def test_billing_periods_due_follow_the_billing_cycle():
    periods = unbilled.billing_periods_due(ON)
    assert (periods[0].start, periods[0].end) == BILL_2
    assert (periods[1].start, periods[1].end) == BILL_1
    assert all(p.end >= date(2025, 11, 20) for p in periods)


def test_charges_with_no_invoice_for_a_period_that_is_due():
    def charged(**kwargs):
        return AssessedChargeFactory(effective_from=BILL_1[0], weekly_amount=D("50.00"), **kwargs).client

    def invoiced(client, period):
        InvoiceFactory(client=client, period_start=period[0], period_end=period[1])

    one_missing = charged()
    invoiced(one_missing, BILL_2)
    both_missing = charged()
    billed = charged()
    invoiced(billed, BILL_1)
    invoiced(billed, BILL_2)
    suppressed = charged()
    invoiced(suppressed, BILL_1)
    BillingSuppressionFactory(client=suppressed, period_start=BILL_2[0])
    nil = AssessedChargeFactory(effective_from=BILL_1[0], weekly_amount=D("0.00")).client
    dead = charged(client=ClientFactory(date_of_death=date(2026, 9, 1)))

    rows = _rows("not_invoiced")
    assert set(rows) == {one_missing.pk, both_missing.pk}
    row = rows[one_missing.pk]
    assert row.since == BILL_1[1]
    assert row.amount == D("50.00")
    assert "£50.00 a week (Home care) in force over 21 September to 18 October 2026; no invoice" in row.why
    assert rows[both_missing.pk].since == BILL_1[1]
    assert "2 periods not invoiced, the latest ending 15 Nov 2026" in rows[both_missing.pk].why
    for client in (billed, suppressed, nil, dead):
        assert client.pk not in rows


# (c) Care not paid to the provider -----------------------------------------------------------

def _claim(provider, status, lines):
    claim = Claim.objects.create(provider=provider, reference=f"C{Claim.objects.count()}", source="invoice",
                                 period_start=date(2026, 9, 7), period_end=date(2026, 11, 1), status=status,
                                 imported_by=officer())
    for row, (package, on) in enumerate(lines, start=1):
        ClaimLine.objects.create(claim=claim, row_number=row, client_reference=package.client.reference,
                                 client=package.client, service_code="homecare", service_type=package.service_type,
                                 service_date=on, units=D("2"), amount=D("44.00"), package=package,
                                 result=LineResult.ACCEPTED, payable_units=D("2"), payable_rate=D("22.00"),
                                 payable_amount=D("44.00"))


def test_packages_with_no_provider_payment_for_an_ended_period():
    provider = ProviderFactory()
    start = date(2026, 9, 7)
    unpaid = CarePackageFactory(provider=provider, start_date=start)
    paid = CarePackageFactory(provider=provider, start_date=start)
    claimed = CarePackageFactory(provider=provider, start_date=start)
    _claim(provider, ClaimStatus.PAID, [(paid, date(2026, 9, 10)), (paid, date(2026, 10, 10)), (claimed, date(2026, 10, 10))])
    _claim(provider, ClaimStatus.APPROVED, [(claimed, date(2026, 9, 10))])
    care_home = ProviderFactory()
    residential = CarePackageFactory(provider=care_home, start_date=start, service_type=service("residential"),
                                     units_per_week=D("1"))
    run = Run.objects.create(job="provider_payments", business_date=date(2026, 11, 2), trigger="test")
    payment_run = PaymentRun.objects.create(run=run, payment_date=date(2026, 11, 2), status=PaymentRunStatus.RELEASED)
    payment = Payment.objects.create(payment_run=payment_run, provider=care_home, gross=D("1600.00"), net=D("1600.00"),
                                     sort_code="200000", account_number="12345678", account_name="CARE HOME")
    for first, last in ((date(2026, 9, 7), date(2026, 10, 4)), (date(2026, 10, 5), date(2026, 11, 1))):
        ScheduledPayment.objects.create(payment=payment, package=residential, period_start=first, period_end=last,
                                        days=28, weekly_rate=D("200.00"), amount=D("800.00"))
    provisional = CarePackageFactory(provider=provider, start_date=start, status=PackageStatus.PROVISIONAL)
    not_yet = CarePackageFactory(provider=provider, start_date=date(2026, 11, 2))

    rows = _rows("not_paid")
    assert set(rows) == {unpaid.client.pk, claimed.client.pk}
    row = rows[unpaid.client.pk]
    assert row.since == date(2026, 10, 4)
    assert row.subject == unpaid.reference
    assert "nothing paid for 7 September to 4 October 2026; nothing claimed; 2 periods unpaid" in row.why
    assert "claimed or in a payment run, not yet paid" in rows[claimed.client.pk].why
    assert "periods unpaid" not in rows[claimed.client.pk].why  # October was paid
    for package in (paid, residential, provisional, not_yet):
        assert package.client.pk not in rows


# The page ------------------------------------------------------------------------------------

@pytest.fixture
def some_rows():
    CarePackageFactory(start_date=date(2026, 9, 7))  # no charge, and not paid
    AssessedChargeFactory(effective_from=BILL_1[0])  # not invoiced
    with mock.patch("django.utils.timezone.localdate", return_value=ON):
        yield


def test_page_counts_filters_and_says_why(client_as, some_rows):
    http = client_as(Role.INCOME_OFFICER)
    body = http.get(reverse("debt:unbilled")).content.decode()
    assert "Care with no assessed charge" in body and "Charge not invoiced" in body
    assert "Care not paid to the provider" in body
    assert "3 rows" in body
    response = http.get(reverse("debt:unbilled"), {"kind": "not_invoiced"})
    assert "1 row<" in response.content.decode()
    assert http.get(reverse("debt:unbilled"), {"kind": "nonsense", "page": "x"}).status_code == 200


def test_export_csv_and_xlsx(client_as, some_rows):
    http = client_as(Role.RESOURCE_MANAGEMENT_OFFICER)
    response = http.get(reverse("debt:unbilled"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Queue", "Client reference", "Client", "About", "Why", "Since", "Weekly amount"]
    assert sorted(r[0] for r in rows[1:]) == ["Care not paid to the provider", "Care with no assessed charge",
                                              "Charge not invoiced"]
    response = http.get(reverse("debt:unbilled"), {"format": "xlsx", "kind": "no_charge"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2


def test_only_the_queue_roles_may_read_it(client_as):
    assert client_as(Role.DEFERRED_PAYMENT_OFFICER).get(reverse("debt:unbilled")).status_code == 403
    assert client_as(Role.TEAM_LEADER).get(reverse("debt:unbilled")).status_code == 200
