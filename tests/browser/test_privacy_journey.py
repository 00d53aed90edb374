"""Two team leaders in a real browser: one answers a subject access request and asks for a settled
client's personal data to be erased; the other approves, and the page shows what was erased and the
financial totals kept. axe-core on every page on the way."""
import re
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from casework.constants import CaseStatus, EntryKind
from casework.models import Client, ErasureRequest, ErasureStatus, SubjectAccessRequest
from casework.roles import Role
from tests.factories import AccountFactory, CaseFactory, ClientFactory, LedgerEntryFactory, UserFactory

from .conftest import assert_accessible, confirmed_device, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def test_subject_access_then_erasure_approved_by_a_second_team_leader(page, live_server):
    first = UserFactory(username="rjones", first_name="Rhian", last_name="Jones", roles=[Role.TEAM_LEADER])
    second = UserFactory(username="okhan", first_name="Omar", last_name="Khan", roles=[Role.TEAM_LEADER])
    person = ClientFactory(first_name="Edith", last_name="Crawley", postcode="NM4 2LP", phone="01632 960123")
    account = AccountFactory(client=person)
    LedgerEntryFactory(account=account, amount=Decimal("250.00"), effective_date=date(2019, 5, 1))
    LedgerEntryFactory(account=account, kind=EntryKind.PAYMENT, amount=Decimal("-250.00"),
                       effective_date=date(2019, 5, 20))
    CaseFactory(client=person, title="Mrs Crawley's care charges", status=CaseStatus.CLOSED,
                closed_at=datetime(2019, 6, 1, 12, tzinfo=dt_timezone.utc))

    sign_in(page, live_server, first, confirmed_device(first))
    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="Subject access export").click()
    assert_accessible(page)
    page.get_by_label("Which request does this answer?").fill("Letter of 20 November 2026 from Mrs Crawley")
    page.get_by_role("button", name="Produce the export").click()
    expect(page.get_by_text(re.compile("Subject access export SAR-.* produced"))).to_be_visible()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download")).first.click()
    assert download.value.suggested_filename == f"{SubjectAccessRequest.objects.get().reference}.zip"

    page.goto(f"{live_server.url}/clients/{person.pk}/")
    page.get_by_role("link", name="Request erasure of personal data").click()
    assert_accessible(page)
    page.get_by_role("button", name="Request erasure").click()  # no reason: the error is shown
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Why should this client's personal data be erased?").fill(
        "Retention period over; no estate or financial matters outstanding")
    page.get_by_role("button", name="Request erasure").click()
    expect(page.get_by_text("Waiting for a team leader other than the requester to decide.")).to_be_visible()
    assert_accessible(page)
    erasure = ErasureRequest.objects.get()
    sign_out(page)

    sign_in(page, live_server, second, confirmed_device(second))
    page.goto(f"{live_server.url}/erasure/{erasure.pk}/")
    page.get_by_label("Approve and erase now").check()
    page.get_by_label("Note (needed to reject)").fill("Checked: settled and closed")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="What was erased")).to_be_visible()
    assert_accessible(page)
    totals = page.get_by_role("table", name="Financial totals kept")
    expect(totals).to_contain_text(f"C-ERASED-{account.pk}")
    expect(totals).to_contain_text("£250.00")
    expect(page.get_by_text("Accounts renumbered")).to_be_visible()

    assert ErasureRequest.objects.get().status == ErasureStatus.COMPLETED
    erased = Client.objects.get(pk=person.pk)
    assert (erased.last_name, erased.phone, erased.postcode) == ("client", "", "")
    page.goto(f"{live_server.url}/clients/{person.pk}/")
    expect(page.get_by_text("Crawley")).to_have_count(0)
    assert_accessible(page)

