"""The provider payments pages: import with row-numbered errors, overriding a line, approving,
exports, and files held until a run is released."""
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework.roles import Role
from provider_payments.constants import ClaimStatus, LineResult
from provider_payments.models import Claim

from .factories import ClientFactory
from .factories_provider import CarePackageFactory, ProviderFactory, RateFactory
from .test_provider_validation import INVOICE_HEADER, invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    provider = ProviderFactory(name="Moorside Home Care Ltd")
    RateFactory(provider=provider)
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"))
    return provider


def _import(http, provider, body: str):
    return http.post(reverse("provider_payments:claim_import"), {
        "provider": provider.pk, "source": "invoice", "reference": "INV-9", "period_start_0": "23",
        "period_start_1": "3", "period_start_2": "2026", "period_end_0": "19", "period_end_1": "4",
        "period_end_2": "2026", "file": SimpleUploadedFile("c.csv", (INVOICE_HEADER + body).encode(), "text/csv")})


def test_a_malformed_claim_file_shows_each_row_and_imports_nothing(client_as, provider):
    http = client_as(Role.PROVIDER_PAYMENT_OFFICER)
    response = _import(http, provider, "SC500001,homecare,2026-03-23,two,24.00,48.00\n")
    assert response.status_code == 200
    assert "Row 2, units: &#x27;two&#x27; is not a number" in response.content.decode()
    assert Claim.objects.count() == 0


def test_officer_imports_and_overrides_a_claim_and_someone_else_approves_it(client_as, provider):
    http = client_as(Role.PROVIDER_PAYMENT_OFFICER)
    response = _import(http, provider, "SC500001,homecare,2026-03-23,2,24.00,48.00\nSC500001,homecare,2026-03-23,2,24.00,48.00\n")
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("provider_payments:claim_detail", args=[claim.pk])
    page = http.get(response["Location"]).content.decode()
    assert "Duplicates row 2 of this claim" in page and "1 accepted, 0 adjusted, 1 rejected" in page
    line = claim.lines.get(result=LineResult.REJECTED)
    response = http.post(reverse("provider_payments:claim_line_override", args=[line.pk]),
                         {"result": "adjusted", "payable_amount": "12.00", "note": "Half the visit confirmed"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.result, line.payable_amount, line.validated_result) == (LineResult.ADJUSTED, Decimal("12.00"),
                                                                         LineResult.REJECTED)
    export = http.get(reverse("provider_payments:claim_detail", args=[claim.pk]) + "?format=csv")
    text = b"".join(export.streaming_content).decode()
    assert "Half the visit confirmed" in text and text.count("\n") == 3
    # The officer who imported and overrode it may not approve it: the page says who may.
    refused = http.post(reverse("provider_payments:claim_approve", args=[claim.pk]), {"note": ""})
    assert refused.status_code == 200
    assert ("You made or changed this, so someone else must approve this claim: you imported it and overrode row 3. "
            "Another provider payment officer or a team leader may approve it") in refused.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VALIDATED and not provider.ledger.exists()
    leader = client_as(Role.TEAM_LEADER)
    leader.post(reverse("provider_payments:claim_approve", args=[claim.pk]), {"note": ""})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert provider.ledger.get().amount == Decimal("-60.00")


@pytest.mark.parametrize("name", ["provider_list", "rate_list", "package_list", "claim_list", "dispute_list",
                                  "overpayment_list", "run_list", "uplift_list", "urgent_list"])
def test_every_list_exports_csv_and_xlsx(client_as, provider, name):
    http = client_as(Role.AUDITOR)
    csv_response = http.get(reverse(f"provider_payments:{name}") + "?format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    xlsx = http.get(reverse(f"provider_payments:{name}") + "?format=xlsx")
    assert xlsx.content[:2] == b"PK"


def test_run_files_are_held_until_the_run_is_released(client_as, provider, django_capture_on_commit_callbacks):
    from casework.runs.services import run_start
    from provider_payments.models import PaymentRun
    from provider_payments.services.claims import claim_transition
    from tests.factories_provider import leader

    claim = invoice(provider, "SC500001,homecare,2026-03-23,2,24.00,48.00\n")
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=leader())
    with django_capture_on_commit_callbacks(execute=True):
        run_start(job="provider_payments", business_date=date(2026, 4, 20), trigger="schedule")
    payment_run = PaymentRun.objects.get()
    http = client_as(Role.TEAM_LEADER)
    url = reverse("provider_payments:run_file", args=[payment_run.pk, "bacs"])
    assert http.get(url)["Location"] == reverse("provider_payments:run_detail", args=[payment_run.pk])
    http.get(reverse("provider_payments:run_exceptions", args=[payment_run.pk]))
    http.post(reverse("provider_payments:run_release", args=[payment_run.pk]), {"note": ""})
    response = http.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).split(b"\r\n")[4][35:46] == b"00000004800"


def test_demo_seeder_adds_providers_packages_and_a_claim_with_exceptions_once():
    import io

    from provider_payments.demo import DEMO_CLAIM, seed_provider_payments
    from provider_payments.models import CarePackage, Provider
    from tests.factories_provider import leader, officer

    for _ in range(4):
        ClientFactory()
    users = {"provider": officer(), "teamleader": leader()}
    seed_provider_payments(users, io.StringIO())
    seed_provider_payments(users, io.StringIO())
    assert Provider.objects.count() == 3 and CarePackage.objects.count() == 4
    claim = Claim.objects.get(reference=DEMO_CLAIM)
    results = sorted((r, reason.split(" ")[0]) for r, reason in claim.lines.exclude(
        result=LineResult.ACCEPTED).values_list("result", "reason"))
    assert results == [(LineResult.ADJUSTED, "Visit"), (LineResult.REJECTED, "10"), (LineResult.REJECTED, "Duplicates"),
                       (LineResult.REJECTED, "No")]
    assert claim.lines.count() == 31
    assert all(p.has_bank_details for p in Provider.objects.all())
