"""An officer's credit by hand waits for a team leader, who sees what changes and approves it; an
auditor reads the separation report. Every page is checked with axe-core."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from casework.models import ControlRequest, LedgerEntry
from casework.roles import Role
from casework.selectors import account_balance
from casework.services import account_for_client
from tests.factories import ClientFactory, LedgerEntryFactory, UserFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def test_a_credit_by_hand_waits_for_a_team_leader_who_sees_what_changes(page, live_server):
    officer = UserFactory(username="pgrant", first_name="Priya", last_name="Grant", roles=[Role.INCOME_OFFICER])
    leader = UserFactory(username="dmoss", first_name="Dylan", last_name="Moss", roles=[Role.TEAM_LEADER])
    auditor = UserFactory(username="kshaw", first_name="Keira", last_name="Shaw", roles=[Role.AUDITOR])
    devices = {user.pk: confirmed_device(user) for user in (officer, leader, auditor)}
    person = ClientFactory(first_name="Albert", last_name="Lowther")
    account = account_for_client(person)
    LedgerEntryFactory(account=account, amount=Decimal("1479.80"), posted_by=officer)

    sign_in(page, live_server, officer, devices[officer.pk])
    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="Post a payment or charge").click()
    page.get_by_label("Credit", exact=True).check()
    page.get_by_label("Amount, in pounds").fill("1479.80")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Reference").fill("GOODWILL1")
    page.get_by_label("Description").fill("Goodwill credit")
    page.get_by_label("Why are you posting this?").fill("Complaint upheld by the service manager")
    page.get_by_role("button", name="Post entry").click()
    expect(page.get_by_text(re.compile("Sent for approval as AP"))).to_be_visible()
    expect(page.get_by_text("You made or changed this, so someone else must decide it")).to_be_visible()
    expect(page.get_by_role("link", name="Approve")).to_have_count(0)
    assert_accessible(page)
    assert account_balance(account) == Decimal("1479.80")
    sign_out(page)

    sign_in(page, live_server, leader, devices[leader.pk])
    page.get_by_role("link", name="Approvals").first.click()
    expect(page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    expect(page.get_by_text("For you to decide")).to_be_visible()
    assert_accessible(page)
    request = ControlRequest.objects.get()
    page.get_by_role("link", name=request.reference).click()
    table = page.get_by_role("table", name="What changes if it is approved")
    expect(table).to_contain_text("1479.80")
    expect(table).to_contain_text("0.00")
    expect(page.get_by_text("Complaint upheld by the service manager")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Approve").click()
    assert_accessible(page)
    page.get_by_role("button", name="Approve and carry out").click()
    expect(page.get_by_text(re.compile(f"{request.reference} approved and carried out"))).to_be_visible()
    assert_accessible(page)
    assert account_balance(account) == Decimal("0.00")
    assert LedgerEntry.objects.filter(account=account, kind="credit").count() == 1
    sign_out(page)

    sign_in(page, live_server, auditor, devices[auditor.pk])
    page.goto(f"{live_server.url}/audit/separation/")
    expect(page.get_by_role("heading", name="Separation of duties", level=1)).to_be_visible()
    expect(page.get_by_role("table", name="Money-moving actions")).to_contain_text("Dylan Moss")
    assert_accessible(page)
