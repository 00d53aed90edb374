"""Corrections in a real browser: a team leader credits part of an invoice, moves a payment to
another invoice, looks through the payment files imported and the aged debt report. axe on every page."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.constants import AccountKind
from casework.roles import Role
from debt.models import Invoice, PaymentAllocation
from debt.services.payments import payment_record
from tests.factories import AccountFactory, ClientFactory, UserFactory
from tests.factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_team_leader_credits_part_of_an_invoice_and_moves_a_payment(page, live_server):
    leader = UserFactory(username="corrections-leader", roles=[Role.TEAM_LEADER])
    device = confirmed_device(leader)
    client = ClientFactory(first_name="Edith", last_name="Marsh")
    account = AccountFactory(client=client, kind=AccountKind.CLIENT_CHARGES)
    due = timezone.localdate() - timedelta(days=40)
    older = InvoiceFactory(client=client, account=account, total=Decimal("300.00"), due_date=due,
                           issue_date=due - timedelta(days=14))
    home = ChargeableServiceFactory()
    InvoiceLineFactory(invoice=older, service=home, amount=Decimal("300.00"),
                       explanation="Home care, 28 days at £75.00 a week")
    newer = InvoiceFactory(client=client, account=account, total=Decimal("120.00"), due_date=due + timedelta(days=28),
                           issue_date=due + timedelta(days=14))
    InvoiceLineFactory(invoice=newer, service=home, amount=Decimal("120.00"))
    payment = payment_record(client=client, amount=Decimal("100.00"), method="bank_transfer",
                             received_on=timezone.localdate(), reference="BT-EDITH", actor=leader)
    sign_in(page, live_server, leader, device)

    page.goto(f"{live_server.url}/income/invoices/{older.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Raise a credit note").click()
    page.get_by_role("heading", name=f"Raise a credit note for invoice {older.number}").wait_for()
    assert_accessible(page)
    page.get_by_label("Part of the invoice: an amount on chosen lines").check()
    page.get_by_label("Credit from: Home care, 28 days at £75.00 a week").fill("75.00")
    page.get_by_label("Reason").fill("One week of care not delivered")
    page.get_by_role("button", name="Raise credit note").click()
    expect(page.get_by_text("of £75.00 raised for invoice")).to_be_visible()
    assert_accessible(page)
    assert Invoice.objects.get(corrects=older).total == Decimal("-75.00")
    page.goto(f"{live_server.url}/income/invoices/{older.pk}/")
    expect(page.get_by_text("Part credited")).to_be_visible()

    page.goto(f"{live_server.url}/income/payments/{payment.pk}/")
    assert_accessible(page)
    page.get_by_role("link", name="Move to another invoice").click()
    page.get_by_role("heading", name="Move payment BT-EDITH to another invoice").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Move the payment").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("group", name="Move it from").get_by_label(f"{older.number} (due").check()
    page.get_by_role("group", name="Move it to").get_by_label(f"{newer.number} (due").check()
    page.get_by_label("Amount to move, in pounds").fill("40.00")
    page.get_by_label("Reason").fill("The client asked to pay the newer bill")
    page.get_by_role("button", name="Move the payment").click()
    expect(page.get_by_text(f"£40.00 of payment BT-EDITH moved to {newer.number}")).to_be_visible()
    assert PaymentAllocation.objects.filter(payment=payment, invoice=newer).get().amount == Decimal("40.00")

    page.goto(f"{live_server.url}/income/payments/imports/")
    assert_accessible(page)
    page.goto(f"{live_server.url}/income/reports/aged-debt/")
    expect(page.get_by_role("table", name="By recovery stage (the client's current stage)")).to_be_visible()
    assert_accessible(page)
