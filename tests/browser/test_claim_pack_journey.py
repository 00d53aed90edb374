"""Claim pack journey in a real browser: an officer issues the claim for a debt meeting every court
rule and downloads its pack, and is refused, with each rule not met in the error summary, for a
debt that does not. axe-core on every page."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.constants import Capacity, EntryKind
from casework.models import CapacityAssessment
from casework.roles import Role
from debt.models import ReferralStatus
from debt.services import legal as services
from tests.factories import ClientFactory, LedgerEntryFactory, UserFactory
from tests.factories_debt import InvoiceFactory
from tests.test_debt_court_rules import ensure_court_data, send_letter_before_claim

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def _approved_referral(officer, leader, last_name: str):
    today = timezone.localdate()
    client = ClientFactory(first_name="Edith", last_name=last_name)
    due = today - timedelta(days=60)
    invoice = InvoiceFactory(client=client, total=Decimal("400.00"), due_date=due, issue_date=due - timedelta(days=14),
                             period_start=due - timedelta(days=42), period_end=due - timedelta(days=15))
    send_letter_before_claim(client, today - timedelta(days=45), actor=officer)
    referral = services.referral_request(client=client, invoices=[invoice], actor=officer,
                                         note="No reply to the letter")
    return services.referral_approve(referral=referral, actor=leader), invoice


def _issue(page, live_server, referral) -> None:
    page.goto(f"{live_server.url}/income/legal/{referral.pk}/")
    page.get_by_role("heading", name="£400.00: Approved").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Issue claim").click()
    page.get_by_role("heading", name=f"Issue claim: {referral.reference}").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Issue claim and make the claim pack").click()


def test_officer_issues_a_claim_pack_and_is_refused_for_a_debt_not_ready(page, live_server):
    ensure_court_data()
    officer = UserFactory(username="ifoster", first_name="Imogen", last_name="Foster", roles=[Role.INCOME_OFFICER])
    leader = UserFactory(username="tlead", roles=[Role.TEAM_LEADER])
    ready, _ = _approved_referral(officer, leader, "Quarrington")
    not_ready, invoice = _approved_referral(officer, leader, "Ashworth")
    CapacityAssessment.objects.create(client=not_ready.client, assessed_on=timezone.localdate(), assessor="Dr A Jones",
                                      decision="Managing money", outcome=Capacity.LACKS, recorded_by=officer)
    LedgerEntryFactory(account=invoice.account, kind=EntryKind.ADJUSTMENT, amount=Decimal("9.99"),
                       effective_date=timezone.localdate(), reference="ADJ-1", description="Adjustment")
    sign_in(page, live_server, officer, confirmed_device(officer))

    # Every rule met: the claim is issued and its pack downloads.
    _issue(page, live_server, ready)
    expect(page.get_by_text(f"Legal referral {ready.reference}: issue claim recorded")).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the claim pack (PDF)").click()
    assert download.value.suggested_filename == f"claim-pack-{ready.reference}.pdf"
    ready.refresh_from_db()
    assert ready.status == ReferralStatus.CLAIM_ISSUED and ready.claim_pack

    # Two rules not met: the detail page warns, and issuing shows both in the error summary.
    page.goto(f"{live_server.url}/income/legal/{not_ready.pk}/")
    expect(page.get_by_text("This claim cannot go to court yet")).to_be_visible()
    _issue(page, live_server, not_ready)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("listitem")).to_have_count(2)
    expect(summary).to_contain_text("lacking capacity to manage their finances")
    expect(summary).to_contain_text("The statement of account does not reconcile")
    assert_accessible(page)
    not_ready.refresh_from_db()
    assert not_ready.status == ReferralStatus.APPROVED and not not_ready.claim_pack

    # The litigation friend page records the friend; one refusal is left.
    page.goto(f"{live_server.url}/income/legal/{not_ready.pk}/")
    page.get_by_role("link", name="Record the litigation friend").click()
    page.get_by_role("heading", name=f"Litigation friend: {not_ready.reference}").wait_for()
    assert_accessible(page)
    today = timezone.localdate()
    page.get_by_label("Litigation friend's full name").fill("Susan Ashworth")
    page.get_by_label("Litigation friend's address").fill("3 Low Road\nNorthmoor NM1 4AB")
    page.get_by_label("Relationship to the client").fill("Daughter")
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_role("button", name="Save the litigation friend").click()
    expect(page.get_by_text("Susan Ashworth (Daughter)")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Issue claim").click()
    page.get_by_role("button", name="Issue claim and make the claim pack").click()
    expect(page.locator(".govuk-error-summary").get_by_role("listitem")).to_have_count(1)
