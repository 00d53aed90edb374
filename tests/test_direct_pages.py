"""The direct payment pages: the audit page an officer works from, uploads through the page with
row-numbered errors, reviews, the approval, every list's CSV and XLSX export, and the API."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework.roles import Role
from direct_payments.constants import AuditStatus
from direct_payments.models import Agreement, Flag, Recovery

from .conftest import sign_in
from .factories import ClientFactory, TeamFactory, UserFactory
from .factories_direct import AgreementFactory, AuditFactory, BankFormatFactory, bank_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(username="grace", first_name="Grace", last_name="Okafor", roles=[Role.DIRECT_PAYMENT_OFFICER])


@pytest.fixture
def http(client, officer):
    return sign_in(client, officer)


def _upload(http, audit, data: bytes, **fields):
    return http.post(reverse("direct_payments:statement_upload", args=[audit.pk]),
                     {"kind": "bank_csv", "file": SimpleUploadedFile("statement.csv", data, "text/csv"), **fields})


def test_a_refused_upload_shows_each_problem_and_writes_nothing(http, officer):
    audit = AuditFactory(officer=officer)
    bank = BankFormatFactory()
    data = bank_csv([(date(2026, 4, 2), "K BROWN PA WAGES", "-252.00")])
    response = _upload(http, audit, data, bank=bank.pk)
    assert response.status_code == 200
    assert "Row 2, date: 2 April 2026 is outside the audit period" in response.content.decode()
    assert not audit.uploads.exists()


def test_uploading_a_new_banks_statement_maps_it_and_opens_the_review(http, officer):
    audit = AuditFactory(officer=officer)
    data = bank_csv([(date(2026, 1, 9), "CASH ATM NORTHMOOR", "-300.00"), (date(2026, 1, 12), "K BROWN PA WAGES",
                                                                          "-252.00")])
    response = _upload(http, audit, data, bank_name="Fenland Bank", date_column="Date", date_format="%d/%m/%Y",
                       description_column="Description", paid_in_column="Money In", paid_out_column="Money Out",
                       balance_column="Balance")
    assert response.status_code == 302
    page = http.get(reverse("direct_payments:audit_detail", args=[audit.pk])).content.decode()
    assert "Cash withdrawal of £300.00 is over £100.00" in page
    assert "Surplus working" in page
    audit.refresh_from_db()
    assert audit.status == AuditStatus.IN_REVIEW


def test_an_officer_reviews_a_flag_and_records_the_outcome_from_the_audit_page(http, officer):
    audit = AuditFactory(officer=officer, status=AuditStatus.REQUESTED)
    _upload(http, audit, bank_csv([(date(2026, 3, 20), "BETFRED 1123", "-45.00"),
                                   (date(2026, 3, 27), "K BROWN PA WAGES", "-252.00")], opening=Decimal("3000.00")),
            bank=BankFormatFactory().pk)
    for flag in Flag.objects.filter(audit=audit):
        response = http.post(reverse("direct_payments:flag_review", args=[flag.pk]),
                             {"decision": "accepted", "note": "Refunded by the recipient"})
        assert response.status_code == 302
    response = http.post(reverse("direct_payments:audit_outcome", args=[audit.pk]),
                         {"outcome": "surplus", "route": "invoice", "note": "Balance above contingency"})
    assert response.status_code == 302
    audit.refresh_from_db()
    assert audit.status == AuditStatus.AWAITING_APPROVAL
    # £3,000.00 − 45.00 − 252.00 = £2,703.00 closing, less 4 × £420.00 contingency = £1,023.00
    assert Recovery.objects.get(audit=audit).amount == Decimal("1023.00")
    assert set(Flag.objects.filter(audit=audit).values_list("decision", flat=True)) == {"accepted"}


def test_a_surplus_outcome_with_nothing_to_recover_is_refused_on_the_page(http, officer):
    audit = AuditFactory(officer=officer)
    _upload(http, audit, bank_csv([(date(2026, 3, 27), "K BROWN PA WAGES", "-252.00")]), bank=BankFormatFactory().pk)
    Flag.objects.filter(audit=audit).update(decision="accepted", note="ok")
    response = http.post(reverse("direct_payments:audit_outcome", args=[audit.pk]),
                         {"outcome": "surplus", "route": "invoice", "note": "x"})
    assert response.status_code == 200
    assert "There is nothing to recover: the working gives £0.00" in response.content.decode()


def test_a_team_leader_approves_from_the_decision_page(client, officer):
    audit = AuditFactory(officer=officer)
    http = sign_in(client, officer)
    _upload(http, audit, bank_csv([(date(2026, 3, 27), "K BROWN PA WAGES", "-252.00")], opening=Decimal("6352.00")),
            bank=BankFormatFactory().pk)
    Flag.objects.filter(audit=audit).update(decision="accepted", note="ok")
    http.post(reverse("direct_payments:audit_outcome", args=[audit.pk]),
              {"outcome": "surplus", "route": "reduce", "note": "Surplus"})
    recovery = Recovery.objects.get(audit=audit)
    assert recovery.amount == Decimal("4420.00")  # 6,100.00 − 1,680.00
    leader = sign_in(client, UserFactory(username="marcus", roles=[Role.TEAM_LEADER]))
    response = leader.post(reverse("direct_payments:recovery_decide", args=[recovery.pk]),
                           {"decision": "approve", "note": "Agreed"})
    assert response.status_code == 302
    recovery.refresh_from_db()
    assert recovery.status == "approved"


@pytest.mark.parametrize("name, args", [
    ("direct_payments:agreement_list", False), ("direct_payments:payment_list", False),
    ("direct_payments:audit_list", False), ("direct_payments:recovery_list", False),
    ("direct_payments:recovered_report", False), ("direct_payments:rule_list", False),
    ("direct_payments:bank_list", False), ("direct_payments:line_list", True),
])
@pytest.mark.parametrize("fmt, content_type", [("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats")])
def test_every_list_exports(http, officer, name, args, fmt, content_type):
    audit = AuditFactory(officer=officer)
    url = reverse(name, args=[audit.pk] if args else [])
    response = http.get(url, {"format": fmt})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    if fmt == "csv":
        assert b"".join(response.streaming_content).startswith("\ufeff".encode())


def test_the_home_page_queues_and_the_due_export(http):
    AgreementFactory(start_date=date(2026, 1, 5))
    assert http.get(reverse("direct_payments:home")).status_code == 200
    response = http.get(reverse("direct_payments:home"), {"list": "due", "format": "csv"})
    body = b"".join(response.streaming_content).decode()
    assert "Agreement,Client,Team,Audit due,Overdue" in body


def test_the_api_creates_an_agreement_and_lists_audits(client):
    api = sign_in(client, UserFactory(username="dpapi", roles=[Role.DIRECT_PAYMENT_OFFICER]))
    customer, team = ClientFactory(), TeamFactory()
    response = api.post("/api/v1/direct-payment-agreements/", {
        "client": customer.pk, "team": team.pk, "weekly_budget": "300.00", "start_date": "2026-01-05"},
        content_type="application/json")
    assert response.status_code == 201, response.content
    agreement = Agreement.objects.get(client=customer)
    assert (response.json()["reference"], agreement.contingency_weeks) == (agreement.reference, 4)
    AuditFactory(agreement=agreement)
    listed = api.get("/api/v1/direct-payment-audits/").json()
    assert [a["status"] for a in listed["results"]] == ["requested"]
