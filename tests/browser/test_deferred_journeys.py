"""A deferred payment officer in a real browser: from an application to an active agreement with
a registered legal charge and a first statement. axe-core on every page type on the way."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.models import Team
from casework.roles import Role
from deferred_payments.models import Agreement, Criterion, NationalMaximumRate, State, Statement
from tests.factories import ClientFactory, UserFactory
from tests.factories_deferred import ensure_reference_data

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def dpa_setup():
    """The reference data the migration loads (a transactional test flushes it), with test rates
    for every half-year of the last two years (test figures, not published rates)."""
    ensure_reference_data()
    today = timezone.localdate()
    for year in range(today.year - 2, today.year + 1):
        for month in (1, 7):
            NationalMaximumRate.objects.get_or_create(period_start=date(year, month, 1),
                                                      defaults={"rate": Decimal("4.25")})


def _date(page, name: str, on: date) -> None:
    page.locator(f"input[name={name}_0]").fill(str(on.day))
    page.locator(f"input[name={name}_1]").fill(str(on.month))
    page.locator(f"input[name={name}_2]").fill(str(on.year))


def _action(page, label: str) -> None:
    page.get_by_role("link", name=label).click()
    expect(page.locator("h1")).to_be_visible()


def _state(page, label: str, on: date, start: date | None = None) -> None:
    _action(page, "Change the state")
    page.get_by_label(label, exact=True).check()
    _date(page, "on", on)
    if start:
        _date(page, "start_date", start)
    page.get_by_role("button", name="Change the state").click()
    expect(page.get_by_text(re.compile(f"is now {label.lower()}"))).to_be_visible()


def test_officer_takes_an_application_to_an_active_agreement_with_a_statement(page, live_server, dpa_setup):
    officer = UserFactory(username="thughes", first_name="Tom", last_name="Hughes", roles=[Role.DEFERRED_PAYMENT_OFFICER])
    device = confirmed_device(officer)
    Team.objects.create(name="Deferred payments").members.add(officer)
    person = ClientFactory(first_name="Joan", last_name="Whitfield", postcode="NM4 2LS")
    today = timezone.localdate()
    start = today - timedelta(days=28)
    sign_in(page, live_server, officer, device)

    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="Record a deferred payment enquiry").click()
    expect(page.get_by_role("heading", name=re.compile("Deferred payment enquiry"))).to_be_visible()
    assert_accessible(page)
    _date(page, "enquiry_on", start - timedelta(days=60))
    page.get_by_label("Care home").fill("Northmoor Lodge Care Home")
    page.get_by_role("button", name="Record the enquiry").click()
    expect(page.get_by_role("heading", name=re.compile("Deferred payment agreement DPA-"))).to_be_visible()
    assert_accessible(page)
    agreement = Agreement.objects.get(client=person)

    _state(page, "Application", start - timedelta(days=55))
    assert_accessible(page)
    for criterion, label in Criterion.choices:
        _action(page, "Record an eligibility check")
        if criterion == Criterion.CARE_HOME:
            assert_accessible(page)
        page.get_by_label(label).check()
        page.get_by_label("Met", exact=True).check()
        page.get_by_label("Evidence seen").fill("Documents seen and copied to the file")
        if criterion == Criterion.CAPITAL:
            page.get_by_role("textbox", name=re.compile("Capital other than the home")).fill("8400.00")
        _date(page, "checked_on", start - timedelta(days=50))
        page.get_by_role("button", name="Record the check").click()
        expect(page.get_by_text(re.compile(": met$"))).to_be_visible()
    _state(page, "Eligibility checked", start - timedelta(days=50))

    _action(page, "Change the terms")
    page.get_by_label("Weekly care cost the council pays").fill("1150.00")
    page.get_by_label("The person's assessed weekly contribution").fill("310.40")
    page.get_by_role("button", name="Save the terms").click()
    expect(page.get_by_text("Terms saved: £839.60 deferred a week")).to_be_visible()

    _action(page, "Record the property")
    page.get_by_label("Address line 1").fill("23 Beech Avenue")
    page.get_by_label("Postcode").fill("NM4 2LS")
    page.get_by_label("Land Registry title number").fill("NM482113")
    page.get_by_role("button", name="Save the property").click()
    _action(page, "Add a valuation")
    _date(page, "valued_on", start - timedelta(days=45))
    page.get_by_label("Value of the whole property").fill("250,000")
    page.get_by_label("Valuer").fill("Northmoor Valuation Services")
    page.get_by_role("button", name="Add the valuation").click()
    expect(page.get_by_text("Valuation added: the equity limit is now £210,750.00")).to_be_visible()
    _action(page, "Add an existing charge")
    page.get_by_label("Lender").fill("Northern Building Society")
    page.get_by_label(re.compile("Amount secured")).fill("20000")
    _date(page, "as_at", start - timedelta(days=45))
    page.get_by_role("button", name="Add the charge").click()
    expect(page.get_by_text("£190,750.00").first).to_be_visible()  # WE-4

    _state(page, "Offered", start - timedelta(days=40))
    _state(page, "Signed", start - timedelta(days=30))
    _action(page, "Record a legal charge step")
    assert_accessible(page)
    page.get_by_label("Sent to HM Land Registry").check()
    _date(page, "on", start - timedelta(days=29))
    page.get_by_role("button", name="Record the step").click()
    expect(page.get_by_role("strong").filter(has_text="Legal charge pending")).to_be_visible()
    _action(page, "Record a legal charge step")
    page.get_by_label("Registered", exact=True).check()
    _date(page, "on", start - timedelta(days=2))
    page.get_by_label(re.compile("Land Registry reference")).fill("LR-NM482113-1")
    page.get_by_role("button", name="Record the step").click()
    _state(page, "Active", start - timedelta(days=1), start=start)
    agreement.refresh_from_db()
    assert agreement.state == State.ACTIVE and agreement.legal_charge.reference == "LR-NM482113-1"

    _action(page, "Send a statement now")
    page.get_by_label(re.compile("Send a statement")).check()
    page.get_by_role("button", name="Send the statement").click()
    expect(page.get_by_text(re.compile(r"Statement sent: letter L\d+"))).to_be_visible()
    expect(page.get_by_role("cell", name="On request")).to_be_visible()
    assert_accessible(page)
    statement = Statement.objects.get(agreement=agreement)
    assert Decimal(statement.figures["fees"]) == Decimal("176.10")
    assert Decimal(statement.figures["equity_limit"]) == Decimal("190750.00")

    page.get_by_role("link", name="All agreements").click()
    expect(page.get_by_role("heading", name="Deferred payment agreements")).to_be_visible()
    expect(page.get_by_role("link", name=agreement.reference)).to_be_visible()
    assert_accessible(page)
