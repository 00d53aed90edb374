"""Direct payment journey in a real browser: an officer uploads a bank statement, reviews the
flagged lines, adds a liability and records a surplus to recover; a team leader approves it and
the invoice is raised. axe-core on every page."""
import importlib
import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from playwright.sync_api import expect

from casework.roles import Role
from debt.models import BillingCycle, Invoice
from direct_payments.models import Recovery
from direct_payments.services import audit_request, payment_for_period
from tests.factories import ClientFactory, TeamFactory, UserFactory
from tests.factories_direct import AgreementFactory, BankFormatFactory, bank_csv

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def dp_setup():
    """The reference data the migrations give (a transactional test flushes it between tests)."""
    seed = importlib.import_module("direct_payments.migrations.0002_append_only_and_defaults")
    seed.forward(apps, SimpleNamespace(connection=SimpleNamespace(vendor="flushed")))
    BillingCycle.objects.get_or_create(effective_from=date(2025, 4, 7), defaults={
        "name": "Four-weekly in arrears", "period_days": 28, "anchor_date": date(2025, 4, 7),
        "payment_terms_days": 14, "bill_days_after_period": 1})


def _statement() -> bytes:
    """5 January to 29 March 2026: three council payments and contributions, weekly wages, a £300.00
    cash withdrawal and a betting shop. Opens at £2,000.00, closes at £3,671.00."""
    rows = []
    for paid in (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)):
        rows += [(paid, "NORTHMOOR COUNCIL DP", "1520.00"), (paid + timedelta(days=1), "TRANSFER FROM CONTRIBUTION",
                                                             "160.00")]
    rows += [(date(2026, 1, 9) + timedelta(weeks=w), "K BROWN PA WAGES", "-252.00") for w in range(12)]
    rows += [(date(2026, 1, 28), "CASH ATM NORTHMOOR HIGH ST", "-300.00"), (date(2026, 2, 11), "BETFRED 1123", "-45.00")]
    return bank_csv(sorted(rows, key=lambda r: (r[0], -Decimal(r[2]))), opening=Decimal("2000.00"))


def test_officer_audits_a_statement_and_a_team_leader_approves_the_surplus(page, live_server, dp_setup):
    officer = UserFactory(username="gokafor", first_name="Grace", last_name="Okafor", roles=[Role.DIRECT_PAYMENT_OFFICER])
    leader = UserFactory(username="mbennett", first_name="Marcus", last_name="Bennett", roles=[Role.TEAM_LEADER])
    officer_device, leader_device = confirmed_device(officer), confirmed_device(leader)
    client = ClientFactory(first_name="Edith", last_name="Quarrington")
    agreement = AgreementFactory(client=client, team=TeamFactory(name="Direct payments monitoring"),
                                 created_by=officer)
    for start in (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)):
        payment_for_period(agreement=agreement, period_start=start, paid_on=start, actor=officer)
    audit = audit_request(agreement=agreement, period_start=date(2026, 1, 5), period_end=date(2026, 3, 29),
                          actor=officer, on=date(2026, 4, 1))
    BankFormatFactory(created_by=officer)

    sign_in(page, live_server, officer, officer_device)
    page.get_by_role("link", name="Direct payments").first.click()
    expect(page.get_by_role("heading", name="Direct payments", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Agreements", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name=agreement.reference).click()
    expect(page.get_by_role("heading", name=f"Direct payment agreement {agreement.reference}")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=audit.reference).click()
    expect(page.get_by_role("heading", name=re.compile(f"Audit {audit.reference}"), level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Upload a statement").click()
    assert_accessible(page)
    page.get_by_label("Statement file (CSV)").set_input_files(
        {"name": "northmoor-jan-mar.csv", "mimeType": "text/csv", "buffer": _statement()})
    page.get_by_label("Bank or card provider").select_option(label="Northmoor Building Society")
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("'northmoor-jan-mar.csv' accepted: 20 transactions, 2 flags to review")).to_be_visible()
    expect(page.get_by_text("3 of the 3 payments the council made")).to_be_visible()
    assert_accessible(page)

    for text, note in (("Cash withdrawal of £300.00", "Cash paid to the PA for extra hours; receipt seen"),
                       ("BETFRED 1123", "Paid back by the recipient on 3 March")):
        card = page.locator(".govuk-summary-card").filter(has_text=text)
        card.get_by_label("Accepted").check()
        card.get_by_label("Note").fill(note)
        card.get_by_role("button", name=re.compile("Save decision")).click()
        expect(page.get_by_text(re.compile("Decision saved"))).to_be_visible()
    expect(page.get_by_role("heading", name="3. Flagged lines (0 to review)")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Add a liability").click()
    assert_accessible(page)
    page.get_by_label("Wages due").check()
    page.get_by_label("Description").fill("PA wages for the last week of March")
    page.get_by_label("Amount still to pay, in pounds").fill("252.00")
    page.get_by_role("button", name="Add liability").click()
    working = page.locator("#surplus-working")
    expect(working.get_by_role("row", name=re.compile(r"Closing balance £3,671\.00"))).to_be_visible()
    expect(working.get_by_role("row", name=re.compile(r"To recover £1,739\.00"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Record the outcome").click()
    assert_accessible(page)
    page.get_by_label("Surplus to recover").check()
    page.get_by_label("Invoice on the income ledger, with a letter").check()
    page.get_by_label("Note").fill("Balance well above the four weeks' contingency")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_text(re.compile("Outcome recorded: audit .* is waiting for approval"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, leader, leader_device)
    page.goto(live_server.url + "/direct-payments/recoveries/")
    expect(page.get_by_role("link", name=audit.reference)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=audit.reference).click()
    page.get_by_role("link", name="Approve or send back").click()
    expect(page.get_by_role("heading", name="Approve the recovery of £1,739.00")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Approve the recovery").check()
    page.get_by_label("Note").fill("Agreed")
    # Approving raises the invoice and renders two letters: allow the slower response.
    page.get_by_role("button", name="Save decision").click(no_wait_after=True)
    expect(page.get_by_text("Recovery approved", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name=re.compile(r"Recovery of £1,739\.00: approved"))).to_be_visible()
    assert_accessible(page)

    recovery = Recovery.objects.get(audit=audit)
    assert (recovery.status, recovery.decided_by, recovery.amount) == ("approved", leader, Decimal("1739.00"))
    assert Invoice.objects.get(client=client).total == Decimal("1739.00")
