"""The invoice letter: what the bill is for, line by line in plain English, and how to pay."""
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Iterable

from django.utils.html import format_html, format_html_join

from casework.calendar import DueDate, working_due_date
from casework.correspondence import Recipient
from casework.letters.types import LetterType, get_letter_type, long_date, register_letter_type
from casework.models import Client
from casework.money import ZERO, format_pounds

from .billing import date_range

INVOICE_LETTER = "invoice"

DEFAULT_SUBJECT = "Invoice {{ invoice_number }} for care charges, {{ period }}"

DEFAULT_BODY = """\
This is the bill for the care and support charges of {{ client_name }} for {{ period }}.

{{ invoice_table }}

## What you need to do

{{ next_step }}

How to pay, with our bank details and the reference to quote ({{ invoice_number }}), is at the \
end of this letter.

## How we worked out this bill

Each line shows the service, the days it covers, your assessed weekly charge and how many days \
we counted. For part of a week, we charge the weekly amount multiplied by the number of days and \
divided by 7. If your assessed charge changed for days we have already billed, the difference is \
shown as an adjustment.

## If this bill looks wrong

Call us on {{ council_phone }} or email {{ council_email }} and quote {{ invoice_number }}. Tell us \
which line you think is wrong and why. We will check it and write back to you, and we will not \
chase the payment while we check.

## If you cannot afford to pay

Please call us as soon as you can. We can agree smaller payments that you can manage.

If you would like this letter in large print, Braille or another language, please tell us.
"""

FIELDS = {
    "invoice_number": "The invoice number (also the payment reference)",
    "period": "The dates the invoice covers, such as 5 October to 1 November 2026",
    "total": "The invoice total, such as £399.40",
    "due_date": "The date to pay by",
    "invoice_table": "The lines of the invoice with their explanations (must be on a line of its own)",
    "account_number": "The care charges account number",
    "amount_due": "The amount to pay (£0.00 for a credit)",
    "next_step": "What to do: 'Please pay £399.40 by 16 November 2026.', or that nothing needs paying; when the "
                 "due date was moved off a non-working day, the sentence saying so follows",
    "due_date_note": "Why the due date is later than the payment terms give, when it fell on a non-working day "
                     "(empty otherwise)",
}


def invoice_table(lines: Iterable[Any], total: Decimal) -> str:
    """The invoice lines as an HTML table (trusted: every value is escaped here)."""
    rows = format_html_join("\n", '<tr><td>{}</td><td class="num">{}</td></tr>',
                            ((line.explanation, format_pounds(line.amount)) for line in lines))
    return format_html(
        '<table class="statement"><caption>What this invoice is for</caption>'
        '<thead><tr><th scope="col">Details</th><th scope="col" class="num">Amount</th></tr></thead>'
        '<tbody>{}<tr><th scope="row">Total</th><td class="num">{}</td></tr></tbody></table>',
        rows, format_pounds(total))


def _values(*, number: str, start: date, end: date, total: Decimal, due: date, account_number: str,
            lines: Iterable[Any], due_note: str = "") -> dict[str, Any]:
    if total > 0:
        step = f"Please pay {format_pounds(total)} by {long_date(due)}."
        if due_note:
            step = f"{step} {due_note}"
    else:
        step = (f"You do not need to pay anything: this invoice reduces what you owe by "
                f"{format_pounds(-total)}.") if total < 0 else "You do not need to pay anything."
    return {
        "invoice_number": number,
        "period": date_range(start, end),
        "total": format_pounds(total),
        "total_amount": total,
        "due_date": long_date(due),
        "invoice_table": invoice_table(lines, total),
        "account_number": account_number,
        "amount_due": format_pounds(max(total, ZERO)),
        "payment_reference": number,
        "next_step": step,
        "due_date_note": due_note if total > 0 else "",
    }


def _due_for(invoice) -> DueDate:
    """The invoice's due date as the payment terms gave it and where it moved to (read again for a
    letter built after the invoice was issued)."""
    from .services.billing import payment_terms_days

    asked = invoice.issue_date + timedelta(days=payment_terms_days(invoice.period_start))
    due = working_due_date(asked)
    return due if due.due == invoice.due_date else DueDate(invoice.due_date, invoice.due_date, None)


def build(client: Client, on: date, *, recipient: Recipient, invoice=None, lines=None,
          due: DueDate | None = None) -> dict[str, Any]:
    """Values for one invoice; pass `lines` already in memory and `due` (the casework.calendar.DueDate
    the invoice was issued with) to make no queries."""
    if invoice is None:
        raise ValueError("An invoice letter needs its invoice")
    if due is None and invoice.total > 0:
        due = _due_for(invoice)
    return _values(number=invoice.number, start=invoice.period_start, end=invoice.period_end, total=invoice.total,
                   due=invoice.due_date, account_number=invoice.account.number,
                   lines=lines if lines is not None else list(invoice.lines.all()),
                   due_note=due.sentence if due else "")


def sample() -> dict[str, Any]:
    lines = [SimpleNamespace(explanation="Home care, 5 October to 1 November 2026: 28 days at £99.85 a week = "
                                         "£399.40 (assessed charge version 2, from assessment FA-123)",
                             amount=Decimal("399.40"))]
    return _values(number="INV00000001", start=date(2026, 10, 5), end=date(2026, 11, 1), total=Decimal("399.40"),
                   due=date(2026, 11, 2) + timedelta(days=14), account_number="C-SC999999", lines=lines)


def invoice_context(client: Client, on: date, *, invoice, lines, representatives=None,
                    due: DueDate | None = None) -> dict[str, Any]:
    return get_letter_type(INVOICE_LETTER).build_context(client, on, representatives=representatives,
                                                         invoice=invoice, lines=lines, due=due)


INVOICE = register_letter_type(LetterType(
    code=INVOICE_LETTER,
    name="Invoice",
    description="A bill for a billing period: every line explained, the total and how to pay.",
    fields=FIELDS,
    block_fields=frozenset({"invoice_table"}),
    builder=build,
    sample=sample,
    default_subject=DEFAULT_SUBJECT,
    default_body=DEFAULT_BODY,
    asks_for_payment=lambda context: context["total_amount"] > 0,
    reference_code="INV",
))
