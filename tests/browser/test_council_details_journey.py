"""A system administrator keeps the council's details: opens the page from the navigation, has a
mistyped sort code refused with a message naming it, saves, and sees the change in the history.
Every page is checked with axe-core."""
import pytest
from playwright.sync_api import expect

from casework.models import CouncilDetails
from casework.roles import Role
from tests.factories import UserFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_a_system_administrator_keeps_the_council_details(page, live_server):
    admin = UserFactory(username="rokafor", first_name="Ruth", last_name="Okafor", roles=[Role.SYSTEM_ADMINISTRATOR])
    sign_in(page, live_server, admin, confirmed_device(admin))
    page.get_by_role("link", name="Council details").click()
    expect(page.get_by_role("heading", name="Council details", level=1)).to_be_visible()
    expect(page.get_by_text("Careledger will not start in production until these are saved")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Council name").fill("Northmoor County Council")
    page.locator("#id_bank_sort_code").fill("30-96-3")
    page.get_by_role("button", name="Save council details").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Sort code: Enter the sort code as 6 digits, like 20-00-00")).to_be_visible()
    assert_accessible(page)
    assert not CouncilDetails.objects.exists()

    page.locator("#id_bank_sort_code").fill("20-45-77")
    page.get_by_label("Account name").fill("Northmoor Income")
    page.get_by_label("Way to pay 3: name").fill("")
    page.get_by_label("Way to pay 3: instructions").fill("")
    page.get_by_label("Way to pay 4: name").fill("By standing order")
    page.get_by_label("Way to pay 4: instructions").fill("Ask your bank to pay us each month, quoting your reference.")
    page.get_by_role("button", name="Save council details").click()
    expect(page.get_by_text("Council details saved.")).to_be_visible()
    expect(page.get_by_text("Careledger will not start in production")).to_have_count(0)
    history = page.get_by_role("table", name="The latest 1 changes, newest first")
    expect(history.get_by_role("cell", name="Ruth Okafor")).to_be_visible()
    assert_accessible(page)

    saved = CouncilDetails.objects.get()
    assert (saved.bank_sort_code, saved.bank_account_name) == ("204577", "NORTHMOOR INCOME")
    assert [m["name"] for m in saved.payment_methods] == ["By debit or credit card", "At a Post Office or PayPoint shop",
                                                          "By standing order"]
    assert saved.history.get().history_user == admin
