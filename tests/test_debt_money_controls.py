"""Credit notes and refunds under the money controls: within the maker's limit (ControlLimit rows,
seeded by casework's migration 0013) done at once and recorded as done alone; an officer's credit
note, or anything above the limit over its period, waits for someone else's approval, and nothing
moves until then. On the web pages and the API."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casework.constants import EntryKind
from casework.models import ControlAction, ControlRequest, ControlRequestStatus, LedgerEntry, MoneyAction
from casework.roles import Role
from casework.selectors import client_balance
from casework.services import DomainError, NotAllowed
from casework.services.controls import control_request_transition
from debt.constants import PaymentMethod
from debt.models import Invoice
from debt.services.billing import credit_note_raise, credit_note_request
from debt.services.payments import payment_record, refund_issue

from .factories import ClientFactory, UserFactory
from .factories_debt import InvoiceFactory, InvoiceLineFactory

pytestmark = pytest.mark.django_db
D = Decimal
CREDIT_NOTES, REFUNDS = "/api/v1/credit-notes/", "/api/v1/refunds/"


@pytest.fixture
def officer():
    return UserFactory(username="officer", roles=[Role.INCOME_OFFICER])


@pytest.fixture
def leader():
    return UserFactory(username="leader", roles=[Role.TEAM_LEADER])


@pytest.fixture
def other_leader():
    return UserFactory(username="other-leader", roles=[Role.TEAM_LEADER])


def invoice_of(total: str, client=None) -> Invoice:
    """An issued invoice of one line (and its ledger charge)."""
    invoice = InvoiceFactory(client=client or ClientFactory(), total=D(total))
    InvoiceLineFactory(invoice=invoice, amount=D(total))
    return invoice


def approve(request: ControlRequest, actor) -> ControlRequest:
    return control_request_transition(request=request, to=ControlRequestStatus.APPROVED, actor=actor)


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# Credit notes -----------------------------------------------------------------------------------

def test_a_team_leaders_credit_note_within_the_limit_is_raised_at_once_and_recorded_as_done_alone(leader):
    invoice = invoice_of("290.83")
    credit = credit_note_request(invoice=invoice, reason="Care not delivered", actor=leader)
    assert isinstance(credit, Invoice) and credit.total == D("-290.83") and credit.corrects == invoice
    action = MoneyAction.objects.get(action=ControlAction.CREDIT_NOTE)
    assert (action.amount, action.reference, action.maker, action.checker) == (D("290.83"), credit.number, leader,
                                                                               None)
    assert action.client_id == invoice.client_id and invoice.client.last_name not in action.summary
    assert not ControlRequest.objects.exists()


def test_an_officers_credit_note_waits_for_approval_and_the_officer_cannot_approve_it(officer, leader):
    invoice = invoice_of("300.00")
    line = invoice.lines.get()
    balance = client_balance(invoice.client)
    request = credit_note_request(invoice=invoice, reason="Two visits missed", actor=officer,
                                  lines=[(line, D("290.83"))])
    assert isinstance(request, ControlRequest)
    assert (request.action, request.status, request.amount) == (ControlAction.CREDIT_NOTE, "requested", D("290.83"))
    assert request.payload == {"invoice": invoice.pk, "lines": [[line.pk, "290.83"]]}
    assert not Invoice.objects.filter(corrects=invoice).exists() and client_balance(invoice.client) == balance
    with pytest.raises(NotAllowed, match="someone else must decide"):
        approve(request, officer)
    with pytest.raises(NotAllowed, match="cannot approve a credit note"):
        approve(request, UserFactory(username="officer-2", roles=[Role.INCOME_OFFICER]))
    approved = approve(request, leader)
    credit = Invoice.objects.get(corrects=invoice)
    assert (approved.status, approved.result_reference) == ("approved", credit.number)
    assert credit.total == D("-290.83") and credit.created_by == officer
    assert list(credit.lines.values_list("amount", flat=True)) == [D("-290.83")]
    assert client_balance(invoice.client) == balance - D("290.83")
    action = MoneyAction.objects.get(action=ControlAction.CREDIT_NOTE)
    assert (action.maker, action.checker, action.request) == (officer, leader, approved)


def test_credit_notes_split_under_a_team_leaders_limit_go_for_approval(leader, other_leader):
    """£2,500 a year for one client alone: a second credit note taking the year's total past it
    waits for another team leader."""
    client = ClientFactory()
    first = credit_note_request(invoice=invoice_of("2000.00", client), reason="Billed twice", actor=leader)
    assert isinstance(first, Invoice)
    second = credit_note_request(invoice=invoice_of("600.00", client), reason="Billed twice", actor=leader)
    assert isinstance(second, ControlRequest) and second.amount == D("600.00")
    with pytest.raises(NotAllowed, match="someone else must decide"):
        approve(second, leader)
    approve(second, other_leader)
    assert MoneyAction.objects.filter(action=ControlAction.CREDIT_NOTE, client=client).count() == 2
    # Another client's credit notes are not counted.
    assert isinstance(credit_note_request(invoice=invoice_of("2000.00"), reason="Billed twice", actor=leader), Invoice)


def test_one_credit_note_of_an_invoice_waits_at_a_time_and_approval_checks_again(officer, leader):
    invoice = invoice_of("300.00")
    request = credit_note_request(invoice=invoice, reason="Visits missed", actor=officer)
    with pytest.raises(DomainError, match=f"already waiting for a decision \\({request.reference}\\)"):
        credit_note_request(invoice=invoice, reason="Again", actor=officer)
    credit_note_raise(invoice=invoice, reason="Credited meanwhile", actor=leader, lines=[(invoice.lines.get(),
                                                                                          D("100.00"))])
    with pytest.raises(DomainError, match="not yet credited"):
        approve(request, leader)
    request.refresh_from_db()
    assert request.status == ControlRequestStatus.REQUESTED
    assert Invoice.objects.filter(corrects=invoice).count() == 1


def test_a_refused_credit_note_request_names_the_field_and_raises_nothing(officer):
    invoice = invoice_of("100.00")
    with pytest.raises(DomainError, match="not yet credited") as refused:
        credit_note_request(invoice=invoice, reason="Too much", actor=officer,
                            lines=[(invoice.lines.get(), D("100.01"))])
    assert refused.value.field == f"line_{invoice.lines.get().pk}"
    assert not ControlRequest.objects.exists()


def test_the_credit_note_page_sends_an_officers_credit_note_for_approval(client_as):
    invoice = invoice_of("120.00")
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("debt:credit_note_create", args=[invoice.pk])
    page = http.get(url).content.decode()
    assert "A team leader: your credit note is sent for approval" in page and "Send for approval" in page
    done = http.post(url, {"scope": "whole", "reason": "Billed in error"})
    request = ControlRequest.objects.get()
    assert done["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    assert not Invoice.objects.filter(corrects=invoice).exists()
    detail = http.get(reverse("debt:invoice_detail", args=[invoice.pk])).content.decode()
    assert "A credit note of £120.00 is waiting for approval" in detail and request.reference in detail
    assert "Raise a credit note" not in detail
    leader_page = client_as(Role.TEAM_LEADER).get(url).content.decode()
    assert "You may raise credit notes of up to £2,500.00 for one client in 365 days yourself" in leader_page


def test_the_credit_notes_api_raises_or_sends_for_approval(officer, leader):
    invoice = invoice_of("300.00")
    line = invoice.lines.get()
    waiting = api_as(officer).post(CREDIT_NOTES, {"invoice": invoice.pk, "reason": "Visits missed",
                                                  "lines": [{"line": line.pk, "amount": "50.00"}]}, format="json")
    assert waiting.status_code == 202, waiting.content
    body = waiting.json()
    assert (body["action"], body["status"], body["amount"]) == ("credit_note", "requested", "50.00")
    assert body["reference"] == ControlRequest.objects.get().reference
    assert not Invoice.objects.filter(corrects=invoice).exists()
    other = invoice_of("80.00")
    done = api_as(leader).post(CREDIT_NOTES, {"invoice": other.pk, "reason": "Billed in error"}, format="json")
    assert done.status_code == 201, done.content
    assert done.json()["total"] == "-80.00" and done.json()["corrects"] == other.pk
    listing = api_as(leader).get(CREDIT_NOTES, {"client": other.client_id}).json()["results"]
    assert [row["number"] for row in listing] == [done.json()["number"]]


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"line": 0, "amount": "1.00"}]}, "lines"),
    ({"lines": [{"line": "LINE", "amount": "0.00"}]}, "lines"),
    ({"lines": [{"line": "LINE", "amount": "-5.00"}]}, "LINE_FIELD"),
    ({"lines": [{"line": "OTHER", "amount": "1.00"}]}, "lines"),
    ({"lines": [{"line": "LINE", "amount": "1e9999"}]}, "lines"),
    ({"lines": [{"line": "LINE", "amount": "300.01"}]}, "LINE_FIELD"),
    ({"reason": ""}, "reason"),
])
def test_the_credit_notes_api_refuses_bad_input_with_a_400_naming_the_field(officer, body, field):
    invoice = invoice_of("300.00")
    line = invoice.lines.get()
    other = invoice_of("10.00").lines.get()
    ids = {"LINE": line.pk, "OTHER": other.pk}
    data = {"invoice": invoice.pk, "reason": "Missed visits", **body}
    for row in data.get("lines", []):
        row["line"] = ids.get(row["line"], row["line"])
    response = api_as(officer).post(CREDIT_NOTES, data, format="json")
    assert response.status_code == 400, response.content
    assert (f"line_{line.pk}" if field == "LINE_FIELD" else field) in response.json()
    assert not ControlRequest.objects.exists() and not Invoice.objects.filter(corrects=invoice).exists()


@pytest.mark.parametrize("role, status", [(Role.AUDITOR, 403), (Role.SYSTEM_ACCOUNT, 403),
                                          (Role.DEFERRED_PAYMENT_OFFICER, 403), (Role.INCOME_OFFICER, 202)])
def test_who_may_ask_for_a_credit_note_through_the_api(role, status):
    invoice = invoice_of("50.00")
    response = api_as(UserFactory(roles=[role])).post(CREDIT_NOTES, {"invoice": invoice.pk, "reason": "Wrong"},
                                                      format="json")
    assert response.status_code == status


# Refunds ----------------------------------------------------------------------------------------

def in_credit(amount: str, actor):
    """A client whose account is `amount` in credit (a payment with nothing to pay)."""
    client = ClientFactory()
    payment_record(client=client, amount=D(amount), method=PaymentMethod.BANK_TRANSFER,
                   received_on=timezone.localdate() - timedelta(days=1), reference="OVERPAID", actor=actor)
    return client


def refund(client, amount: str, actor):
    return refund_issue(client=client, amount=D(amount), reason="Paid twice", actor=actor,
                        method=PaymentMethod.BANK_TRANSFER)


def test_an_officers_refund_within_the_limit_is_paid_at_once(officer):
    client = in_credit("400.00", officer)
    entry = refund(client, "250.00", officer)
    assert isinstance(entry, LedgerEntry) and (entry.kind, entry.amount) == (EntryKind.REFUND, D("250.00"))
    action = MoneyAction.objects.get(action=ControlAction.REFUND)
    assert (action.amount, action.maker, action.checker, action.reference) == (D("250.00"), officer, None,
                                                                               entry.reference)
    assert client_balance(client) == D("-150.00")


def test_a_refund_above_the_limit_waits_for_a_team_leader(officer, leader):
    client = in_credit("400.00", officer)
    request = refund(client, "300.00", officer)
    assert isinstance(request, ControlRequest) and request.action == ControlAction.REFUND
    assert client_balance(client) == D("-400.00") and not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()
    with pytest.raises(NotAllowed, match="someone else must decide"):
        approve(request, officer)
    with pytest.raises(NotAllowed, match="cannot approve a refund"):
        approve(request, UserFactory(username="officer-2", roles=[Role.INCOME_OFFICER]))
    approved = approve(request, leader)
    entry = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert (entry.amount, entry.posted_by, approved.result_reference) == (D("300.00"), officer, entry.reference)
    assert client_balance(client) == D("-100.00")
    action = MoneyAction.objects.get(action=ControlAction.REFUND)
    assert (action.maker, action.checker) == (officer, leader)


def test_refunds_split_under_the_limit_go_for_approval(officer):
    client = in_credit("400.00", officer)
    assert isinstance(refund(client, "200.00", officer), LedgerEntry)
    second = refund(client, "100.00", officer)  # £300.00 in the year: over the officer's £250.00
    assert isinstance(second, ControlRequest)


def test_credit_asked_for_by_a_waiting_refund_cannot_be_refunded_again(officer, leader):
    client = in_credit("400.00", officer)
    request = refund(client, "300.00", officer)
    with pytest.raises(DomainError, match=r"refunds of £300.00 are waiting .* refund no more than £100.00"):
        refund(client, "150.00", leader)
    assert isinstance(refund(client, "100.00", leader), LedgerEntry)
    approve(request, leader)
    assert client_balance(client) == D("0.00")


def test_an_approved_refund_is_refused_when_the_credit_has_gone(officer, leader):
    client = in_credit("300.00", officer)
    request = refund(client, "300.00", officer)
    InvoiceFactory(client=client, total=D("200.00"))  # a new invoice takes most of the credit
    with pytest.raises(DomainError, match="£100.00 in credit"):
        approve(request, leader)
    request.refresh_from_db()
    assert request.status == ControlRequestStatus.REQUESTED


def test_the_refund_page_sends_a_refund_above_the_limit_for_approval(client_as, officer):
    client = in_credit("400.00", officer)
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("debt:refund_create", args=[client.pk])
    assert "You may refund up to £250.00 for one client in 365 days yourself" in http.get(url).content.decode()
    refused = http.post(url, {"amount": "400.01", "method": PaymentMethod.CHEQUE, "reason": "Paid twice"})
    assert refused.status_code == 200 and "refund no more than that" in refused.content.decode()
    done = http.post(url, {"amount": "50.00", "method": PaymentMethod.CHEQUE, "reason": "Paid twice"})
    assert done["Location"] == reverse("casework:client_statement", args=[client.pk])
    assert client_balance(client) == D("-350.00")
    sent = http.post(url, {"amount": "250.00", "method": PaymentMethod.CHEQUE, "reason": "Paid twice"})
    request = ControlRequest.objects.get()  # £300.00 in the year with the first
    assert sent["Location"] == reverse("casework:control_request_detail", args=[request.pk])
    assert client_balance(client) == D("-350.00")
    assert "Waiting for approval" in http.get(url).content.decode()


def test_the_refunds_api_pays_or_sends_for_approval(officer):
    client = in_credit("400.00", officer)
    api = api_as(officer)
    body = {"client": client.pk, "method": "cheque", "reason": "Paid twice"}
    done = api.post(REFUNDS, {**body, "amount": "100.00", "reference": "CHQ 001"}, format="json")
    assert done.status_code == 201, done.content
    assert (done.json()["amount"], done.json()["reference"], done.json()["client"]) == ("100.00", "CHQ 001", client.pk)
    waiting = api.post(REFUNDS, {**body, "amount": "200.00"}, format="json")
    assert waiting.status_code == 202 and waiting.json()["action"] == "refund"
    too_much = api.post(REFUNDS, {**body, "amount": "100.01"}, format="json")
    assert too_much.status_code == 400 and "amount" in too_much.json()
    assert [row["reference"] for row in api.get(REFUNDS, {"client": client.pk}).json()["results"]] == ["CHQ 001"]
    assert api_as(UserFactory(roles=[Role.AUDITOR])).post(REFUNDS, {**body, "amount": "1.00"},
                                                          format="json").status_code == 403
