"""An auditor reads a client's history of changes in a real browser: every kind of change, the
filter by kind, the next page and the export links; axe-core on every page."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework import services
from casework.constants import EntryKind, RepresentativeKind
from casework.roles import Role
from debt.constants import HoldKind
from debt.services.recovery import hold_place
from tests.factories import UserFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def test_auditor_reads_every_change_filters_by_kind_and_pages_on(page, live_server):
    officer = UserFactory(username="ifoster", first_name="Imogen", last_name="Foster", roles=[Role.INCOME_OFFICER])
    auditor = UserFactory(username="abell", first_name="Aisha", last_name="Bell", roles=[Role.AUDITOR])
    client = services.client_create(actor=officer, reference="SC910001", first_name="Edith", last_name="Wexcombe",
                                    address_line_1="1 High Street", postcode="NM1 2AB", date_of_birth=date(1940, 5, 17))
    services.client_update(client=client, actor=officer, reason="Moved house", postcode="NM1 3AB")
    services.representative_add(client=client, actor=officer, kind=RepresentativeKind.ATTORNEY, name="Margaret Wexcombe",
                                address_line_1="3 Hill Top", postcode="NM1 2AB", start_date=date(2026, 1, 5))
    account = services.account_for_client(client)
    for week in range(55):
        services.ledger_post(account=account, kind=EntryKind.CHARGE, amount=Decimal("99.85"),
                             effective_date=date(2026, 1, 5) + timedelta(weeks=week), reference=f"WK-{week}",
                             description="Weekly charge", actor=officer)
    hold_place(client=client, kind=HoldKind.DISPUTE, note="Says care was not received",
               review_date=timezone.localdate() + timedelta(days=30), actor=officer)

    sign_in(page, live_server, auditor, confirmed_device(auditor))
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.get_by_role("link", name="History of changes").first.click()
    page.get_by_role("heading", name="History of changes").wait_for()
    history = page.locator("#history")
    expect(history).to_contain_text("Recovery on hold (Dispute or query)")
    expect(history).to_contain_text("Imogen Foster")
    expect(history).to_contain_text("Income officer")
    assert_accessible(page)

    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#history")).to_contain_text("Details changed: postcode")
    expect(page.locator("#history")).to_contain_text("NM1 3AB")
    assert_accessible(page)

    page.get_by_label("Kind of change").select_option("holds")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#history caption")).to_have_text("1 change")
    expect(page.locator("#history")).to_contain_text("Says care was not received")
    assert_accessible(page)
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", f"/clients/{client.pk}/history/?kind=holds&format=csv")
