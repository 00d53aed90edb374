"""Journeys through the service in a real browser, checking every page with axe-core."""
import base64
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from casework.constants import EntryKind
from casework.models import TimelineEntry
from casework.roles import Role
from tests.factories import (
    AccountFactory,
    CaseFactory,
    ClientFactory,
    LedgerEntryFactory,
    RepresentativeFactory,
    TeamFactory,
    UserFactory,
)

from .conftest import PASSWORD, assert_accessible, confirmed_device, current_code, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def casebook():
    """An officer with a confirmed authenticator, a client with money owed, a representative and a case."""
    officer = UserFactory(username="ifoster", first_name="Imogen", last_name="Foster", roles=[Role.INCOME_OFFICER])
    device = confirmed_device(officer)
    team = TeamFactory(name="Income team North")
    team.members.add(officer)
    client = ClientFactory(first_name="Edith", last_name="Wexcombe", postcode="NM1 2AB")
    RepresentativeFactory(client=client, name="Margaret Wexcombe", relationship="Daughter")
    account = AccountFactory(client=client)
    LedgerEntryFactory(account=account, amount=Decimal("480.00"), posted_by=officer, description="Assessed contribution, 4 weeks")
    LedgerEntryFactory(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-120.00"), posted_by=officer,
                       description="Payment by direct debit")
    case = CaseFactory(client=client, team=team, assigned_officer=officer, title="Unpaid care charges")
    return {"officer": officer, "device": device, "client": client, "case": case}


def test_officer_finds_client_and_adds_a_note_to_the_case(page, live_server, casebook):
    officer, client, case = casebook["officer"], casebook["client"], casebook["case"]

    sign_in(page, live_server, officer, casebook["device"])
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/work/$"))
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Find a client").click()
    page.get_by_label("Name, social care reference, NHS number or postcode").fill("Wexcombe")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 client found for “Wexcombe”")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=client.full_name).click()
    expect(page.get_by_role("heading", name=client.full_name, level=1)).to_be_visible()
    expect(page.get_by_text("Margaret Wexcombe").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=case.reference).first.click()
    expect(page.get_by_role("heading", name="Unpaid care charges", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_text("Add a note, call, visit, letter or email").click()
    page.get_by_label("Summary").fill("Daughter will pay the arrears by 1 June")
    page.get_by_label("Details").fill("Spoke to Margaret. She has power of attorney and will set up a standing order.")
    page.get_by_role("button", name="Add to timeline").click()

    expect(page.get_by_role("alert").filter(has_text="Added to the timeline")).to_be_visible()
    expect(page.get_by_role("heading", name="Daughter will pay the arrears by 1 June")).to_be_visible()
    expect(page.get_by_text("She has power of attorney")).to_be_visible()
    assert_accessible(page)

    entry = TimelineEntry.objects.get(case=case, summary="Daughter will pay the arrears by 1 June")
    assert entry.actor == officer
    assert "power of attorney" in entry.body


def test_officer_sees_statement_form_errors_and_not_found(page, live_server, casebook):
    client = casebook["client"]
    sign_in(page, live_server, casebook["officer"], casebook["device"])
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()

    page.goto(live_server.url + reverse("casework:client_detail", args=[client.pk]))
    page.get_by_role("link", name="View statement").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Statement of account"))).to_be_visible()
    expect(page.get_by_text("Payment by direct debit")).to_be_visible()
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Post a payment or charge").click()
    expect(page.get_by_role("heading", name=f"Post to {client.full_name}'s account")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Post entry").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    response = page.goto(live_server.url + "/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)


def test_team_leader_sees_the_team_queue(page, live_server):
    leader = UserFactory(username="tlead", first_name="Tomasz", last_name="Lead", roles=[Role.TEAM_LEADER])
    device = confirmed_device(leader)
    team = TeamFactory(name="Income team South")
    team.leaders.add(leader)
    case = CaseFactory(team=team, assigned_officer=None, title="New assessment to collect")

    sign_in(page, live_server, leader, device)
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    page.get_by_role("link", name="Team queue").click()
    expect(page.get_by_role("heading", name="Team queue", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=case.reference)).to_be_visible()
    assert_accessible(page)


def test_first_sign_in_sets_up_two_factor(page, live_server):
    user = UserFactory(username="newstarter", first_name="Nia", last_name="Starter", roles=[Role.INCOME_OFFICER])

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    assert_accessible(page)

    shown_secret = page.locator(".app-secret-key").inner_text().replace(" ", "").strip()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32decode(shown_secret) == device.bin_key
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Confirm and continue").click()

    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    assert_accessible(page)
    device.refresh_from_db()
    assert device.confirmed


def change_password(page, new: str) -> None:
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm the new password").fill(new)
    page.get_by_role("button", name="Change password").click()


def test_officer_changes_their_password_from_the_header(page, live_server):
    from django.core import mail

    user = UserFactory(username="pchanger", first_name="Pat", last_name="Changer", email="pat.changer@example.gov.uk",
                       roles=[Role.INCOME_OFFICER])
    device = confirmed_device(user)
    sign_in(page, live_server, user, device)
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password", level=1)).to_be_visible()
    assert_accessible(page)
    change_password(page, "short")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Change your password"))
    assert_accessible(page)
    change_password(page, "a-long-new-passphrase-2026")
    expect(page.get_by_text("Your password has been changed")).to_be_visible()
    assert_accessible(page)
    user.refresh_from_db()
    assert user.check_password("a-long-new-passphrase-2026") and len(mail.outbox) == 1


def test_failed_sign_in_shows_an_accessible_error(page, live_server):
    user = UserFactory(username="ifoster", roles=[Role.INCOME_OFFICER])

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert_accessible(page)


def test_team_leader_starts_a_run_opens_its_letters_and_holds_the_batch(page, live_server, casebook):
    """The statements run started from the web, its page, a letter as sent, and a held batch."""
    leader = UserFactory(username="runlead", first_name="Rhona", last_name="Lead", roles=[Role.TEAM_LEADER])
    device = confirmed_device(leader)
    sign_in(page, live_server, leader, device)
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Scheduled runs", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Start a run").click()
    assert_accessible(page)
    page.get_by_label("Statements of account").check()
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("heading", name="Statements of account", level=1)).to_be_visible()
    expect(page.locator("#run-progress")).to_contain_text("Completed")
    expect(page.locator("#run-progress")).to_contain_text("1 of 1 items finished")
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^L\d{8}")).first.click()
    assert download.value.suggested_filename.endswith("account_statement.pdf")
    page.get_by_role("link", name="Hold the batch").click()
    page.get_by_label("Reason").fill("Checking the new wording first")
    page.get_by_role("button", name="Hold batch").click()
    expect(page.locator("dd", has_text="Held: Checking the new wording first")).to_be_visible()
    assert_accessible(page)


def test_finance_administrator_edits_letter_wording_with_a_live_preview(page, live_server):
    admin = UserFactory(username="fadmin", first_name="Fran", last_name="Admin", roles=[Role.FINANCE_ADMINISTRATOR])
    device = confirmed_device(admin)
    sign_in(page, live_server, admin, device)
    expect(page.get_by_role("heading", name="Letter wording", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Change wording of the statement of account")).click()
    assert_accessible(page)
    body = page.get_by_label("Wording")
    body.fill(body.input_value() + "\n\n{{ settings.SECRET_KEY }}")
    expect(page.get_by_text("is not a field of this letter").first).to_be_visible(timeout=10000)
    body.fill(body.input_value().replace("{{ settings.SECRET_KEY }}", "Thank you, {{ client_name }}."))
    page.get_by_label("What did you change and why?").fill("Added a thank-you")
    page.get_by_role("button", name="Save new version").click()
    expect(page.get_by_text("Added a thank-you")).to_be_visible()
    assert_accessible(page)
