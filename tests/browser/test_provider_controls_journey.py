"""Provider payments' money controls in a real browser: a provider payment officer overrides a line
upwards (claimed £22.80, pay £25,000.00), which waits for a team leader, and cannot approve the
claim; once the override is approved and someone else approves the claim, a team leader sees the
override on the run's page and its approval page, flagged against the provider's usual payment,
and releases the run only after opening its exceptions. axe on every page."""
import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import expect

from casework.models import ControlLimit, ControlRequest, ControlRequestStatus
from casework.roles import Role
from casework.runs.services import run_start
from casework.services.controls import control_request_transition
from provider_payments.constants import ClaimSource, ClaimStatus, PaymentRunStatus
from provider_payments.models import PaymentRun
from provider_payments.services.claims import claim_import, claim_transition
from tests.factories import ClientFactory, UserFactory
from tests.factories_provider import CarePackageFactory, ProviderFactory, RateFactory
from tests.test_provider_controls import CLAIM, PAY_DAY, earlier_payments
from tests.test_provider_validation import INVOICE_HEADER

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def reference_data():
    """The migrations' reference data and money control limits (a transactional test flushes them)."""
    importlib.import_module("provider_payments.migrations.0002_append_only_and_defaults").seed_defaults(apps)
    importlib.import_module("provider_payments.migrations.0005_claim_override_and_run_controls").seed_flag_rule(apps)
    limits = importlib.import_module("casework.migrations.0013_money_control_limits")
    for action, groups, kind, direction, alone, approve, any_amount, days in limits.LIMITS:
        for group in groups:
            ControlLimit.objects.get_or_create(
                action=action, group_name=group, entry_kind=kind, direction=direction, effective_from=limits.FROM,
                defaults={"alone_up_to": Decimal(alone) if alone else None,
                          "approve_up_to": Decimal(approve) if approve else None,
                          "approve_any_amount": any_amount, "period_days": days})


def test_an_upward_override_waits_the_officer_cannot_approve_and_the_releaser_sees_it(
        page, browser, live_server, reference_data):
    officer = UserFactory(username="ppatel", first_name="Priya", last_name="Patel", roles=[Role.PROVIDER_PAYMENT_OFFICER])
    other_officer = UserFactory(username="okhan", first_name="Omar", last_name="Khan",
                                roles=[Role.PROVIDER_PAYMENT_OFFICER])
    checker = UserFactory(username="sjones", first_name="Sam", last_name="Jones", roles=[Role.TEAM_LEADER])
    releaser = UserFactory(username="tleader", first_name="Tom", last_name="Leader", roles=[Role.TEAM_LEADER])
    provider = ProviderFactory(name="Moorside Home Care Ltd")
    RateFactory(provider=provider, rate=Decimal("24.00"), created_by=officer)
    CarePackageFactory(provider=provider, client=ClientFactory(reference="SC500001"), created_by=officer)
    earlier_payments(provider)
    claim = claim_import(provider=provider, source=ClaimSource.INVOICE, reference="MHC-0326",
                         period_start=date(2026, 3, 23), period_end=date(2026, 4, 19),
                         data=(INVOICE_HEADER + CLAIM).encode(), filename="mhc.csv", actor=officer)

    # The officer pays the £22.80 line £25,000.00: it goes to a team leader, and the claim waits.
    sign_in(page, live_server, officer, confirmed_device(officer))
    page.goto(f"{live_server.url}/provider-payments/claims/{claim.pk}/")
    expect(page.get_by_role("heading", name="Claim MHC-0326")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Change result").first.click()
    expect(page.get_by_role("heading", name="Change the result of row 2")).to_be_visible()
    expect(page.get_by_text("Paying more than £22.80 on this row: it waits for a team leader's approval")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Adjusted").check()
    page.get_by_label("Amount to pay, in pounds").fill("25000.00")
    page.get_by_label("Note", exact=True).fill("Provider says the visits were double-handed")
    page.get_by_role("button", name="Save result").click()
    request = ControlRequest.objects.get()
    expect(page.get_by_text(f"so it is waiting for approval as {request.reference}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Override waiting for approval: £25,000.00 asked for ({request.reference})"))\
        .to_be_visible()
    expect(page.get_by_role("button", name="Approve claim")).to_have_count(0)
    assert_accessible(page)
    page.goto(f"{live_server.url}/provider-payments/claims/{claim.pk}/approve/")
    expect(page.get_by_text("1 override of this claim's lines is waiting for approval").first).to_be_visible()
    assert_accessible(page)

    # A team leader approves the override; the officer still may not approve the claim.
    control_request_transition(request=request, to=ControlRequestStatus.APPROVED, actor=checker, note="Rota checked")
    page.goto(f"{live_server.url}/provider-payments/claims/{claim.pk}/approve/")
    page.get_by_role("button", name="Approve claim").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("you imported it and overrode row 2. Another provider payment officer or a team "
                                    "leader may approve it")
    assert_accessible(page)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.VALIDATED

    # Another officer approves it; the scheduled run prepares the payment.
    claim_transition(claim=claim, to_status=ClaimStatus.APPROVED, actor=other_officer)
    run = run_start(job="provider_payments", business_date=PAY_DAY, trigger="schedule")
    run.refresh_from_db()
    assert run.status == "completed", run.error
    payment_run = PaymentRun.objects.get(run__business_date=PAY_DAY)

    leader_page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 900})
    leader_page.set_default_timeout(8_000)
    sign_in(leader_page, live_server, releaser, confirmed_device(releaser))
    leader_page.goto(f"{live_server.url}/provider-payments/runs/{payment_run.pk}/")
    expect(leader_page.get_by_role("heading", name="Payment run PR20260422")).to_be_visible()
    overrides = leader_page.get_by_role("table", name="Lines overridden by hand")
    expect(overrides).to_contain_text("Provider says the visits were double-handed")
    expect(overrides).to_contain_text("Priya Patel")
    expect(overrides).to_contain_text(f"Sam Jones ({request.reference})")
    assert_accessible(leader_page)

    leader_page.get_by_role("button", name="Approve and release").click()
    expect(leader_page.get_by_role("heading", name="Approve payment run PR20260422")).to_be_visible()
    payments = leader_page.get_by_role("table", name="Each provider's payment")
    expect(payments).to_contain_text("£25,048.00")
    expect(payments).to_contain_text("£1,344.00")
    expect(payments).to_contain_text("Flagged")
    expect(leader_page.get_by_text("£25,048.00 is 38.5 times its usual £650.00")).to_be_visible()
    expect(leader_page.get_by_role("table", name="Lines overridden by hand")).to_contain_text("Priya Patel")
    assert_accessible(leader_page)
    leader_page.get_by_role("button", name="Approve and release").click()
    expect(leader_page.locator(".govuk-error-summary")).to_contain_text("Open the exceptions of PR20260422 before "
                                                                        "releasing it")
    assert_accessible(leader_page)
    assert PaymentRun.objects.get(pk=payment_run.pk).status == PaymentRunStatus.PREPARED

    leader_page.get_by_role("link", name="Open the exceptions (2)").click()
    expect(leader_page.get_by_role("heading", name="Exceptions of payment run PR20260422")).to_be_visible()
    expect(leader_page.get_by_role("table", name="Unusual payments")).to_contain_text("38.5 times its usual")
    assert_accessible(leader_page)
    leader_page.get_by_role("button", name="Continue to approval").click()
    expect(leader_page.get_by_text("You opened the 2 exceptions of this run")).to_be_visible()
    assert_accessible(leader_page)
    leader_page.get_by_role("button", name="Approve and release").click()
    expect(leader_page.get_by_text("Payment run PR20260422 released")).to_be_visible()
    assert_accessible(leader_page)
    assert PaymentRun.objects.get(pk=payment_run.pk).status == PaymentRunStatus.RELEASED
    leader_page.close()
