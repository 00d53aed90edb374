"""The officer's pages: the list with its filters and exports, the agreement page, the actions
from enquiry to an active agreement, and the client page panel."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from casework.models import Team
from casework.roles import Role
from deferred_payments.models import Agreement, Criterion, LegalCharge, State

from .factories_deferred import _dpa_reference_data  # noqa: F401 (autouse)
from .factories_deferred import active_agreement, enquiry

pytestmark = pytest.mark.django_db


def test_the_list_filters_and_exports(client_as):
    active = active_agreement()
    waiting = enquiry()
    http = client_as(Role.DEFERRED_PAYMENT_OFFICER)
    page = http.get(reverse("deferred_payments:agreement_list"), {"state": "active"})
    assert page.status_code == 200
    assert active.reference in page.content.decode() and waiting.reference not in page.content.decode()
    csv = http.get(reverse("deferred_payments:agreement_list"), {"format": "csv"})
    text = b"".join(csv.streaming_content).decode()
    assert text.splitlines()[0].lstrip("\ufeff").startswith("Reference,Client reference,Client,State")
    assert active.reference in text and waiting.reference in text
    xlsx = http.get(reverse("deferred_payments:agreement_list"), {"format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_unregistered_charge_filter_uses_the_days_in_the_rules(client_as):
    late = enquiry()
    LegalCharge.objects.create(agreement=late, sent_on=date.today() - timedelta(days=61))
    recent = enquiry()
    LegalCharge.objects.create(agreement=recent, sent_on=date.today() - timedelta(days=10))
    page = client_as(Role.TEAM_LEADER).get(reverse("deferred_payments:agreement_list"), {"flag": "unregistered"})
    assert late.reference in page.content.decode()
    assert recent.reference not in page.content.decode()


def test_the_agreement_page_shows_the_equity_position_and_the_ledger(client_as):
    agreement = active_agreement(value=Decimal("250000"), mortgage=Decimal("20000"))
    page = client_as(Role.AUDITOR).get(reverse("deferred_payments:agreement_detail", args=[agreement.pk]))
    html = page.content.decode()
    assert "£190,750.00" in html  # WE-4
    assert "Set-up fee" in html
    assert "Record a repayment" not in html  # the auditor reads only


def test_an_officer_takes_an_enquiry_to_an_offer_through_the_pages(client_as):
    Team.objects.get_or_create(name="Deferred payments")
    http = client_as(Role.DEFERRED_PAYMENT_OFFICER)
    from .factories import ClientFactory

    person = ClientFactory()
    today = date.today()
    day = {"on_0": today.day, "on_1": today.month, "on_2": today.year}
    response = http.post(reverse("deferred_payments:agreement_create", args=[person.pk]), {
        "enquiry_on_0": today.day, "enquiry_on_1": today.month, "enquiry_on_2": today.year,
        "care_home": "Northmoor Lodge", "team": Team.objects.get(name="Deferred payments").pk})
    agreement = Agreement.objects.get(client=person)
    assert response.status_code == 302
    post = lambda name, data: http.post(reverse(f"deferred_payments:{name}", args=[agreement.pk]), data)  # noqa: E731
    assert post("transition", {"to_state": "application", **day}).status_code == 302
    for criterion in Criterion.values:
        response = post("eligibility", {"criterion": criterion, "met": "yes", "evidence": "Seen", "capital_amount": "100",
                                        "checked_on_0": today.day, "checked_on_1": today.month, "checked_on_2": today.year})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert post("transition", {"to_state": "eligibility_checked", **day}).status_code == 302
    refused = post("transition", {"to_state": "offered", **day})
    assert refused.status_code == 200 and "Record the property and a valuation" in refused.content.decode()
    post("terms", {"weekly_care_cost": "1000.00", "weekly_contribution": "300.00", "compounding": "daily",
                   "day_basis": "365", "fee_treatment": "added"})
    post("property", {"address_line_1": "1 High Street", "postcode": "NM1 1AA", "title_number": "NM1",
                      "share_percent": "100"})
    post("valuation", {"valued_on_0": today.day, "valued_on_1": today.month, "valued_on_2": today.year,
                       "value": "£165,000", "valuer": "RICS"})
    assert post("transition", {"to_state": "offered", **day}).status_code == 302
    agreement.refresh_from_db()
    assert agreement.state == State.OFFERED
    page = http.get(reverse("deferred_payments:agreement_detail", args=[agreement.pk])).content.decode()
    assert "£134,250.00" in page  # WE-4 (2)


def test_bad_input_names_the_field(client_as):
    agreement = enquiry()
    response = client_as(Role.DEFERRED_PAYMENT_OFFICER).post(
        reverse("deferred_payments:eligibility", args=[agreement.pk]),
        {"criterion": "capital", "met": "yes", "evidence": "Statements", "capital_amount": "30000",
         "checked_on_0": 1, "checked_on_1": 1, "checked_on_2": 2024})
    assert response.status_code == 200
    assert "above the upper capital limit" in response.content.decode()


def test_the_client_page_shows_the_agreement(client_as):
    agreement = active_agreement()
    page = client_as(Role.DEFERRED_PAYMENT_OFFICER).get(reverse("casework:client_detail", args=[agreement.client.pk]))
    assert agreement.reference in page.content.decode()
