"""Income journeys in a real browser (issue 4): an officer takes a new overdue invoice through the
reminders to an agreed repayment plan, and a team leader approves a write-off. axe on every page."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.constants import AccountKind
from casework.models import Run
from casework.roles import Role
from casework.runs.services import run_start
from debt.models import BillingCycle, RecoveryEvent, RepaymentPlan, WriteOffLevel, WriteOffRequest
from debt.models.relief import PlanStatus
from debt.models.writeoffs import WriteOffStatus
from debt.services import writeoffs as writeoff_services
from debt.services.recovery import ensure_default_ladder
from tests.factories import AccountFactory, ClientFactory, TeamFactory, UserFactory
from tests.factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def income_setup():
    """The configuration the migrations give (a transactional test flushes it between tests)."""
    ensure_default_ladder()
    ChargeableServiceFactory()
    BillingCycle.objects.get_or_create(effective_from=date(2025, 4, 7), defaults={
        "name": "Four-weekly in arrears", "period_days": 28, "anchor_date": date(2025, 4, 7),
        "payment_terms_days": 14, "bill_days_after_period": 1})
    WriteOffLevel.objects.get_or_create(group_name=Role.TEAM_LEADER.value, effective_from=date(2015, 4, 1),
                                        defaults={"maximum_amount": Decimal("5000.00")})


def _overdue_invoice(client, officer, *, days_overdue: int = 60, total: Decimal = Decimal("399.40")):
    today = timezone.localdate()
    due = today - timedelta(days=days_overdue)
    account = AccountFactory(client=client, kind=AccountKind.CLIENT_CHARGES)
    invoice = InvoiceFactory(client=client, account=account, created_by=officer, total=total, due_date=due,
                             issue_date=due - timedelta(days=14), period_start=due - timedelta(days=43),
                             period_end=due - timedelta(days=16))
    InvoiceLineFactory(invoice=invoice, amount=total, date_from=invoice.period_start, date_to=invoice.period_end)
    return invoice


def test_officer_takes_an_overdue_invoice_through_reminders_to_an_agreed_plan(page, live_server, income_setup):
    officer = UserFactory(username="ifoster", first_name="Imogen", last_name="Foster", roles=[Role.INCOME_OFFICER])
    device = confirmed_device(officer)
    TeamFactory(name="Income team North").members.add(officer)
    client = ClientFactory(first_name="Edith", last_name="Quarrington", postcode="NM1 2AB")
    invoice = _overdue_invoice(client, officer)

    # The nightly recovery run on three business dates, a stage each time.
    today = timezone.localdate()
    for days_ago in (44, 30, 16):
        run = run_start(job="recovery", business_date=today - timedelta(days=days_ago), trigger="command")
        run.refresh_from_db()
        assert run.status == "completed", Run.objects.get(pk=run.pk).error
    stages = list(RecoveryEvent.objects.filter(client=client).order_by("business_date")
                  .values_list("to_stage__name", flat=True))
    assert stages == ["First reminder", "Second reminder", "Final notice"]

    sign_in(page, live_server, officer, device)
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Find a client").click()
    page.get_by_label("Name, social care reference, NHS number or postcode").fill("Quarrington")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 client found for “Quarrington”")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=client.full_name).click()
    expect(page.get_by_role("heading", name=client.full_name, level=1)).to_be_visible()
    expect(page.get_by_text(invoice.number).first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Debt recovery for this client").click()
    expect(page.get_by_role("heading", name="Debt recovery", level=1)).to_be_visible()
    expect(page.locator("dd", has_text=re.compile(r"^\s*Final notice since"))).to_be_visible()
    expect(page.get_by_role("link", name=invoice.number)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Letter L\d+"))).to_have_count(3)
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Letter L\d+")).first.click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.goto(live_server.url + f"/income/clients/{client.pk}/plans/new/")
    expect(page.get_by_role("heading", name="Agree a repayment plan", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Household").select_option(label="Single adult")
    page.get_by_label("Benefits (income, a month)").fill("1200.00")
    page.get_by_label("Home and contents (spending, a month)").fill("450.00")
    page.get_by_label("Food and housekeeping (spending, a month)").fill("300.00")
    page.get_by_label("Instalment amount, in pounds").fill("50.00")
    page.get_by_label("Frequency").select_option(label="Monthly")
    start = today + timedelta(days=7)
    first_payment = page.get_by_role("group", name=re.compile("First payment date"))
    first_payment.get_by_label("Day").fill(str(start.day))
    first_payment.get_by_label("Month").fill(str(start.month))
    first_payment.get_by_label("Year").fill(str(start.year))
    page.get_by_label("How they will pay").select_option(label="Direct Debit")
    page.get_by_role("button", name="Check affordability").click()
    expect(page.get_by_role("heading", name="Affordability check")).to_be_visible()
    expect(page.locator("dd", has_text="£450.00")).to_be_visible()  # disposable income a month
    assert_accessible(page)
    page.get_by_role("button", name="Agree the plan").click()

    expect(page.get_by_text("Repayment plan agreed")).to_be_visible()
    expect(page.get_by_text("Active").first).to_be_visible()
    assert_accessible(page)
    plan = RepaymentPlan.objects.get(client=client)
    assert plan.status == PlanStatus.ACTIVE
    assert plan.instalment_amount == Decimal("50.00")


def test_team_leader_approves_a_write_off_an_officer_asked_for(page, live_server, income_setup):
    officer = UserFactory(username="ofarrow", first_name="Owen", last_name="Farrow", roles=[Role.INCOME_OFFICER])
    leader = UserFactory(username="tlead", first_name="Tomasz", last_name="Lead", roles=[Role.TEAM_LEADER])
    device = confirmed_device(leader)
    client = ClientFactory(first_name="Walter", last_name="Penhaligon")
    invoice = _overdue_invoice(client, officer, days_overdue=400, total=Decimal("120.00"))
    request = writeoff_services.writeoff_request(client=client, lines=[(invoice, Decimal("120.00"))],
                                                 reason=WriteOffRequest._meta.get_field("reason").choices[0][0],
                                                 note="Costs more to chase than it is worth", actor=officer)

    sign_in(page, live_server, leader, device)
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    page.goto(live_server.url + "/income/write-offs/")
    expect(page.get_by_role("link", name=request.reference)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=request.reference).click()
    expect(page).to_have_title(re.compile(f"Write-off {request.reference}"))
    expect(page.get_by_role("heading", name=re.compile(r"£120\.00: Waiting for approval"), level=1)).to_be_visible()
    expect(page.get_by_text("Owen Farrow").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Approve").click()
    assert_accessible(page)
    page.get_by_label("Note").fill("Agreed: uneconomical to pursue")
    page.get_by_role("button", name="Approve and write off").click()
    expect(page.get_by_role("alert").filter(has_text=f"Write-off {request.reference} written off")).to_be_visible()
    expect(page.get_by_role("heading", name="£120.00: Written off", level=1)).to_be_visible()
    assert_accessible(page)

    request.refresh_from_db()
    assert request.status in (WriteOffStatus.APPROVED, WriteOffStatus.POSTED)
    assert request.decided_by == leader
