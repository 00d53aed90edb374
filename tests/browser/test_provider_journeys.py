"""Provider payments in a real browser: an officer imports a call-monitoring claim and resolves an
exception; having changed it, they may not approve it, and another officer does; the scheduled
payment run prepares the payment; a team leader opens the run's exceptions and releases it. axe on
every page."""
import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import expect

from casework.roles import Role
from casework.runs.services import run_start
from provider_payments.constants import ClaimStatus, PaymentRunStatus
from provider_payments.models import Claim, PaymentRun
from tests.factories import ClientFactory, UserFactory
from tests.factories_provider import CarePackageFactory, ProviderFactory, RateFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def reference_data():
    """The migrations' reference data (a transactional test flushes it between tests)."""
    importlib.import_module("provider_payments.migrations.0002_append_only_and_defaults").seed_defaults(apps)


def test_officer_imports_a_claim_resolves_an_exception_and_a_team_leader_releases_the_run(
        page, browser, live_server, reference_data, tmp_path):
    officer = UserFactory(username="ppatel", first_name="Priya", last_name="Patel", roles=[Role.PROVIDER_PAYMENT_OFFICER])
    leader = UserFactory(username="tleader", first_name="Tom", last_name="Leader", roles=[Role.TEAM_LEADER])
    other_officer = UserFactory(username="okhan", first_name="Omar", last_name="Khan",
                                roles=[Role.PROVIDER_PAYMENT_OFFICER])
    provider = ProviderFactory(name="Moorside Home Care Ltd")
    RateFactory(provider=provider, rate=Decimal("24.00"), created_by=officer)
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC600001"), created_by=officer)
    rows = ["client_reference,service_code,visit_date,planned_start,planned_minutes,check_in,check_out"]
    for offset in range(3):
        day = date(2026, 3, 23) + timedelta(days=offset)
        rows.append(f"SC600001,homecare,{day},08:00,60,08:00,09:00")
    rows.append("SC600001,homecare,2026-03-24,08:00,60,08:00,09:00")  # the same visit twice
    claim_file = tmp_path / "moorside-ecm.csv"
    claim_file.write_text("\n".join(rows) + "\n")

    sign_in(page, live_server, officer, confirmed_device(officer))
    page.get_by_role("link", name="Provider payments").first.click()
    expect(page.get_by_role("heading", name="Provider payments", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Import a claim").click()
    expect(page.get_by_role("heading", name="Import a claim")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Provider", exact=True).select_option(label=str(provider))
    page.get_by_label("Electronic call monitoring").check()
    page.get_by_label("Provider's invoice or claim reference").fill("MHC-0326")
    for prefix, (d, m, y) in (("Claim period start", ("23", "3", "2026")), ("Claim period end", ("19", "4", "2026"))):
        group = page.get_by_role("group", name=prefix)
        group.get_by_label("Day").fill(d)
        group.get_by_label("Month").fill(m)
        group.get_by_label("Year").fill(y)
    page.get_by_label("Claim file (CSV)").set_input_files(str(claim_file))
    page.get_by_role("button", name="Import and validate").click()
    expect(page.get_by_role("heading", name="Claim MHC-0326")).to_be_visible()
    expect(page.get_by_text("3 accepted, 0 adjusted, 1 rejected", exact=True)).to_be_visible()
    expect(page.get_by_text("Duplicates row 3 of this claim")).to_be_visible()
    assert_accessible(page)

    # The provider shows the visit was a second carer's: the officer pays it with a note.
    page.get_by_role("link", name="Change result").nth(3).click()
    expect(page.get_by_role("heading", name="Change the result of row 5")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Accepted").check()
    page.get_by_label("Note", exact=True).fill("Double-handed visit: two carers confirmed by the provider's rota")
    page.get_by_role("button", name="Save result").click()
    expect(page.get_by_text("4 accepted, 0 adjusted, 0 rejected", exact=True)).to_be_visible()
    # Having imported and changed it, the officer is told someone else approves it.
    expect(page.get_by_role("button", name="Approve claim")).to_have_count(0)
    expect(page.get_by_text("you imported it and overrode row 5")).to_be_visible()
    assert_accessible(page)
    page.context.clear_cookies()
    sign_in(page, live_server, other_officer, confirmed_device(other_officer))
    page.goto(f"{live_server.url}/provider-payments/claims/{Claim.objects.get().pk}/")
    page.get_by_role("button", name="Approve claim").click()
    expect(page.get_by_role("heading", name="Approve claim MHC-0326")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Approve claim").click()
    expect(page.get_by_text("approved for the next payment run")).to_be_visible()
    assert Claim.objects.get().status == ClaimStatus.APPROVED

    # The scheduled run on the provider's payment day.
    run = run_start(job="provider_payments", business_date=date(2026, 4, 20), trigger="schedule")
    run.refresh_from_db()
    assert run.status == "completed", run.error

    leader_page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 900})
    leader_page.set_default_timeout(8_000)
    sign_in(leader_page, live_server, leader, confirmed_device(leader))
    leader_page.goto(f"{live_server.url}/provider-payments/runs/")
    expect(leader_page.get_by_role("heading", name="Payment runs", level=1)).to_be_visible()
    assert_accessible(leader_page)
    leader_page.get_by_role("link", name="PR20260422").click()
    expect(leader_page.get_by_text("Waiting for approval", exact=True)).to_be_visible()
    expect(leader_page.get_by_role("cell", name="£96.00").first).to_be_visible()
    assert_accessible(leader_page)
    leader_page.get_by_role("button", name="Approve and release").click()
    assert_accessible(leader_page)
    leader_page.get_by_role("link", name="Open the exceptions (1)").click()
    expect(leader_page.get_by_role("table", name="Lines overridden by hand")).to_contain_text(
        "Double-handed visit: two carers confirmed by the provider's rota")
    assert_accessible(leader_page)
    leader_page.get_by_role("button", name="Continue to approval").click()
    leader_page.get_by_role("button", name="Approve and release").click()
    expect(leader_page.get_by_text("Payment run PR20260422 released")).to_be_visible()
    expect(leader_page.get_by_role("link", name="Download the Bacs file")).to_be_visible()
    assert_accessible(leader_page)
    assert PaymentRun.objects.get().status == PaymentRunStatus.RELEASED
    leader_page.close()
