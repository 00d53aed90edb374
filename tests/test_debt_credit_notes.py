"""Credit notes: crediting part of an invoice line by line, up to the whole invoice, what the
invoice page shows, and payments allocated beyond the invoice's net amount."""
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from casework.constants import EntryKind
from casework.models import TimelineEntry
from casework.roles import Role
from casework.services import DomainError
from debt import selectors
from debt.constants import LineKind
from debt.models import Invoice, PaymentAllocation, WriteOffReason
from debt.services.billing import credit_note_raise, credit_remaining_by_line
from debt.services.writeoffs import writeoff_request

from .factories import ClientFactory, UserFactory
from .factories_debt import ChargeableServiceFactory, InvoiceFactory, InvoiceLineFactory, PaymentFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def invoice():
    """£300.00: home care £200.00 and day care £100.00."""
    home = ChargeableServiceFactory(code="home_care", name="Home care")
    day = ChargeableServiceFactory(code="day_care", name="Day care")
    inv = InvoiceFactory(client=ClientFactory(), total=D("300.00"))
    InvoiceLineFactory(invoice=inv, service=home, amount=D("200.00"), weekly_rate=D("50.00"),
                       explanation="Home care, 5 October to 1 November 2026: 28 days at £50.00 a week")
    InvoiceLineFactory(invoice=inv, service=day, amount=D("100.00"), weekly_rate=D("25.00"),
                       explanation="Day care, 5 October to 1 November 2026: 28 days at £25.00 a week")
    return inv


def _lines(inv):
    return list(inv.lines.order_by("id"))


def _pay(inv, amount: str, received_on: date):
    payment = PaymentFactory(client=inv.client, account=inv.account, amount=D(amount), received_on=received_on)
    PaymentAllocation.objects.create(payment=payment, invoice=inv, amount=D(amount), created_by=UserFactory())
    return payment


def test_a_part_credit_credits_the_chosen_amount_and_leaves_the_invoice_as_it_was(invoice, team_leader):
    home, day = _lines(invoice)
    credit = credit_note_raise(invoice=invoice, reason="Two visits not delivered", actor=team_leader,
                               lines=[(home, D("50.00"))])
    assert (credit.number, credit.total, credit.corrects) == ("CRN00000001", D("-50.00"), invoice)
    assert (credit.ledger_entry.kind, credit.ledger_entry.amount) == (EntryKind.CREDIT, D("-50.00"))
    assert list(credit.lines.values_list("kind", "amount", "service__code", "explanation")) == [
        (LineKind.CREDIT, D("-50.00"), "home_care", "Credit of £50.00 of the line's £200.00 for: Home care, "
         "5 October to 1 November 2026: 28 days at £50.00 a week")]
    invoice.refresh_from_db()
    assert invoice.total == D("300.00")
    assert [line.amount for line in _lines(invoice)] == [D("200.00"), D("100.00")]
    assert credit_remaining_by_line(invoice) == {home.pk: D("150.00"), day.pk: D("100.00")}
    assert (selectors.invoice_credited(invoice), selectors.invoice_outstanding(invoice)) == (D("50.00"), D("250.00"))
    entry = TimelineEntry.objects.get(client=invoice.client, action="debt.credit_note.raised")
    assert entry.summary == ("Credit note CRN00000001 of £50.00 for invoice INV00000001 "
                             "(£250.00 of £300.00 not credited)").replace("INV00000001", invoice.number)
    assert entry.body == "Two visits not delivered"


def test_part_credits_add_up_to_the_invoice_and_then_it_is_credited_in_full(invoice, team_leader):
    home, day = _lines(invoice)
    credit_note_raise(invoice=invoice, reason="Visits missed", actor=team_leader, lines=[(home, D("50.00"))])
    with pytest.raises(DomainError, match=r"£150.00 of this line is not yet credited") as refused:
        credit_note_raise(invoice=invoice, reason="Too much", actor=team_leader, lines=[(home, D("150.01"))])
    assert refused.value.field == f"line_{home.pk}"
    second = credit_note_raise(invoice=invoice, reason="Care ended", actor=team_leader,
                               lines=[(home, D("150.00")), (day, D("100.00"))])
    assert second.total == D("-250.00")
    assert credit_remaining_by_line(invoice) == {home.pk: D("0.00"), day.pk: D("0.00")}
    assert selectors.invoice_outstanding(invoice) == D("0.00")
    assert "(credited in full)" in TimelineEntry.objects.filter(action="debt.credit_note.raised").latest("id").summary
    with pytest.raises(DomainError, match="already been credited in full"):
        credit_note_raise(invoice=invoice, reason="Again", actor=team_leader, lines=[(day, D("1.00"))])
    with pytest.raises(DomainError, match="already been credited in full"):
        credit_note_raise(invoice=invoice, reason="Again", actor=team_leader)


def test_a_full_credit_after_a_part_credit_credits_what_remains_line_by_line(invoice, team_leader):
    home, day = _lines(invoice)
    credit_note_raise(invoice=invoice, reason="Visits missed", actor=team_leader, lines=[(day, D("40.00"))])
    rest = credit_note_raise(invoice=invoice, reason="Client moved away", actor=team_leader)
    assert rest.total == D("-260.00")
    assert list(rest.lines.order_by("id").values_list("amount", flat=True)) == [D("-200.00"), D("-60.00")]
    assert rest.lines.order_by("id").first().explanation.startswith("Credit for: Home care")
    assert sum(Invoice.objects.filter(corrects=invoice).values_list("total", flat=True)) == D("-300.00")


@pytest.mark.parametrize("choice, field, message", [
    ([], "lines", "Enter an amount to credit on at least one line"),
    ([("home", "0.00")], "lines", "Enter an amount to credit on at least one line"),
    ([("home", "-5.00")], "home", "Enter an amount to credit more than £0.00"),
    ([("home", "200.01")], "home", "£200.00 of this line is not yet credited"),
    ([("home", "10.00"), ("home", "5.00")], "home", "A line is listed twice"),
])
def test_part_credit_refusals_name_the_field(invoice, team_leader, choice, field, message):
    home, day = _lines(invoice)
    by_name = {"home": home, "day": day}
    with pytest.raises(DomainError, match=message) as refused:
        credit_note_raise(invoice=invoice, reason="Wrong", actor=team_leader,
                          lines=[(by_name[name], D(amount)) for name, amount in choice])
    assert refused.value.field == (field if field == "lines" else f"line_{by_name[field].pk}")
    assert not Invoice.objects.filter(corrects=invoice).exists()


def test_a_line_of_another_invoice_is_refused(invoice, team_leader):
    other = InvoiceLineFactory(invoice=InvoiceFactory(client=invoice.client))
    with pytest.raises(DomainError, match="not on invoice"):
        credit_note_raise(invoice=invoice, reason="Wrong", actor=team_leader, lines=[(other, D("1.00"))])


def test_a_reason_is_required_and_a_credit_note_cannot_be_credited(invoice, team_leader):
    home, _ = _lines(invoice)
    with pytest.raises(DomainError, match="Give a reason") as refused:
        credit_note_raise(invoice=invoice, reason="  ", actor=team_leader, lines=[(home, D("1.00"))])
    assert refused.value.field == "reason"
    credit = credit_note_raise(invoice=invoice, reason="Missed visit", actor=team_leader, lines=[(home, D("1.00"))])
    with pytest.raises(DomainError, match="cannot itself be credited"):
        credit_note_raise(invoice=credit, reason="Again", actor=team_leader)


def test_payments_beyond_the_net_amount_become_unallocated_credit_latest_first(invoice, team_leader):
    home, day = _lines(invoice)
    first = _pay(invoice, "200.00", date(2026, 11, 20))
    second = _pay(invoice, "80.00", date(2026, 11, 25))
    assert selectors.invoice_outstanding(invoice) == D("20.00")
    # Net £200 after crediting £100: £280 paid is £80 too much, taken off the latest payment.
    credit = credit_note_raise(invoice=invoice, reason="Day care not delivered", actor=team_leader,
                               lines=[(day, D("100.00"))])
    assert credit.freed == D("80.00")
    assert selectors.payment_unallocated(second) == D("80.00")
    assert selectors.payment_unallocated(first) == D("0.00")
    taken = PaymentAllocation.objects.filter(payment=second, amount__lt=0).get()
    assert (taken.amount, taken.invoice) == (D("-80.00"), invoice)
    assert taken.reason == f"Credit note {credit.number} reduced invoice {invoice.number}: left as unallocated credit"
    assert selectors.invoice_outstanding(invoice) == D("0.00")
    assert TimelineEntry.objects.filter(client=invoice.client, action="debt.payment.unallocated").count() == 1
    # Crediting the rest frees the first payment's £200 as well.
    rest = credit_note_raise(invoice=invoice, reason="Client moved away", actor=team_leader)
    assert (rest.total, rest.freed) == (D("-200.00"), D("200.00"))
    assert selectors.payment_unallocated(first) == D("200.00")
    assert selectors.payment_allocated_by_invoice(first) == {}
    assert selectors.invoice_outstanding(invoice) == D("0.00")


def test_a_part_credit_within_what_is_unpaid_moves_no_payment(invoice, team_leader):
    home, _ = _lines(invoice)
    payment = _pay(invoice, "100.00", date(2026, 11, 20))
    credit = credit_note_raise(invoice=invoice, reason="Missed visits", actor=team_leader, lines=[(home, D("150.00"))])
    assert credit.freed == D("0.00")
    assert selectors.payment_unallocated(payment) == D("0.00")
    assert selectors.invoice_outstanding(invoice) == D("50.00")


def test_a_credit_may_not_go_below_what_is_written_off_or_waiting(invoice, team_leader, income_officer):
    home, day = _lines(invoice)
    writeoff_request(client=invoice.client, lines=[(invoice, D("120.00"))], reason=WriteOffReason.HARDSHIP,
                     note="No means to pay", actor=income_officer)
    with pytest.raises(DomainError, match=r"£120.00 of invoice .* credit no more than £180.00"):
        credit_note_raise(invoice=invoice, reason="Care ended", actor=team_leader, lines=[(home, D("200.00"))])
    credit = credit_note_raise(invoice=invoice, reason="Care ended", actor=team_leader,
                               lines=[(home, D("150.00")), (day, D("30.00"))])
    assert credit.total == D("-180.00")
    assert selectors.invoice_outstanding(invoice) == D("120.00")  # the write-off is still waiting


# Pages ------------------------------------------------------------------------------------------

def test_the_credit_note_page_raises_a_part_credit(invoice, client_as):
    home, day = _lines(invoice)
    http = client_as(Role.TEAM_LEADER)
    url = reverse("debt:credit_note_create", args=[invoice.pk])
    page = http.get(url).content.decode()
    assert "Credit from: Home care" in page and "£200.00 of £200.00 not yet credited" in page
    missing = http.post(url, {"scope": "part", "reason": "Missed visits"})
    assert missing.status_code == 200
    assert "Enter an amount to credit on at least one line" in missing.content.decode()
    too_much = http.post(url, {"scope": "part", "reason": "Missed visits", f"line_{day.pk}": "100.01"})
    assert "£100.00 of this line is not yet credited" in too_much.content.decode()
    assert not Invoice.objects.filter(corrects=invoice).exists()
    done = http.post(url, {"scope": "part", "reason": "Missed visits", f"line_{home.pk}": "25.50",
                           f"line_{day.pk}": ""}, follow=True)
    credit = Invoice.objects.get(corrects=invoice)
    assert credit.total == D("-25.50")
    assert f"Credit note {credit.number} of £25.50 raised" in done.content.decode()
    detail = http.get(reverse("debt:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Part credited" in detail and "£274.50" in detail and "£174.50" in detail
    assert "Raise a credit note" in detail


def test_the_credit_note_page_credits_everything_left_and_then_offers_no_more(invoice, client_as):
    http = client_as(Role.TEAM_LEADER)
    url = reverse("debt:credit_note_create", args=[invoice.pk])
    _pay(invoice, "300.00", date(2026, 11, 20))
    done = http.post(url, {"scope": "whole", "reason": "Billed in error"}, follow=True).content.decode()
    assert "£300.00 of payments no longer needed by the invoice is now unallocated credit" in done
    detail = http.get(reverse("debt:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Credited in full" in detail and "Raise a credit note" not in detail
    again = http.get(url, follow=True).content.decode()
    assert "has already been credited in full" in again
