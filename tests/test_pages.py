"""The pages officers use: forms that explain bad input, bounded queries, exports, documents."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework.constants import CaseStatus, TimelineKind
from casework.models import Document, LedgerEntry, RecordAccess, TimelineEntry
from casework.roles import Role

from .factories import (
    CaseFactory,
    ClientFactory,
    LedgerEntryFactory,
    RepresentativeFactory,
    TaskFactory,
    TeamFactory,
    TimelineEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client_as):
    return client_as(Role.INCOME_OFFICER)


@pytest.fixture
def leader_client(client_as):
    return client_as(Role.TEAM_LEADER)


def test_posting_a_charge_through_the_page_raises_the_balance(officer_client):
    person = ClientFactory()
    LedgerEntryFactory(account__client=person, amount=Decimal("100.00"))
    today = timezone.localdate()
    response = officer_client.post(reverse("casework:ledger_post", args=[person.pk]), {
        "kind": "charge", "amount": "£40.00", "effective_date_0": today.day, "effective_date_1": today.month,
        "effective_date_2": today.year, "reference": "CHG1", "description": "Meals not on the invoice",
        "reason": "Missed from the last invoice",
    })
    assert response.status_code == 302
    page = officer_client.get(reverse("casework:client_detail", args=[person.pk]))
    assert "£140.00" in page.content.decode()


def test_a_payment_typed_into_the_ledger_form_waits_for_a_second_person(officer_client):
    """Money received is recorded on the payments page, allocated to invoices; a payment typed into
    the general form reduces what is owed, so it waits for another person's approval."""
    person = ClientFactory()
    LedgerEntryFactory(account__client=person, amount=Decimal("100.00"))
    today = timezone.localdate()
    response = officer_client.post(reverse("casework:ledger_post", args=[person.pk]), {
        "kind": "payment", "amount": "£40.00", "effective_date_0": today.day, "effective_date_1": today.month,
        "effective_date_2": today.year, "reference": "RCPT1", "description": "Cash at the office",
        "reason": "Paid at the counter",
    }, follow=True)
    assert "Sent for approval" in response.content.decode()
    page = officer_client.get(reverse("casework:client_detail", args=[person.pk]))
    assert "£100.00" in page.content.decode()


@pytest.mark.parametrize("amount, message", [("12.345", "no more than 2 decimal places"), ("abc", "pounds and pence"),
                                             ("", "This field is required")])
def test_a_bad_amount_is_explained_on_the_form_and_nothing_is_posted(officer_client, amount, message):
    person = ClientFactory()
    response = officer_client.post(reverse("casework:ledger_post", args=[person.pk]), {
        "kind": "payment", "amount": amount, "effective_date_0": "1", "effective_date_1": "4", "effective_date_2": "2026",
        "reference": "R", "description": "d",
    })
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and message in body and 'href="#id_amount"' in body
    assert not LedgerEntry.objects.exists()


def test_an_impossible_date_is_explained_not_a_500(officer_client):
    person = ClientFactory()
    response = officer_client.post(reverse("casework:ledger_post", args=[person.pk]), {
        "kind": "charge", "amount": "5", "effective_date_0": "45", "effective_date_1": "13", "effective_date_2": "2026",
        "reference": "R", "description": "d",
    })
    assert response.status_code == 200 and "govuk-error-summary" in response.content.decode()


def test_a_domain_refusal_shows_on_the_field_it_names(client_as):
    leader = client_as(Role.TEAM_LEADER)
    entry = LedgerEntryFactory()
    leader.post(reverse("casework:ledger_reverse", args=[entry.pk]), {"reason": "wrong client"})
    response = leader.post(reverse("casework:ledger_reverse", args=[entry.pk]), {"reason": "again"})
    assert response.status_code == 200 and "already been reversed" in response.content.decode()
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1


def test_unknown_ids_in_urls_are_a_404_page(officer_client):
    response = officer_client.get("/clients/999999/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_creating_a_client_through_the_form(officer_client):
    response = officer_client.post(reverse("casework:client_create"), {
        "reference": "SC777001", "first_name": "Ada", "last_name": "Lovelace", "address_line_1": "1 Analytical Way",
        "postcode": "nm12ab", "capacity": "has", "nhs_number": "943 476 5919",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    page = officer_client.get(response["Location"])
    assert "NM1 2AB" in page.content.decode() and "9434765919" in page.content.decode()


def test_a_bad_postcode_on_the_client_form_is_explained(officer_client):
    response = officer_client.post(reverse("casework:client_create"), {
        "reference": "SC777002", "first_name": "A", "last_name": "B", "address_line_1": "x", "postcode": "ZZZ", "capacity": "has",
    })
    assert response.status_code == 200 and "Enter a real UK postcode" in response.content.decode()


def test_viewing_a_client_is_logged(officer_client):
    person = ClientFactory()
    officer_client.get(reverse("casework:client_detail", args=[person.pk]))
    assert RecordAccess.objects.filter(client=person, user__username="income_officer").count() == 1


@pytest.mark.parametrize("entries", [1, 60])
def test_the_client_page_runs_a_bounded_number_of_queries(officer_client, django_assert_max_num_queries, entries):
    case = CaseFactory()
    for _ in range(3):
        RepresentativeFactory(client=case.client)
    for _ in range(entries):
        TimelineEntryFactory(case=case, client=case.client)
        LedgerEntryFactory(account__client=case.client)
    # A fixed number: the core page plus a few for each app's panel (invoices, recovery, relief, write-offs).
    with django_assert_max_num_queries(35):
        assert officer_client.get(reverse("casework:client_detail", args=[case.client.pk])).status_code == 200


@pytest.mark.parametrize("entries", [1, 150])
def test_the_case_page_runs_a_bounded_number_of_queries(officer_client, django_assert_max_num_queries, entries):
    case = CaseFactory()
    for _ in range(entries):
        TimelineEntryFactory(case=case, client=case.client)
    with django_assert_max_num_queries(25):
        assert officer_client.get(reverse("casework:case_detail", args=[case.pk])).status_code == 200


@pytest.mark.parametrize("cases", [1, 40])
def test_my_work_runs_a_bounded_number_of_queries(officer_client, django_assert_max_num_queries, cases):
    """One query for the page of cases, whoever they are assigned to (the officer column included)."""
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="income_officer")
    for _ in range(cases):
        case = CaseFactory(assigned_officer=officer)
        TaskFactory(case=case, assigned_to=officer)
    with django_assert_max_num_queries(14):
        response = officer_client.get(reverse("casework:my_work"))
    assert response.status_code == 200 and response.context["case_count"] == cases


def test_adding_a_note_from_the_case_page(officer_client):
    case = CaseFactory()
    response = officer_client.post(reverse("casework:case_note", args=[case.pk]),
                                   {"kind": "call", "summary": "Rang the son", "body": "No answer"})
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(case=case, kind=TimelineKind.CALL)
    assert entry.summary == "Rang the son" and entry.actor.username == "income_officer"


def test_search_finds_by_name_reference_nhs_number_and_postcode(officer_client):
    target = ClientFactory(first_name="Winifred", last_name="Ashcombe", reference="SC555123", postcode="NM9 9ZZ",
                           nhs_number="9434765919")
    ClientFactory(last_name="Other", postcode="B33 8TH")
    for term in ["ashcomb", "Winifred Ashcombe", "SC555123", "555123", "NM9 9ZZ", "nm99zz", "943 476 5919"]:
        body = officer_client.get(reverse("casework:search"), {"q": term}).content.decode()
        assert "Winifred" in body and "1 client found" in body, term


def test_search_with_nothing_typed_lists_nothing(officer_client):
    ClientFactory()
    assert "found" not in officer_client.get(reverse("casework:search"), {"q": "  "}).content.decode()


def test_exports_come_as_csv_and_xlsx_with_formulas_neutralised(officer_client):
    ClientFactory(last_name="=HYPERLINK(\"http://evil\")", first_name="Bob")
    url = reverse("casework:search")
    response = officer_client.get(url, {"q": "Bob", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Reference", "Name"]
    assert rows[1][1].startswith("Mr Bob") or rows[1][1].startswith("M")
    assert not any(cell.startswith("=") for row in rows for cell in row)
    response = officer_client.get(url, {"q": "Bob", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert "Reference" in [c.value for c in cells] and not any(c.data_type == "f" for c in cells)
    hostile = [c for c in cells if isinstance(c.value, str) and "=HYPERLINK" in c.value]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile if c.value.startswith("="))


def test_the_statement_exports_amounts_as_numbers(officer_client):
    entry = LedgerEntryFactory(amount=Decimal("12.34"))
    response = officer_client.get(reverse("casework:client_statement", args=[entry.account.client.pk]), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][5] == "Debit" and rows[1][5] == pytest.approx(12.34) and rows[1][7] == pytest.approx(12.34)


@pytest.mark.parametrize("name", ["casework:my_work", "casework:case_list", "casework:team_queue"])
def test_every_queue_exports(leader_client, name):
    CaseFactory(status=CaseStatus.ESCALATED)
    assert leader_client.get(reverse(name), {"format": "csv"}).status_code == 200
    assert leader_client.get(reverse(name), {"format": "xlsx"}).status_code == 200


def test_team_leader_bulk_assigns_from_the_queue(leader_client):
    team = TeamFactory()
    cases = [CaseFactory(team=team) for _ in range(3)]
    officer = UserFactory(username="assignee", roles=[Role.INCOME_OFFICER])
    response = leader_client.post(reverse("casework:team_queue"), {"cases": [c.pk for c in cases[:2]], "officer": officer.pk})
    assert response.status_code == 302
    assert [c.pk for c in officer.assigned_cases.order_by("pk")] == [c.pk for c in cases[:2]]


def test_bulk_assign_without_a_choice_explains_itself(leader_client):
    response = leader_client.post(reverse("casework:team_queue"), {})
    assert response.status_code == 200 and "Select at least one case" in response.content.decode()


def test_queue_filters_ignore_values_that_are_not_choices(leader_client):
    assert leader_client.get(reverse("casework:case_list"), {"status": "nonsense", "team": "x'; drop"}).status_code == 200


def test_a_document_is_checked_stored_privately_and_served_only_through_the_view(officer_client, client_as):
    case = CaseFactory()
    pdf = SimpleUploadedFile("statement.pdf", b"%PDF-1.4\n% test\n", content_type="application/pdf")
    response = officer_client.post(reverse("casework:document_upload", args=[case.pk]), {"file": pdf, "description": "Bank"})
    assert response.status_code == 302
    doc = Document.objects.get()
    assert doc.content_type == "application/pdf"
    with pytest.raises(ValueError):
        doc.file.url  # no public URL: the storage has no MEDIA_URL
    download = officer_client.get(reverse("casework:document_download", args=[doc.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert client_as(Role.PROVIDER_PAYMENT_OFFICER).get(reverse("casework:document_download", args=[doc.pk])).status_code == 200
    from django.test import Client

    assert Client().get(reverse("casework:document_download", args=[doc.pk])).status_code == 302


@pytest.mark.parametrize("name, content, message", [
    ("evil.exe", b"MZ\x90\x00", "must be a PDF"),
    ("fake.pdf", b"<html>not a pdf</html>", "not a real PDF"),
    ("empty.txt", b"", "empty"),
])
def test_bad_uploads_are_refused_with_a_reason(officer_client, name, content, message):
    case = CaseFactory()
    upload = SimpleUploadedFile(name, content)
    response = officer_client.post(reverse("casework:document_upload", args=[case.pk]), {"file": upload})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Document.objects.exists()


def test_an_oversized_upload_is_refused(officer_client, settings):
    settings.DOCUMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.txt", b"x" * 11)
    response = officer_client.post(reverse("casework:document_upload", args=[CaseFactory().pk]), {"file": upload})
    assert "smaller than" in response.content.decode() and not Document.objects.exists()


def test_my_work_shows_overdue_tasks_and_holds_to_review(client_as):
    http = client_as(Role.INCOME_OFFICER)
    from django.contrib.auth import get_user_model

    me = get_user_model().objects.get(username="income_officer")
    case = CaseFactory(assigned_officer=me, hold_reason="Appeal", hold_review_date=timezone.localdate() - timedelta(days=2))
    from casework import services

    services.task_create(case=case, title="Ring the bank", due_date=timezone.localdate() - timedelta(days=1), actor=me)
    body = http.get(reverse("casework:my_work")).content.decode()
    assert "Ring the bank" in body and "Overdue" in body and "Appeal" in body


def test_a_refused_request_gets_the_service_error_page_not_djangos_bare_one(rf):
    """Django answers 400 itself when, say, the session cannot be saved after a change was recorded
    (the database went away): the officer sees the service's page telling them to check the case."""
    from config import urls
    from casework.views import errors

    assert urls.handler400 is errors.bad_request
    response = errors.bad_request(rf.get("/"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Sorry, there is a problem with the service" in body and "check the case before you try again" in body


def test_list_filters_keep_what_was_chosen(leader_client):
    """The shared filter select marks the chosen option, for text and numeric values alike."""
    team = TeamFactory(name="Income team B")
    page = leader_client.get(reverse("casework:case_list"),
                             {"status": "open", "team": team.pk, "priority": "2"}).content.decode()
    assert '<option value="open" selected>' in page
    assert f'<option value="{team.pk}" selected>Income team B</option>' in page
    assert '<option value="2" selected>' in page
    page = leader_client.get(reverse("debt:decisions"), {"sort": "amount", "team": team.pk}).content.decode()
    assert '<option value="amount" selected>' in page and '<option value="">Any</option>' in page
    assert f'<option value="{team.pk}" selected>' in page
    assert page.count('<option value="">Any</option>') == 2  # kind and team have "Any"; the sort has none
