"""Payments: allocation oldest first, refusals, reversal, refunds, the payment file import and suspense."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from casework.models import LedgerEntry, TimelineEntry
from casework.roles import Role
from casework.selectors import client_balance
from casework.services import DomainError
from debt import selectors
from debt.constants import PaymentMethod, SuspenseStatus
from debt.models import Payment, PaymentAllocation, PaymentImport, SuspensePayment
from debt.payment_import import ImportRejected
from debt.services.payments import (
    payment_import,
    payment_reallocate,
    payment_record,
    payment_reverse,
    refund_issue,
    suspense_match,
    suspense_return,
)

from .factories import ClientFactory
from .factories_debt import InvoiceFactory, PaymentFactory, SuspensePaymentFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def three_invoices():
    """Three invoices of £40, £30 and £50, created out of due-date order."""
    client = ClientFactory()
    newest = InvoiceFactory(client=client, total=D("50.00"), due_date=date(2026, 10, 1), number="INV00000015")
    oldest = InvoiceFactory(client=client, total=D("40.00"), due_date=date(2026, 8, 1), number="INV00000012")
    middle = InvoiceFactory(client=client, total=D("30.00"), due_date=date(2026, 9, 1), number="INV00000013")
    return client, [oldest, middle, newest]


def record(client, actor, amount="50.00", **kwargs) -> Payment:
    values = {"method": PaymentMethod.DIRECT_DEBIT, "received_on": timezone.localdate(), "reference": "DD123"}
    return payment_record(client=client, amount=D(amount), actor=actor, **{**values, **kwargs})


def outstanding(invoices) -> list[Decimal]:
    return [selectors.invoice_outstanding(inv) for inv in invoices]


# --- recording and allocating -------------------------------------------------------------

def test_a_part_payment_pays_the_oldest_invoices_first(three_invoices, income_officer):
    client, invoices = three_invoices
    payment = record(client, income_officer, "55.00")
    assert outstanding(invoices) == [D("0.00"), D("15.00"), D("50.00")]
    assert [a.invoice.number for a in payment.allocations.all()] == ["INV00000012", "INV00000013"]
    assert client_balance(client) == D("65.00")
    assert [i.number for i in selectors.unpaid_invoices(client)] == ["INV00000013", "INV00000015"]
    summary = TimelineEntry.objects.get(client=client, action="debt.payment.received").summary
    assert summary == ("Payment of £55.00 by Direct Debit received (DD123): paid INV00000012 £40.00, "
                       "INV00000013 £15.00")


def test_the_oldest_first_order_breaks_ties_by_invoice_number(income_officer):
    client = ClientFactory()
    later = InvoiceFactory(client=client, total=D("10.00"), due_date=date(2026, 8, 1), number="INV00000021")
    earlier = InvoiceFactory(client=client, total=D("10.00"), due_date=date(2026, 8, 1), number="INV00000020")
    record(client, income_officer, "10.00")
    assert outstanding([earlier, later]) == [D("0.00"), D("10.00")]


def test_what_is_left_after_every_invoice_is_paid_stays_a_credit(three_invoices, income_officer):
    client, invoices = three_invoices
    payment = record(client, income_officer, "130.00")
    assert outstanding(invoices) == [D("0.00")] * 3
    assert selectors.payment_unallocated(payment) == D("10.00")
    assert client_balance(client) == D("-10.00")
    summary = TimelineEntry.objects.get(client=client, action="debt.payment.received").summary
    assert summary.endswith("£10.00 left on the account as a credit")


def test_the_officer_can_choose_which_invoices_a_payment_pays(three_invoices, income_officer):
    client, (oldest, middle, newest) = three_invoices
    record(client, income_officer, "60.00", allocate_to=[(newest, D("50.00")), (middle, D("5.00"))])
    assert outstanding([oldest, middle, newest]) == [D("40.00"), D("25.00"), D("0.00")]
    assert client_balance(client) == D("60.00")


@pytest.mark.parametrize("amount, received_days_ago, message", [
    ("0.00", 0, "more than £0.00"),
    ("-5.00", 0, "more than £0.00"),
    ("10.00", -1, "cannot be in the future"),
])
def test_a_payment_must_be_positive_and_not_in_the_future(income_officer, amount, received_days_ago, message):
    client = ClientFactory()
    with pytest.raises(DomainError, match=message):
        record(client, income_officer, amount, received_on=timezone.localdate() - timedelta(days=received_days_ago))
    assert not Payment.objects.exists() and not LedgerEntry.objects.filter(kind="payment").exists()


def test_cannot_allocate_more_than_an_invoice_owes(three_invoices, income_officer):
    client, (oldest, _, _) = three_invoices
    with pytest.raises(DomainError, match="INV00000012 has £40.00 outstanding") as exc:
        record(client, income_officer, "50.00", allocate_to=[(oldest, D("45.00"))])
    assert exc.value.field == "allocate_to"


def test_cannot_allocate_more_than_the_payment(three_invoices, income_officer):
    client, (oldest, middle, _) = three_invoices
    with pytest.raises(DomainError, match="more than the payment"):
        record(client, income_officer, "50.00", allocate_to=[(oldest, D("40.00")), (middle, D("20.00"))])


def test_cannot_allocate_to_another_clients_invoice(three_invoices, income_officer):
    client, _ = three_invoices
    stranger = InvoiceFactory(total=D("20.00"))
    with pytest.raises(DomainError, match="not this client's"):
        record(client, income_officer, "20.00", allocate_to=[(stranger, D("20.00"))])
    assert not Payment.objects.exists()


def test_reallocating_moves_money_with_a_negative_allocation(three_invoices, income_officer):
    client, (oldest, middle, newest) = three_invoices
    payment = record(client, income_officer, "40.00")
    payment_reallocate(payment=payment, invoice=newest, amount=D("25.00"), actor=income_officer,
                       reason="Client asked to pay the latest bill", from_invoice=oldest)
    assert outstanding([oldest, middle, newest]) == [D("25.00"), D("30.00"), D("25.00")]
    negative = PaymentAllocation.objects.get(payment=payment, amount=D("-25.00"))
    assert negative.invoice == oldest and negative.reason == "Client asked to pay the latest bill"


def test_reallocating_takes_the_unallocated_credit_before_paid_invoices(income_officer):
    client = ClientFactory()
    first = InvoiceFactory(client=client, total=D("40.00"), due_date=date(2026, 8, 1))
    payment = record(client, income_officer, "50.00")
    second = InvoiceFactory(client=client, total=D("30.00"), due_date=date(2026, 9, 1))
    payment_reallocate(payment=payment, invoice=second, amount=D("15.00"), actor=income_officer, reason="Late bill")
    assert outstanding([first, second]) == [D("5.00"), D("15.00")]
    with pytest.raises(DomainError, match="does not have that much"):
        payment_reallocate(payment=payment, invoice=second, amount=D("36.00"), actor=income_officer, reason="x")


# --- reversal and refunds -----------------------------------------------------------------

def test_reversing_a_payment_undoes_its_allocations_and_ledger_entry_once(three_invoices, team_leader):
    client, invoices = three_invoices
    payment = record(client, team_leader, "55.00")
    payment_reverse(payment=payment, reason="Cheque returned unpaid", actor=team_leader)
    assert outstanding(invoices) == [D("40.00"), D("30.00"), D("50.00")]
    assert client_balance(client) == D("120.00")
    assert LedgerEntry.objects.filter(reverses=payment.ledger_entry).count() == 1
    with pytest.raises(DomainError, match="already been reversed"):
        payment_reverse(payment=payment, reason="Again", actor=team_leader)
    assert LedgerEntry.objects.filter(reverses=payment.ledger_entry).count() == 1
    assert PaymentAllocation.objects.filter(payment=payment, amount__lt=0).count() == 2


def test_a_refund_is_limited_to_the_credit(income_officer, team_leader):
    client = ClientFactory()
    InvoiceFactory(client=client, total=D("40.00"))
    record(client, income_officer, "50.00")
    with pytest.raises(DomainError, match="£10.00 in credit") as exc:
        refund_issue(client=client, amount=D("10.01"), reason="Overpaid", actor=team_leader,
                     method=PaymentMethod.BANK_TRANSFER)
    assert exc.value.field == "amount"
    entry = refund_issue(client=client, amount=D("10.00"), reason="Overpaid", actor=team_leader,
                         method=PaymentMethod.BANK_TRANSFER)
    assert entry.kind == "refund" and entry.amount == D("10.00")
    assert client_balance(client) == D("0.00")


def test_a_client_who_owes_money_cannot_be_refunded(team_leader):
    client = ClientFactory()
    InvoiceFactory(client=client, total=D("40.00"))
    with pytest.raises(DomainError, match="£0.00 in credit"):
        refund_issue(client=client, amount=D("1.00"), reason="x", actor=team_leader, method=PaymentMethod.CHEQUE)


# --- the payment file import ---------------------------------------------------------------

HEADER = "date,amount,method,reference,client_reference,payer\n"


def upload(text: str | bytes, name: str = "bank.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8") if isinstance(text, str) else text, content_type="text/csv")


def counts() -> tuple[int, int, int, int]:
    return (Payment.objects.count(), SuspensePayment.objects.count(), LedgerEntry.objects.count(),
            PaymentImport.objects.count())


def test_an_import_turns_matched_rows_into_payments_and_the_rest_into_suspense(three_invoices, income_officer):
    client, invoices = three_invoices
    other = ClientFactory()
    text = HEADER + (f"2026-11-02,55.00,direct_debit,DD1,{client.reference},\n"
                     f"03/11/2026,20.00,bank_transfer,{invoices[2].number},,A PAYER\n"
                     "2026-11-04,12.50,cheque,CHQ 991,NOBODY,J SMITH\n"
                     f"2026-11-05,5.00,cash,CASH1,{other.reference.lower()},\n")
    batch = payment_import(file=upload(text), source="bank", actor=income_officer)
    assert batch.rows == 4 and batch.total == D("92.50") and batch.file.name.startswith("imports/payments/")
    assert Payment.objects.filter(import_batch=batch).count() == 3
    assert outstanding(invoices) == [D("0.00"), D("0.00"), D("45.00")]  # auto-allocated, oldest first
    assert Payment.objects.get(reference="CASH1").client == other
    suspense = SuspensePayment.objects.get()
    assert (suspense.row_number, suspense.amount, suspense.payer) == (4, D("12.50"), "J SMITH")
    assert suspense.received_on == date(2026, 11, 4)


BAD_ROWS = [
    ("2026-11-02,12.3.4,card,R1,,", "Row 2, amount: '12.3.4' is not an amount"),
    ("2026-13-45,10.00,card,R1,,", "Row 2, date: '2026-13-45' is not a date"),
    ("2099-01-01,10.00,card,R1,,", "Row 2, date: '2099-01-01' is in the future"),
    ("2026-11-02,10.00,barter,R1,,", "Row 2, method: 'barter' is not one of"),
    ("2026-11-02,0.00,card,R1,,", "Row 2, amount: '0.00' is not more than zero"),
    ("2026-11-02,-4.00,card,R1,,", "Row 2, amount: '-4.00' is not more than zero"),
    ("2026-11-02,10.00,card,,,", "Row 2, reference: the reference is missing"),
]


@pytest.mark.parametrize("row, problem", BAD_ROWS)
def test_each_kind_of_bad_row_is_reported_by_row_and_column(income_officer, row, problem):
    with pytest.raises(ImportRejected) as exc:
        payment_import(file=upload(HEADER + row + "\n"), source="bank", actor=income_officer)
    assert any(p.startswith(problem) for p in exc.value.problems), exc.value.problems


def test_one_bad_row_stops_the_whole_file_and_every_problem_is_listed(income_officer):
    client = ClientFactory()
    text = HEADER + (f"2026-11-02,10.00,card,R1,{client.reference},\n" * 5
                     + "2026-11-02,12.3.4,card,R2,,\n"
                     + "31/02/2026,10.00,giro,,,\n")
    before = counts()
    with pytest.raises(ImportRejected) as exc:
        payment_import(file=upload(text), source="bank", actor=income_officer)
    assert counts() == before
    assert exc.value.problems == [
        "Row 7, amount: '12.3.4' is not an amount",
        "Row 8, date: '31/02/2026' is not a date (use a date like 16/11/2026, 16 Nov 2026 or 2026-11-16)",
        "Row 8, method: 'giro' is not one of direct_debit, card, bank_transfer, cheque, cash",
        "Row 8, reference: the reference is missing",
    ]


@pytest.mark.parametrize("content, problem", [
    ("date,amount,reference\n2026-11-02,1.00,R\n", "Row 1: the header has no 'method' column"),
    ("", "The file is empty"),
    (HEADER, "The file has a header row but no payments"),
])
def test_a_file_that_cannot_be_read_is_refused(income_officer, content, problem):
    before = counts()
    with pytest.raises(ImportRejected) as exc:
        payment_import(file=upload(content), source="bank", actor=income_officer)
    assert exc.value.problems[0].startswith(problem)
    assert counts() == before


def test_the_same_file_cannot_be_imported_twice(income_officer):
    text = HEADER + "2026-11-02,10.00,card,R1,,\n"
    payment_import(file=upload(text), source="bank", actor=income_officer)
    before = counts()
    with pytest.raises(ImportRejected, match="already been imported"):
        payment_import(file=upload(text, name="renamed.csv"), source="bank", actor=income_officer)
    assert counts() == before


def test_a_utf8_file_with_a_byte_order_mark_and_day_first_dates_is_read(income_officer):
    batch = payment_import(file=upload("\ufeff" + HEADER + "02/11/2026,10.00,card,R1,,\n"), source="bank",
                           actor=income_officer)
    assert SuspensePayment.objects.get(import_batch=batch).received_on == date(2026, 11, 2)


# --- suspense -------------------------------------------------------------------------------

def test_matching_a_suspense_payment_records_it_for_the_client(income_officer):
    client = ClientFactory()
    invoice = InvoiceFactory(client=client, total=D("20.00"))
    suspense = SuspensePaymentFactory(amount=D("25.00"))
    payment = suspense_match(suspense=suspense, client=client, actor=income_officer, note="Phoned the payer")
    suspense.refresh_from_db()
    assert suspense.status == SuspenseStatus.MATCHED and suspense.matched_payment == payment
    assert selectors.invoice_outstanding(invoice) == D("0.00")
    assert client_balance(client) == D("-5.00")
    assert suspense.history.count() == 2
    with pytest.raises(DomainError, match="already matched"):
        suspense_match(suspense=suspense, client=client, actor=income_officer)


def test_a_suspense_payment_can_be_returned_to_the_payer(income_officer):
    suspense = SuspensePaymentFactory()
    suspense_return(suspense=suspense, actor=income_officer, note="Returned by BACS: not our client")
    suspense.refresh_from_db()
    assert suspense.status == SuspenseStatus.REFUNDED
    with pytest.raises(DomainError):
        suspense_match(suspense=suspense, client=ClientFactory(), actor=income_officer)


# --- pages ----------------------------------------------------------------------------------

def test_the_payment_page_records_a_payment_oldest_first(client_as, three_invoices):
    client, invoices = three_invoices
    http = client_as(Role.INCOME_OFFICER)
    url = reverse("debt:payment_create", args=[client.pk])
    page = http.get(url)
    assert page.status_code == 200 and "INV00000012" in page.content.decode()
    today = timezone.localdate()
    response = http.post(url, {"amount": "45", "method": "card", "received_on_0": today.day,
                               "received_on_1": today.month, "received_on_2": today.year, "reference": "CARD1"})
    assert response.status_code == 302
    assert outstanding(invoices) == [D("0.00"), D("25.00"), D("50.00")]


def test_the_payment_page_allocates_as_the_officer_chose(client_as, three_invoices):
    client, (oldest, middle, newest) = three_invoices
    http = client_as(Role.INCOME_OFFICER)
    today = timezone.localdate()
    response = http.post(reverse("debt:payment_create", args=[client.pk]), {
        "amount": "50", "method": "card", "received_on_0": today.day, "received_on_1": today.month,
        "received_on_2": today.year, "reference": "CARD1", f"allocate_{newest.pk}": "50"})
    assert response.status_code == 302
    assert outstanding([oldest, middle, newest]) == [D("40.00"), D("30.00"), D("0.00")]


@pytest.mark.parametrize("data, error", [
    ({"amount": "", "method": "card", "reference": "R"}, "Enter the amount received"),
    ({"amount": "12.3.4", "method": "card", "reference": "R"}, "Enter an amount in pounds and pence"),
    ({"amount": "0", "method": "card", "reference": "R"}, "Enter an amount more than £0.00"),
    ({"amount": "10", "method": "card", "reference": "R", "allocate": "11"}, "outstanding: allocate no more"),
])
def test_the_payment_page_shows_errors_without_writing(client_as, three_invoices, data, error):
    client, (oldest, _, _) = three_invoices
    today = timezone.localdate()
    if "allocate" in data:
        data[f"allocate_{oldest.pk}"] = "45"
        data["amount"] = "50"
    data.update({"received_on_0": today.day, "received_on_1": today.month, "received_on_2": today.year})
    response = client_as(Role.INCOME_OFFICER).post(reverse("debt:payment_create", args=[client.pk]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and error in body
    assert not Payment.objects.exists()


def test_a_future_date_is_refused_on_the_page(client_as):
    client = ClientFactory()
    future = timezone.localdate() + timedelta(days=3)
    response = client_as(Role.INCOME_OFFICER).post(reverse("debt:payment_create", args=[client.pk]), {
        "amount": "10", "method": "cash", "reference": "R", "received_on_0": future.day,
        "received_on_1": future.month, "received_on_2": future.year})
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()


def test_the_import_page_lists_every_row_problem_in_the_error_summary(client_as):
    text = HEADER + "2026-11-02,12.3.4,card,R1,,\n2026-11-02,1.00,giro,R2,,\n"
    response = client_as(Role.INCOME_OFFICER).post(reverse("debt:payment_import"),
                                                  {"source": "bank", "file": upload(text)})
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "Row 2, amount: &#x27;12.3.4&#x27; is not an amount" in body
    assert "Row 3, method: &#x27;giro&#x27;" in body
    assert not PaymentImport.objects.exists()


def test_the_import_page_reports_what_was_imported(client_as):
    client = ClientFactory()
    text = HEADER + f"2026-11-02,10.00,card,R1,{client.reference},\n2026-11-02,1.00,card,R2,,\n"
    http = client_as(Role.INCOME_OFFICER)
    response = http.post(reverse("debt:payment_import"), {"source": "bank", "file": upload(text)}, follow=True)
    assert "1 payment imported, 1 to suspense" in response.content.decode()


def test_matching_and_returning_on_the_suspense_pages(client_as):
    client = ClientFactory()
    first, second = SuspensePaymentFactory(), SuspensePaymentFactory(reference="OTHER")
    http = client_as(Role.INCOME_OFFICER)
    assert "UNKNOWN REF" in http.get(reverse("debt:suspense_list"), {"q": "unknown"}).content.decode()
    wrong = http.post(reverse("debt:suspense_match", args=[first.pk]), {"client_reference": "NOPE"})
    assert "No client has the social care reference NOPE" in wrong.content.decode()
    http.post(reverse("debt:suspense_match", args=[first.pk]), {"client_reference": client.reference})
    assert Payment.objects.get().client == client
    http.post(reverse("debt:suspense_return", args=[second.pk]), {"note": "Sent back"})
    second.refresh_from_db()
    assert second.status == SuspenseStatus.REFUNDED


def test_a_team_leader_reverses_and_refunds_through_the_pages(client_as, income_officer):
    client = ClientFactory()
    payment = record(client, income_officer, "30.00")
    http = client_as(Role.TEAM_LEADER)
    assert "Reverse this payment" in http.get(reverse("debt:payment_detail", args=[payment.pk])).content.decode()
    too_much = http.post(reverse("debt:refund_create", args=[client.pk]),
                         {"amount": "31", "method": "bank_transfer", "reason": "Overpaid"})
    assert "£30.00 in credit" in too_much.content.decode()
    assert http.post(reverse("debt:refund_create", args=[client.pk]),
                     {"amount": "30", "method": "bank_transfer", "reason": "Overpaid"}).status_code == 302
    record(client, income_officer, "5.00", reference="LATER")
    empty = http.post(reverse("debt:payment_reverse", args=[payment.pk]), {"reason": ""})
    assert empty.status_code == 200 and "govuk-error-summary" in empty.content.decode()
    assert http.post(reverse("debt:payment_reverse", args=[payment.pk]), {"reason": "Bounced"}).status_code == 302
    assert selectors.payment_is_reversed(payment)


def test_the_payment_list_filters_and_exports_with_formulas_neutralised(client_as, income_officer):
    client = ClientFactory(reference="SC999001")
    record(client, income_officer, "10.00", reference="=HYPERLINK(\"http://evil\")", method=PaymentMethod.CARD)
    record(ClientFactory(), income_officer, "20.00", reference="OTHER", method=PaymentMethod.CASH)
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:payment_list"), {"method": "card"}).content.decode()
    assert "SC999001" in page and "OTHER" not in page
    response = http.get(reverse("debt:payment_list"), {"client": "sc999001", "format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
    assert "OTHER" not in body
    xlsx = http.get(reverse("debt:payment_list"), {"format": "xlsx"})
    assert xlsx.status_code == 200


def test_the_suspense_export_neutralises_formulas(client_as):
    SuspensePaymentFactory(reference="@SUM(A1:A9)", payer="+44 cmd")
    response = client_as(Role.AUDITOR).get(reverse("debt:suspense_list"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "'@SUM(A1:A9)" in body and "'+44 cmd" in body


def test_readers_see_the_pages_without_record_actions(client_as):
    payment = PaymentFactory()
    http = client_as(Role.AUDITOR)
    assert http.get(reverse("debt:payment_list")).status_code == 200
    detail = http.get(reverse("debt:payment_detail", args=[payment.pk]))
    assert detail.status_code == 200 and "Reverse this payment" not in detail.content.decode()
    assert http.get(reverse("debt:payment_create", args=[payment.client.pk])).status_code == 403


# --- moving a payment between invoices (page) ----------------------------------------------

def test_the_reallocation_page_moves_an_allocation_with_a_reason(three_invoices, client_as):
    client, (oldest, middle, newest) = three_invoices
    http = client_as(Role.INCOME_OFFICER)
    payment = record(client, http_user(http), "55.00")  # oldest 40, middle 15
    url = reverse("debt:payment_reallocate", args=[payment.pk])
    detail = http.get(reverse("debt:payment_detail", args=[payment.pk])).content.decode()
    assert "Move to another invoice" in detail and url in detail
    page = http.get(url).content.decode()
    assert f"{oldest.number} (due 1 August 2026): £40.00 of this payment" in page
    assert f"{newest.number} (due 1 October 2026): £50.00 outstanding" in page
    response = http.post(url, {"from_invoice": str(oldest.pk), "invoice": str(newest.pk), "amount": "25.00",
                               "reason": "Client asked to pay the newest bill"}, follow=True)
    assert f"£25.00 of payment DD123 moved to {newest.number}" in response.content.decode()
    assert outstanding([oldest, middle, newest]) == [D("25.00"), D("15.00"), D("25.00")]
    negative = PaymentAllocation.objects.get(payment=payment, amount=D("-25.00"))
    assert (negative.invoice, negative.reason) == (oldest, "Client asked to pay the newest bill")
    entry = TimelineEntry.objects.get(client=client, action="debt.payment.reallocated")
    assert entry.summary == f"£25.00 of payment DD123 moved to {newest.number}"
    assert entry.body == "Client asked to pay the newest bill"


def http_user(http):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=http.session["_auth_user_id"])


@pytest.mark.parametrize("source, target, amount, reason, field, message", [
    ("oldest", "newest", "", "x", "amount", "Enter the amount to move"),
    ("oldest", "newest", "0", "x", "amount", "Enter an amount more than £0.00"),
    ("oldest", "newest", "5.00", "", "reason", "Give a reason for moving the payment"),
    ("oldest", "newest", "40.01", "x", "amount", "The payment does not have that much to move"),
    ("oldest", "middle", "30.00", "x", "amount", "has £15.00 outstanding: move no more than that"),
    ("middle", "middle", "5.00", "x", "invoice", "Choose a different invoice"),
    ("oldest", None, "5.00", "x", "invoice", "Choose the invoice to move the payment to"),
])
def test_reallocation_page_refusals_name_the_field(three_invoices, client_as, source, target, amount, reason, field,
                                                   message):
    client, invoices = three_invoices
    by_name = dict(zip(["oldest", "middle", "newest"], invoices))
    http = client_as(Role.TEAM_LEADER)
    payment = record(client, http_user(http), "55.00")  # oldest 40, middle 15 of its 30
    data = {"from_invoice": str(by_name[source].pk), "amount": amount, "reason": reason}
    if target:
        data["invoice"] = str(by_name[target].pk)
    before = PaymentAllocation.objects.count()
    response = http.post(reverse("debt:payment_reallocate", args=[payment.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200
    # The message is shown on the field it names (radios: on their fieldset) and in the summary.
    error = re.search(rf'id="id_{field}(_\d+)?_error" class="govuk-error-message">\s*'
                      rf'<span class="govuk-visually-hidden">Error:</span>([^<]*)', body)
    assert error and message in error.group(2)
    assert message in body.split('govuk-error-summary__list', 1)[1].split("</ul>", 1)[0]
    assert PaymentAllocation.objects.count() == before


def test_a_reversed_payment_cannot_be_moved(client_as, team_leader):
    client = ClientFactory()
    InvoiceFactory(client=client, total=D("40.00"))
    payment = record(client, team_leader, "30.00")
    payment_reverse(payment=payment, reason="Bounced", actor=team_leader)
    http = client_as(Role.INCOME_OFFICER)
    response = http.get(reverse("debt:payment_reallocate", args=[payment.pk]), follow=True)
    assert "has been reversed: it cannot be moved" in response.content.decode()
    assert "Move to another invoice" not in http.get(reverse("debt:payment_detail", args=[payment.pk])).content.decode()


# --- payment files imported ----------------------------------------------------------------

def test_the_list_of_payment_files_shows_matched_and_suspense_rows(three_invoices, client_as, income_officer):
    client, _ = three_invoices
    text = HEADER + (f"2026-11-02,55.00,direct_debit,DD1,{client.reference},\n"
                     "2026-11-04,12.50,cheque,CHQ 991,NOBODY,J SMITH\n"
                     "2026-11-05,7.50,cash,CASH 2,NOBODY,A N OTHER\n")
    batch = payment_import(file=upload(text, "bank-2026-11-05.csv"), source="bank", actor=income_officer)
    suspense_match(suspense=SuspensePayment.objects.get(reference="CHQ 991"), client=client, actor=income_officer)
    http = client_as(Role.AUDITOR)
    page = http.get(reverse("debt:payment_import_list")).content.decode()
    assert "bank-2026-11-05.csv" in page and "Bank statement file" in page
    assert "1 (£55.00)" in page and "2 (£20.00)" in page and "1 still waiting" in page
    assert reverse("debt:payment_import_file", args=[batch.pk]) in page
    csv = b"".join(http.get(reverse("debt:payment_import_list"), {"format": "csv"}).streaming_content).decode()
    header, row = csv.removeprefix("\ufeff").splitlines()[:2]
    assert header.startswith("Imported,Imported by,File name,Source,Rows,Total,Matched rows,Matched amount,"
                             "Suspense rows,Suspense amount,Still in suspense")
    assert ",bank-2026-11-05.csv,Bank statement file,3,75.00,1,55.00,2,20.00,1," in row
    xlsx = http.get(reverse("debt:payment_import_list"), {"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert http.get(reverse("debt:payment_import_list"), {"source": "cash_receipting"}).content.decode().count(
        "bank-2026-11-05.csv") == 0


def test_the_stored_payment_file_downloads_as_imported_and_only_if_unchanged(client_as, income_officer):
    text = HEADER + "2026-11-04,12.50,cheque,CHQ 991,NOBODY,J SMITH\n"
    batch = payment_import(file=upload(text, "cash.csv"), source="cash_receipting", actor=income_officer)
    url = reverse("debt:payment_import_file", args=[batch.pk])
    response = client_as(Role.AUDITOR).get(url)
    assert response.status_code == 200 and response.content == text.encode("utf-8")
    assert response["Content-Disposition"] == 'attachment; filename="cash.csv"'
    assert client_as(Role.DIRECT_PAYMENT_OFFICER).get(url).status_code == 403
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(batch.file.name)
    default_storage.save(batch.file.name, ContentFile(b"tampered"))
    changed = client_as(Role.TEAM_LEADER).get(url)
    assert changed.status_code == 409 and "no longer matches" in changed.content.decode()
