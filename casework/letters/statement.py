"""The statement of account letter: casework's own letter type."""
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from casework import selectors
from casework.constants import AccountKind
from casework.correspondence import Recipient
from casework.models import Account, Client
from casework.money import ZERO, format_pounds

from .types import LetterType, long_date, register_letter_type

#: The payment terms in force on a date. The income app registers its billing cycle's terms (data
#: with effective dates, rule BL-02); casework alone, with no cycle, asks for payment at once.
PAYMENT_TERMS: list[Callable[[date], int]] = []


def register_payment_terms(terms: Callable[[date], int]) -> None:
    PAYMENT_TERMS[:] = [terms]


def payment_days(on: date) -> int:
    return PAYMENT_TERMS[0](on) if PAYMENT_TERMS else 0

DEFAULT_SUBJECT = "Statement of account for {{ client_name }}, account {{ account_number }}"

DEFAULT_BODY = """\
This letter shows the charges and payments on the care charges account for {{ client_name }} \
from {{ statement_period }}.

On {{ letter_date }}, {{ balance_words }}.

{{ statement_table }}

## What you need to do

{{ next_step }}

How to pay, with our bank details and the reference to quote ({{ account_number }}), is at the \
end of this letter. If you pay by post, please send the payment slip at the end of this letter with your payment.

## If you cannot afford to pay

Please call us on {{ council_phone }} as soon as you can. We can agree smaller payments that you \
can manage. We will not take further action while we talk to you about it.

## If you think this statement is wrong

Call us on {{ council_phone }} or email {{ council_email }}. Tell us which entry you think is \
wrong and why. We will check it and write back to you.

## Getting help

You can ask someone you trust to contact us for you. Free, independent advice about money and \
debt is available from Citizens Advice and from MoneyHelper.

If you would like this letter in large print, Braille or another language, please tell us.
"""

FIELDS = {
    "account_number": "The care charges account number (also the payment reference)",
    "balance": "The balance on the letter date, such as £1,234.50",
    "balance_words": "The balance in words: 'you owe £120.00', or 'you are in credit by £5.00'",
    "amount_due": "The amount to pay (£0.00 when nothing is owed)",
    "next_step": "What to do: 'Please pay £120.00 by 9 December 2026.', or that nothing needs paying",
    "statement_period": "The dates the statement covers, such as 1 September 2026 to 25 November 2026",
    "statement_table": "The table of charges and payments (must be on a line of its own)",
    "payment_due_date": "The date to pay by: the payment terms in force after the letter date",
}


def period_start(on: date) -> date:
    """The statement covers the letter's month and the two before it."""
    month, year = on.month - 2, on.year
    if month < 1:
        month, year = month + 12, year - 1
    return date(year, month, 1)


def statement_table(statement: selectors.Statement | None) -> str:
    """The statement lines as an HTML table (trusted: every value is escaped here)."""
    lines = statement.lines if statement else []
    opening = statement.opening if statement else ZERO
    rows = format_html_join(
        "\n", "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        (
            (
                long_date(line.entry.effective_date),
                line.entry.description or line.entry.get_kind_display(),
                format_pounds(line.entry.amount) if line.entry.amount > 0 else "",
                format_pounds(-line.entry.amount) if line.entry.amount < 0 else "",
                format_pounds(line.balance),
            )
            for line in lines
        ),
    )
    if not lines:
        rows = mark_safe('<tr><td colspan="5">There were no charges or payments in this period.</td></tr>')
    return format_html(
        '<table class="statement"><caption>Charges and payments</caption>'
        '<thead><tr><th scope="col">Date</th><th scope="col">Details</th><th scope="col" class="num">Charges</th>'
        '<th scope="col" class="num">Payments</th><th scope="col" class="num">Balance</th></tr></thead>'
        '<tbody><tr><td colspan="4">Balance at the start of the period</td><td class="num">{}</td></tr>{}</tbody></table>',
        format_pounds(opening), rows,
    )


def _values(*, account_number: str, balance: Decimal, start: date, end: date, table: str, on: date,
            speaks_to_client: bool, client_name: str) -> dict[str, Any]:
    due = on + timedelta(days=payment_days(on))
    if balance > 0:
        words = f"you owe {format_pounds(balance)}" if speaks_to_client else f"{client_name} owes {format_pounds(balance)}"
        step = f"Please pay {format_pounds(balance)} by {long_date(due)}."
    elif balance < 0:
        whose = "you are" if speaks_to_client else "the account is"
        words = f"{whose} in credit by {format_pounds(-balance)}"
        step = "You do not need to pay anything. If you would like the credit paid back, please call us."
    else:
        words = "nothing is owed" if not speaks_to_client else "you owe nothing"
        step = "You do not need to pay anything."
    return {
        "account_number": account_number,
        "balance": format_pounds(balance),
        "balance_amount": balance,
        "balance_words": words,
        "amount_due": format_pounds(max(balance, ZERO)),
        "payment_reference": account_number,
        "next_step": step,
        "statement_period": f"{long_date(start)} to {long_date(end)}",
        "statement_table": table,
        "payment_due_date": long_date(due),
    }


def build(client: Client, on: date, *, recipient: Recipient, statement: selectors.Statement | None = None,
          account: Account | None = None, start: date | None = None) -> dict[str, Any]:
    """Values for one client. Pass `statement` (already computed) to make no queries."""
    if statement is None:
        if account is None:
            account = Account.objects.filter(client=client, kind=AccountKind.CLIENT_CHARGES).first()
        statement = selectors.statement(account, start=start or period_start(on), end=on) if account else None
    account_number = statement.account.number if statement else "not yet opened"
    period_from = (statement.start if statement and statement.start else None) or start or period_start(on)
    period_to = (statement.end if statement and statement.end else None) or on
    return _values(
        account_number=account_number, balance=statement.closing if statement else ZERO, start=period_from,
        end=period_to, table=statement_table(statement), on=on, client_name=client.full_name,
        speaks_to_client=recipient.representative is None and not client.is_deceased,
    )


def sample() -> dict[str, Any]:
    from types import SimpleNamespace

    on = date(2026, 11, 25)
    entries = [
        (date(2026, 9, 1), "Assessed contribution, September", Decimal("412.30")),
        (date(2026, 9, 15), "Payment, thank you", Decimal("-412.30")),
        (date(2026, 10, 1), "Assessed contribution, October", Decimal("412.30")),
        (date(2026, 11, 1), "Assessed contribution, November", Decimal("412.30")),
        (date(2026, 11, 12), "Payment, thank you", Decimal("-300.00")),
    ]
    running, lines = ZERO, []
    for when, text, amount in entries:
        running += amount
        entry = SimpleNamespace(effective_date=when, description=text, amount=amount, get_kind_display=lambda: "")
        lines.append(SimpleNamespace(entry=entry, balance=running))
    fake = SimpleNamespace(lines=lines, opening=ZERO, account=SimpleNamespace(number="C-SC999999"))
    return _values(account_number="C-SC999999", balance=running, start=period_start(on), end=on,
                   table=statement_table(fake), on=on, speaks_to_client=True, client_name="Mrs Margaret Sample")


ACCOUNT_STATEMENT = register_letter_type(LetterType(
    code="account_statement",
    name="Statement of account",
    description="The charges and payments on a client's care charges account, with how to pay.",
    fields=FIELDS,
    block_fields=frozenset({"statement_table"}),
    builder=build,
    sample=sample,
    default_subject=DEFAULT_SUBJECT,
    default_body=DEFAULT_BODY,
    asks_for_payment=lambda context: context["balance_amount"] > 0,
    reference_code="STMT",
))
