"""An officer in a real browser records a client's death and confirms what happens now; a team
leader then sees the death's record with the reversal form. axe-core on every page on the way."""
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from casework.deaths import registry
from casework.models.deaths import ConsequenceStatus, DeathRecord
from casework.roles import Role
from debt import death as debt_death
from tests.factories import ClientFactory, UserFactory
from tests.factories_debt import InvoiceFactory, InvoiceLineFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def income_handlers():
    """The income team's handlers only: other apps' consequences have their own tests."""
    saved = dict(registry.HANDLERS)
    registry.HANDLERS.clear()
    debt_death.register()
    yield
    registry.HANDLERS.clear()
    registry.HANDLERS.update(saved)


def test_officer_records_a_death_and_confirms_its_consequences(page, live_server, income_handlers):
    officer = UserFactory(username="apatel", first_name="Asha", last_name="Patel", roles=[Role.INCOME_OFFICER])
    device = confirmed_device(officer)
    person = ClientFactory(first_name="Walter", last_name="Brennan", postcode="NM3 7QT")
    invoice = InvoiceFactory(client=person, period_start=date(2026, 3, 2), period_end=date(2026, 3, 29),
                             issue_date=date(2026, 3, 30), due_date=date(2026, 4, 13), total=Decimal("336.00"))
    InvoiceLineFactory(invoice=invoice, date_from=date(2026, 3, 2), date_to=date(2026, 3, 29), days=28,
                       weekly_rate=Decimal("84.00"), amount=Decimal("336.00"))
    sign_in(page, live_server, officer, device)

    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="Record a death").click()
    expect(page.get_by_role("heading", name=re.compile("Record the death of .*Walter Brennan"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Record death").click()  # nothing entered: errors shown
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.locator("input[name=date_of_death_0]").fill("11")
    page.locator("input[name=date_of_death_1]").fill("3")
    page.locator("input[name=date_of_death_2]").fill("2026")
    page.get_by_label("Registrar notification (Tell Us Once)").check()
    page.get_by_label(re.compile("The death has been verified")).check()
    page.get_by_role("button", name="Record death").click()

    expect(page.get_by_role("heading", name="Confirm what happens now")).to_be_visible()
    expect(page.get_by_text(re.compile("The personal representatives of the late .*Walter Brennan"))).to_be_visible()
    credit = page.get_by_role("checkbox", name=re.compile(r"Credit invoice .* £216\.00 for 18 days after the death"))
    expect(credit).to_be_checked()
    assert_accessible(page)
    stop = page.get_by_role("checkbox", name=re.compile("Stop recovery of £336.00"))
    stop.uncheck()
    page.get_by_role("textbox", name=re.compile("about: Stop recovery")).fill("Executor has promised payment")
    page.get_by_role("button", name="Apply the ticked changes").click()

    expect(page.get_by_text("1 applied, 1 not applied")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Death of .*Walter Brennan"))).to_be_visible()
    expect(page.get_by_text("Executor has promised payment")).to_be_visible()
    assert_accessible(page)
    death = DeathRecord.objects.get(client=person)
    assert dict(death.consequences.values_list("kind", "status")) == {
        debt_death.CREDIT_KIND: ConsequenceStatus.APPLIED, debt_death.RECOVERY_KIND: ConsequenceStatus.DECLINED}

    page.goto(f"{live_server.url}/deaths/")
    expect(page.get_by_role("heading", name="Deaths")).to_be_visible()
    assert_accessible(page)


def test_team_leader_sees_the_reversal_form_on_the_death_page(page, live_server, income_handlers):
    leader = UserFactory(username="mokafor", first_name="Mary", last_name="Okafor", roles=[Role.TEAM_LEADER])
    device = confirmed_device(leader)
    person = ClientFactory(first_name="Iris", last_name="Dunmore")
    from casework.deaths.services import death_record

    death = death_record(client=person, date_of_death=date(2026, 3, 11), source="family", verified=False,
                         actor=leader)
    sign_in(page, live_server, leader, device)
    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="What happens because of the death").click()
    expect(page.get_by_role("heading", name="Recorded in error: reverse this death")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Reverse this death").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Why was the death recorded in error?").fill("The family's call was about another resident")
    page.get_by_role("button", name="Reverse this death").click()
    expect(page.get_by_text("was reversed as recorded in error")).to_be_visible()
    assert_accessible(page)
    death.refresh_from_db()
    assert death.status == "reversed"
