"""Estate cases: recovering a deceased client's care debt from the estate (rules DC-01 to DC-07)."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from casework.constants import CaseStatus, CaseType, RepresentativeKind
from casework.deaths.registry import HANDLERS
from casework.letters.services import render_letter_html
from casework.letters.types import get_letter_type
from casework.models import Letter, TimelineEntry
from casework.roles import Role
from casework.services import DomainError, ledger_reverse
from debt import estates as reads
from debt import estates_deaths
from debt.estates_demo import seed_estates
from debt.models import (
    EstateCase,
    EstateFollowUpRule,
    EstateOutcome,
    EstateStage,
    ProbateStatus,
    WriteOffReason,
    WriteOffRequest,
    WriteOffStatus,
)
from debt.services import estates as services
from debt.services.payments import payment_record

from .conftest import sign_in
from .factories import ClientFactory, RepresentativeFactory, UserFactory
from .factories_debt import InvoiceFactory

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(username="rmo", roles=[Role.RESOURCE_MANAGEMENT_OFFICER])


@pytest.fixture
def deceased():
    """A client who died 30 days ago owing two invoices: £399.40 and £150.00."""
    client = ClientFactory(deceased=True, first_name="Edna", last_name="Price", title="Mrs")
    died = client.date_of_death
    InvoiceFactory(client=client, number="INV90000001", period_start=died - timedelta(days=55),
                   period_end=died - timedelta(days=28), issue_date=died - timedelta(days=27),
                   due_date=died - timedelta(days=13), total=D("399.40"))
    InvoiceFactory(client=client, number="INV90000002", period_start=died - timedelta(days=27), period_end=died,
                   issue_date=died + timedelta(days=1), due_date=died + timedelta(days=15), total=D("150.00"))
    return client


@pytest.fixture
def executor(deceased):
    return RepresentativeFactory(client=deceased, kind=RepresentativeKind.EXECUTOR, name="Ruth Price",
                                 start_date=deceased.date_of_death)


@pytest.fixture
def estate(deceased, executor, officer):
    return services.estate_open(client=deceased, actor=officer)


def _pay(client, amount: str, days_after_death: int, actor):
    return payment_record(client=client, amount=D(amount), method="bank_transfer", actor=actor,
                          received_on=client.date_of_death + timedelta(days=days_after_death),
                          reference=f"EST{days_after_death}{amount}")


# Opening ---------------------------------------------------------------------------------------

def test_opening_makes_a_deceased_estate_case_through_casework_with_the_executor(deceased, executor, officer):
    today = timezone.localdate()
    estate = services.estate_open(client=deceased, actor=officer)
    case = estate.case
    assert case.case_type == CaseType.DECEASED_ESTATE and case.client == deceased
    assert case.team.name == "Resource management" and case.assigned_officer == officer
    assert estate.representative == executor
    assert estate.date_of_death == deceased.date_of_death
    assert estate.stage == EstateStage.OPEN and estate.probate_status == ProbateStatus.NOT_KNOWN
    assert estate.next_follow_up_on == today + timedelta(days=28)  # the 28-day rule from the data migration
    assert case.due_date == estate.next_follow_up_on
    assert TimelineEntry.objects.filter(case=case, action="case.opened").exists()
    opened = TimelineEntry.objects.get(case=case, action="debt.estate.opened")
    assert "£549.40 owed" in opened.summary


def test_cannot_open_for_a_living_client_one_owing_nothing_or_twice(deceased, officer):
    alive = ClientFactory()
    InvoiceFactory(client=alive)
    with pytest.raises(DomainError, match="No death is recorded"):
        services.estate_open(client=alive, actor=officer)
    with pytest.raises(DomainError, match="owes nothing"):
        services.estate_open(client=ClientFactory(deceased=True), actor=officer)
    services.estate_open(client=deceased, actor=officer)
    with pytest.raises(DomainError, match="already has an open estate case"):
        services.estate_open(client=deceased, actor=officer)
    with pytest.raises(DomainError, match="before the date of death"):
        services.estate_open(client=ClientFactory(deceased=True), actor=officer,
                             on=timezone.localdate() - timedelta(days=40))


def test_only_an_executor_or_administrator_can_be_the_personal_representative(deceased, officer):
    daughter = RepresentativeFactory(client=deceased, kind=RepresentativeKind.FAMILY)
    with pytest.raises(DomainError, match="only an executor or administrator"):
        services.estate_open(client=deceased, actor=officer, representative=daughter)
    estate = services.estate_open(client=deceased, actor=officer)
    assert estate.representative is None
    stranger = RepresentativeFactory(kind=RepresentativeKind.EXECUTOR)
    with pytest.raises(DomainError, match="is not a representative of"):
        services.estate_update_details(estate=estate, actor=officer, representative=stranger, estimated_value=None)
    admin = RepresentativeFactory(client=deceased, kind=RepresentativeKind.ADMINISTRATOR, name="Ian Price")
    estate = services.estate_update_details(estate=estate, actor=officer, representative=admin,
                                            estimated_value=D("12500"))
    assert estate.representative == admin and estate.estimated_value == D("12500.00")
    with pytest.raises(DomainError, match="cannot be negative"):
        services.estate_update_details(estate=estate, actor=officer, representative=admin, estimated_value=D("-1"))


# Follow-up interval from data ------------------------------------------------------------------

def test_follow_up_interval_is_the_rule_in_force_on_the_day(deceased, officer):
    today = timezone.localdate()
    EstateFollowUpRule.objects.create(effective_from=today - timedelta(days=1), interval_days=14)
    EstateFollowUpRule.objects.create(effective_from=today + timedelta(days=1), interval_days=7)  # not yet in force
    estate = services.estate_open(client=deceased, actor=officer)
    assert estate.next_follow_up_on == today + timedelta(days=14)
    assert reads.follow_up_days(today - timedelta(days=2)) == 28
    assert reads.follow_up_days(today + timedelta(days=1)) == 7


def test_no_rule_in_force_is_refused_in_words():
    EstateFollowUpRule.objects.all().delete()
    with pytest.raises(DomainError, match="No estate follow-up interval"):
        reads.follow_up_days(timezone.localdate())


def test_recording_a_follow_up_moves_the_next_date_by_the_interval(estate, officer):
    today = timezone.localdate()
    EstateFollowUpRule.objects.create(effective_from=today, interval_days=21)
    follow_up = services.estate_record_follow_up(estate=estate, note="Called the executor", contact_made=True,
                                                 actor=officer)
    estate.refresh_from_db()
    assert estate.next_follow_up_on == today + timedelta(days=21) == follow_up.next_follow_up_on
    assert follow_up.previous_follow_up_on == today + timedelta(days=28)
    chosen = today + timedelta(days=5)
    services.estate_record_follow_up(estate=estate, note="Waiting for the grant", contact_made=False, actor=officer,
                                     next_on=chosen)
    estate.refresh_from_db()
    assert estate.next_follow_up_on == chosen
    with pytest.raises(DomainError, match="after today"):
        services.estate_record_follow_up(estate=estate, note="x", contact_made=False, actor=officer, next_on=today)
    with pytest.raises(DomainError, match="Say what was done"):
        services.estate_record_follow_up(estate=estate, note="  ", contact_made=False, actor=officer)


def test_the_queue_holds_open_cases_whose_follow_up_date_has_come(officer):
    today = timezone.localdate()
    cases = []
    for _ in range(4):
        client = ClientFactory(deceased=True)
        InvoiceFactory(client=client)
        cases.append(services.estate_open(client=client, actor=officer, on=today - timedelta(days=29)))
    overdue, due_today, later, closed = cases
    EstateCase.objects.filter(pk=due_today.pk).update(next_follow_up_on=today)
    EstateCase.objects.filter(pk=later.pk).update(next_follow_up_on=today + timedelta(days=1))
    services.estate_transition(estate=closed, to_stage=EstateStage.CLOSED, outcome=EstateOutcome.RECORDED_IN_ERROR,
                               actor=officer)
    assert list(EstateCase.objects.due_for_follow_up(today)) == [overdue, due_today]
    assert [e.pk for e in reads.follow_up_queue(today)] == [overdue.pk, due_today.pk]


# Probate ---------------------------------------------------------------------------------------

def test_probate_search_grant_and_no_grant_are_recorded_with_their_dates(estate, officer):
    died = estate.date_of_death
    estate = services.estate_record_probate(estate=estate, status=ProbateStatus.SEARCH_MADE, actor=officer,
                                            search_on=died + timedelta(days=3))
    assert estate.probate_search_on == died + timedelta(days=3)
    estate = services.estate_record_probate(estate=estate, status=ProbateStatus.GRANT_ISSUED, actor=officer,
                                            grant_on=died + timedelta(days=20), grant_reference=" PA-123 ")
    assert (estate.probate_status, estate.grant_issued_on, estate.grant_reference) == (
        ProbateStatus.GRANT_ISSUED, died + timedelta(days=20), "PA-123")
    assert estate.probate_search_on == died + timedelta(days=3)  # the search stays on record
    entry = TimelineEntry.objects.filter(case=estate.case, action="debt.estate.probate.changed").first()
    assert entry.old_value["probate_status"] == "search_made" and entry.new_value["grant_reference"] == "PA-123"
    estate = services.estate_record_probate(estate=estate, status=ProbateStatus.NO_GRANT_EXPECTED, actor=officer)
    assert estate.grant_issued_on is None and estate.grant_reference == ""


@pytest.mark.parametrize("kwargs, message", [
    ({"status": ProbateStatus.SEARCH_MADE}, "date the probate search"),
    ({"status": ProbateStatus.GRANT_ISSUED, "grant_reference": "PA-1"}, "date the grant"),
    ({"status": ProbateStatus.GRANT_ISSUED, "days": 2}, "grant's reference"),
    ({"status": ProbateStatus.GRANT_ISSUED, "days": 60, "grant_reference": "PA-1"}, "cannot be in the future"),
    ({"status": ProbateStatus.GRANT_ISSUED, "days": -2, "grant_reference": "PA-1"}, "before the date of death"),
    ({"status": "granted-ish"}, "Choose what is known"),
])
def test_probate_details_that_do_not_fit_are_refused(estate, officer, kwargs, message):
    kwargs = dict(kwargs)
    days = kwargs.pop("days", None)
    if days is not None:
        kwargs["grant_on"] = estate.date_of_death + timedelta(days=days)
    with pytest.raises(DomainError, match=message):
        services.estate_record_probate(estate=estate, actor=officer, **kwargs)


# The claim letter ------------------------------------------------------------------------------

def test_claim_goes_to_the_executor_and_moves_the_case_to_claim_sent(estate, executor, officer):
    today = timezone.localdate()
    letter = services.estate_send_claim(estate=estate, actor=officer)
    estate.refresh_from_db()
    assert letter.letter_type == "estate_claim" and letter.case == estate.case
    assert letter.recipient_name == "Ruth Price"
    assert estate.stage == EstateStage.CLAIM_SENT and estate.claim_sent_on == today
    assert estate.claim_letter == letter and estate.next_follow_up_on == today + timedelta(days=28)
    sent = TimelineEntry.objects.get(case=estate.case, action="debt.estate.claim.sent")
    assert sent.new_value["amount"] == "549.40"
    # Sending again keeps the stage and makes a second letter.
    services.estate_send_claim(estate=estate, actor=officer)
    estate.refresh_from_db()
    assert estate.stage == EstateStage.CLAIM_SENT
    assert Letter.objects.filter(case=estate.case).count() == 2


def test_claim_letter_lists_what_is_left_on_each_invoice_in_plain_english(estate, executor, officer):
    _pay(estate.case.client, "99.40", 3, officer)  # oldest first: leaves £300.00 on INV90000001
    client = estate.case.client
    on = timezone.localdate()
    context = get_letter_type("estate_claim").build_context(
        client, on, representatives=[executor], invoices=reads.owed_invoices(client),
        date_of_death=estate.date_of_death, reply_by=on + timedelta(days=28))
    html = render_letter_html(client=client, letter_type="estate_claim", on=on, context=context,
                              representatives=[executor]).html
    assert "INV90000001" in html and "INV90000002" in html
    assert "£300.00" in html and "£150.00" in html and "£450.00" in html
    assert "claim against the estate" in html and "Dear Ruth Price" in html
    assert context["balance"] == "£450.00"


def test_no_claim_when_nothing_is_owed_or_the_case_is_closed(estate, officer):
    client = estate.case.client
    _pay(client, "549.40", 2, officer)
    with pytest.raises(DomainError, match="owes nothing on invoices"):
        services.estate_send_claim(estate=estate, actor=officer)
    services.estate_close(estate=estate, outcome=EstateOutcome.PAID_IN_FULL, actor=officer)
    with pytest.raises(DomainError, match="is closed"):
        services.estate_send_claim(estate=estate, actor=officer)
    assert not Letter.objects.filter(case=estate.case).exists()


# Payments since death, from the ledger ---------------------------------------------------------

def test_payments_since_death_come_from_the_ledger_after_the_day_of_death(estate, officer):
    client = estate.case.client
    _pay(client, "20.00", 0, officer)       # on the day of death: the client's own payment
    _pay(client, "50.00", 5, officer)
    reversed_payment = _pay(client, "30.00", 6, officer)
    ledger_reverse(entry=reversed_payment.ledger_entry, reason="Cheque bounced", actor=officer)
    assert reads.payments_since_death(client, estate.date_of_death) == D("50.00")
    row = reads.estate_cases().get(pk=estate.pk)
    assert row.payments_since_death == D("50.00")
    assert row.balance_owed == reads.balance_owed(client) == D("549.40") - D("20.00") - D("50.00") - D("30.00")


# Outcomes --------------------------------------------------------------------------------------

def test_paid_in_full_closes_the_estate_and_its_case_without_a_write_off(estate, officer):
    _pay(estate.case.client, "549.40", 10, officer)
    estate = services.estate_close(estate=estate, outcome=EstateOutcome.PAID_IN_FULL, actor=officer)
    assert estate.stage == EstateStage.CLOSED and estate.outcome == EstateOutcome.PAID_IN_FULL
    assert estate.closed_on == timezone.localdate() and estate.write_off is None
    estate.case.refresh_from_db()
    assert estate.case.status == CaseStatus.CLOSED


def test_paid_in_full_is_refused_while_money_is_owed(estate, officer):
    with pytest.raises(DomainError, match="£549.40 is still owed"):
        services.estate_close(estate=estate, outcome=EstateOutcome.PAID_IN_FULL, actor=officer)
    estate.refresh_from_db()
    assert estate.stage == EstateStage.OPEN


def test_paid_in_part_asks_to_write_off_what_is_left(estate, officer):
    _pay(estate.case.client, "100.00", 10, officer)
    estate = services.estate_close(estate=estate, outcome=EstateOutcome.PAID_IN_PART, actor=officer,
                                   note="The executor paid what the estate held")
    request = estate.write_off
    assert request.reason == WriteOffReason.DECEASED_NO_ESTATE and request.status == WriteOffStatus.REQUESTED
    assert request.amount == D("449.40")
    assert sorted((line.invoice.number, line.amount) for line in request.lines.all()) == [
        ("INV90000001", D("299.40")), ("INV90000002", D("150.00"))]
    assert estate.reference in request.note


def test_paid_in_part_needs_a_payment_since_the_death(estate, officer):
    with pytest.raises(DomainError, match="No payment has been received since the death"):
        services.estate_close(estate=estate, outcome=EstateOutcome.PAID_IN_PART, actor=officer, note="x")


@pytest.mark.parametrize("outcome", [EstateOutcome.NO_ESTATE, EstateOutcome.INSOLVENT])
def test_no_estate_or_an_insolvent_estate_asks_to_write_off_the_balance(estate, officer, outcome):
    estate = services.estate_close(estate=estate, outcome=outcome, actor=officer, note="Nothing left after funeral")
    assert estate.outcome == outcome
    assert estate.write_off.amount == D("549.40")
    assert estate.write_off.reason == WriteOffReason.DECEASED_NO_ESTATE
    assert estate.write_off.client == estate.case.client
    entry = TimelineEntry.objects.get(case=estate.case, action="debt.estate.closed")
    assert estate.write_off.reference in entry.summary
    assert entry.old_value == {"stage": "open", "outcome": ""}


def test_write_off_leaves_out_amounts_already_waiting_for_approval(estate, officer):
    from debt.services.writeoffs import writeoff_request

    invoice = reads.owed_invoices(estate.case.client)[0]
    writeoff_request(client=estate.case.client, lines=[(invoice, D("100.00"))], reason=WriteOffReason.HARDSHIP,
                     note="Earlier request", actor=officer)
    estate = services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer, note="No assets")
    assert estate.write_off.amount == D("449.40")


def test_outcome_needs_a_note_saying_how_the_officer_knows(estate, officer):
    with pytest.raises(DomainError, match="Say how you know") as refused:
        services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer)
    assert refused.value.field == "note"


# Transitions refused ---------------------------------------------------------------------------

def test_a_closed_estate_case_cannot_be_closed_again_or_worked(estate, officer):
    first = services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer, note="No assets")
    again = services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer, note="No assets")
    assert again.write_off_id == first.write_off_id and WriteOffRequest.objects.count() == 1  # unchanged, once
    with pytest.raises(DomainError, match="is closed \\(no estate\\) and cannot become closed as insolvent estate"):
        services.estate_close(estate=estate, outcome=EstateOutcome.INSOLVENT, actor=officer, note="x")
    with pytest.raises(DomainError, match="cannot become claim sent"):
        services.estate_transition(estate=estate, to_stage=EstateStage.CLAIM_SENT, actor=officer)
    with pytest.raises(DomainError, match="is closed"):
        services.estate_record_follow_up(estate=estate, note="x", contact_made=False, actor=officer)
    with pytest.raises(DomainError, match="is closed"):
        services.estate_record_probate(estate=estate, status=ProbateStatus.NO_GRANT_EXPECTED, actor=officer)
    assert EstateCase.objects.get(pk=estate.pk).outcome == EstateOutcome.NO_ESTATE


def test_claim_sent_cannot_go_back_to_open_and_officers_cannot_choose_recorded_in_error(estate, officer):
    services.estate_transition(estate=estate, to_stage=EstateStage.CLAIM_SENT, actor=officer)
    with pytest.raises(DomainError, match="cannot become open"):
        services.estate_transition(estate=estate, to_stage=EstateStage.OPEN, actor=officer)
    with pytest.raises(DomainError, match="Choose the outcome"):
        services.estate_close(estate=estate, outcome=EstateOutcome.RECORDED_IN_ERROR, actor=officer)
    with pytest.raises(DomainError, match="Choose the outcome"):
        services.estate_transition(estate=estate, to_stage=EstateStage.CLOSED, outcome="settled", actor=officer)


# The death handler -----------------------------------------------------------------------------

def test_the_handler_is_registered_and_proposes_an_estate_case_when_money_is_owed(deceased):
    handler = HANDLERS["debt.open_estate_case"]
    assert handler.app_label == "debt"
    proposals = handler.propose(deceased, deceased.date_of_death)
    assert [p.summary for p in proposals] == ["Open an estate case: £549.40 owed"]
    assert proposals[0].payload == {"owed": "549.40"}
    assert handler.propose(ClientFactory(deceased=True), deceased.date_of_death) == []


def test_the_handler_proposes_nothing_when_an_estate_case_is_already_open(estate):
    client = estate.case.client
    assert estates_deaths.propose(client, client.date_of_death) == []


def test_apply_opens_the_case_and_reverse_closes_it_as_recorded_in_error(deceased, officer):
    payload = estates_deaths.propose(deceased, deceased.date_of_death)[0].payload
    result = estates_deaths.apply(deceased, deceased.date_of_death, payload, officer)
    estate = EstateCase.objects.get(pk=result["estate_case"])
    assert estate.case_id == result["case"] and estate.stage == EstateStage.OPEN
    estates_deaths.reverse(deceased, deceased.date_of_death, payload, result, officer)
    estate.refresh_from_db()
    assert estate.stage == EstateStage.CLOSED and estate.outcome == EstateOutcome.RECORDED_IN_ERROR
    assert estate.outcome_note == "death recorded in error" and estate.write_off is None
    estate.case.refresh_from_db()
    assert estate.case.status == CaseStatus.CLOSED
    assert "death recorded in error" in estate.case.timeline.get(action="case.status.changed").body
    estates_deaths.reverse(deceased, deceased.date_of_death, payload, result, officer)  # a second time: no change


def test_reverse_is_refused_once_the_estate_case_has_another_outcome(deceased, officer):
    result = estates_deaths.apply(deceased, deceased.date_of_death, {}, officer)
    services.estate_close(estate=EstateCase.objects.get(pk=result["estate_case"]), outcome=EstateOutcome.NO_ESTATE,
                          actor=officer, note="No assets")
    with pytest.raises(DomainError, match="no estate"):
        estates_deaths.reverse(deceased, deceased.date_of_death, {}, result, officer)


# Pages -----------------------------------------------------------------------------------------

@pytest.fixture
def http(officer):
    from django.test import Client as HttpClient

    return sign_in(HttpClient(), officer)


def test_case_page_shows_balance_payments_probate_letters_and_next_follow_up(http, estate, officer):
    _pay(estate.case.client, "49.40", 4, officer)
    services.estate_record_probate(estate=estate, status=ProbateStatus.GRANT_ISSUED, actor=officer,
                                   grant_on=estate.date_of_death + timedelta(days=9), grant_reference="PA-77")
    letter = services.estate_send_claim(estate=estate, actor=officer)
    estate.refresh_from_db()
    page = http.get(reverse("debt:estate_detail", args=[estate.pk])).content.decode()
    assert "£500.00" in page and "£49.40" in page
    assert "Grant issued" in page and "PA-77" in page
    assert letter.reference in page
    assert f"{estate.next_follow_up_on.day} {estate.next_follow_up_on:%B %Y}" in page


def test_recording_a_follow_up_on_the_page_moves_the_date(http, estate):
    url = reverse("debt:estate_follow_up", args=[estate.pk])
    assert http.get(url).status_code == 200
    response = http.post(url, {"note": "Spoke to Ruth", "contact_made": "on"})
    assert response.status_code == 302
    assert estate.follow_ups.get().contact_made
    refused = http.post(url, {"note": ""})
    assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()


def test_bad_probate_and_outcome_input_shows_errors_not_a_server_error(http, estate):
    response = http.post(reverse("debt:estate_probate", args=[estate.pk]), {"status": "grant_issued"})
    assert response.status_code == 200 and "Enter the date the grant was issued" in response.content.decode()
    response = http.post(reverse("debt:estate_outcome", args=[estate.pk]), {"outcome": "paid_in_full"})
    assert response.status_code == 200 and "£549.40 is still owed" in response.content.decode()
    response = http.post(reverse("debt:estate_outcome", args=[estate.pk]), {"outcome": "recorded_in_error"})
    assert response.status_code == 200 and "govuk-error-summary" in response.content.decode()


def test_outcome_page_closes_and_requests_the_write_off(http, estate):
    response = http.post(reverse("debt:estate_outcome", args=[estate.pk]),
                         {"outcome": "insolvent", "note": "Debts exceed the estate"}, follow=True)
    assert "Write-off WO-" in response.content.decode()
    estate.refresh_from_db()
    assert estate.outcome == EstateOutcome.INSOLVENT


def test_open_page_opens_an_estate_case(http, deceased, executor):
    url = reverse("debt:estate_open", args=[deceased.pk])
    assert http.get(url).status_code == 200
    response = http.post(url, {"representative": executor.pk})
    estate = EstateCase.objects.get(case__client=deceased)
    assert response.status_code == 302 and response.url == reverse("debt:estate_detail", args=[estate.pk])


def test_list_filters_and_exports_and_the_queue(http, estate, officer):
    other = ClientFactory(deceased=True, last_name="Ormerod")
    InvoiceFactory(client=other)
    closed = services.estate_open(client=other, actor=officer)
    services.estate_close(estate=closed, outcome=EstateOutcome.NO_ESTATE, actor=officer, note="No assets")
    page = http.get(reverse("debt:estate_list"), {"stage": "closed"}).content.decode()
    assert closed.reference in page and estate.reference not in page
    page = http.get(reverse("debt:estate_list"), {"q": "price"}).content.decode()
    assert estate.reference in page and closed.reference not in page
    csv = b"".join(http.get(reverse("debt:estate_list"), {"format": "csv"}).streaming_content).decode()
    assert "Balance owed" in csv and estate.reference in csv and "549.40" in csv
    xlsx = http.get(reverse("debt:estate_list"), {"format": "xlsx", "outcome": "no_estate"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert len(rows) == 2 and rows[1][0] == closed.reference
    EstateCase.objects.filter(pk=estate.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=1))
    queue = http.get(reverse("debt:estate_queue")).content.decode()
    assert estate.reference in queue and closed.reference not in queue
    queue_csv = b"".join(http.get(reverse("debt:estate_queue"), {"format": "csv"}).streaming_content).decode()
    assert estate.reference in queue_csv


# API -------------------------------------------------------------------------------------------

def test_api_lists_and_reads_estate_cases_with_derived_figures(estate, officer):
    from rest_framework.test import APIClient

    _pay(estate.case.client, "49.40", 4, officer)
    api = APIClient()
    api.force_authenticate(UserFactory(username="system", roles=[Role.SYSTEM_ACCOUNT]))
    listing = api.get("/api/v1/estate-cases/", {"stage": "open"})
    assert listing.status_code == 200
    row = listing.json()["results"][0]
    assert row["reference"] == estate.reference and row["balance_owed"] == "500.00"
    assert row["payments_since_death"] == "49.40" and row["client"] == estate.case.client_id
    detail = api.get(f"/api/v1/estate-cases/{estate.pk}/")
    assert detail.status_code == 200 and detail.json()["probate_status"] == "not_known"
    assert api.get("/api/v1/estate-cases/", {"stage": "closed"}).json()["results"] == []
    assert api.get("/api/v1/estate-cases/", {"stage": "nonsense"}).status_code == 400
    assert api.post("/api/v1/estate-cases/", {}).status_code == 405


# Demo ------------------------------------------------------------------------------------------

def test_demo_estate_cases_at_three_stages_and_a_second_run_adds_nothing():
    users = {"resource": UserFactory(username="resource", roles=[Role.RESOURCE_MANAGEMENT_OFFICER])}
    out = io.StringIO()
    seed_estates(users, out)
    assert "Seeded 3 demo estate cases" in out.getvalue()
    stages = dict(EstateCase.objects.values_list("case__client__reference", "stage"))
    assert stages == {"ES900001": EstateStage.OPEN, "ES900002": EstateStage.CLAIM_SENT,
                      "ES900003": EstateStage.CLOSED}
    overdue = EstateCase.objects.get(case__client__reference="ES900001")
    assert overdue in EstateCase.objects.due_for_follow_up(timezone.localdate())
    part_paid = reads.estate_cases().get(case__client__reference="ES900002")
    assert part_paid.payments_since_death == D("300.00") and part_paid.balance_owed > 0
    closed = EstateCase.objects.get(case__client__reference="ES900003")
    assert closed.write_off is not None and closed.write_off.status == WriteOffStatus.REQUESTED
    again = io.StringIO()
    seed_estates(users, again)
    assert again.getvalue() == "" and EstateCase.objects.count() == 3


def test_estate_details_can_be_added_to_an_existing_deceased_estate_case(deceased, officer):
    from .factories import CaseFactory

    case = CaseFactory(client=deceased, case_type=CaseType.DECEASED_ESTATE)
    estate = services.estate_open(client=deceased, actor=officer, case=case)
    assert estate.case == case and EstateCase.objects.count() == 1
    with pytest.raises(DomainError, match="already has"):
        services.estate_open(client=deceased, actor=officer, case=case)
    other = CaseFactory(client=deceased, case_type=CaseType.DEBT_RECOVERY)
    services.estate_close(estate=estate, outcome=EstateOutcome.NO_ESTATE, actor=officer, note="No assets")
    with pytest.raises(DomainError, match="is not a deceased estate case"):
        services.estate_open(client=deceased, actor=officer, case=other)


def test_case_and_client_pages_link_to_the_estate_case(http, estate, deceased):
    case_page = http.get(reverse("casework:case_detail", args=[estate.case.pk])).content.decode()
    assert reverse("debt:estate_detail", args=[estate.pk]) in case_page
    client_page = http.get(reverse("casework:client_detail", args=[deceased.pk])).content.decode()
    assert estate.reference in client_page
