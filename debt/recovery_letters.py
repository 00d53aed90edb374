"""The recovery letters: one letter per debtor per stage, listing every overdue invoice.

Four letter types share one builder and differ in wording (each editable by the finance
administrator): first reminder, second reminder, final notice, and the letter before claim under
the Pre-Action Protocol for Debt Claims (rules PA-02 to PA-05: amount, no interest, 30 days to
reply, the information sheet, reply form and financial statement enclosed).
"""
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Iterable

from django.utils.html import format_html, format_html_join

from casework.correspondence import Recipient
from casework.letters.types import LetterType, get_letter_type, long_date, register_letter_type
from casework.models import Client
from casework.money import ZERO, format_pounds

#: Days the debtor is asked to pay within, from the letter date (letter before claim: 30, PA-05).
PAY_WITHIN_DAYS = 14

FIELDS = {
    "balance": "The overdue balance, such as £798.80",
    "amount_due": "The amount to pay (the overdue balance)",
    "invoice_count": "How many invoices are overdue",
    "oldest_due_date": "The due date of the oldest unpaid invoice",
    "pay_by": "The date to pay by",
    "stage_name": "The recovery stage, such as Second reminder",
    "invoices_table": "The overdue invoices with what is left to pay on each (must be on a line of its own)",
    "payment_reference": "The reference to quote when paying",
}

#: The ways to pay and the bank details are printed after the wording from the council's details
#: (casework/letters/how_to_pay.html), so the wording only points to them.
_HOW_TO_PAY = """\
How to pay, with our bank details and the reference to quote ({{ payment_reference }}), is at the end \
of this letter. If you pay by post, send the payment slip at the end of this letter with your payment.
"""

_HELP = """\
## If you cannot afford to pay

Call us on {{ council_phone }} as soon as you can. We can agree smaller payments that you can \
manage, and we will not take further action while we talk to you about it.

## If you think this is wrong

Call us on {{ council_phone }} or email {{ council_email }} and tell us which invoice and why. We \
will stop chasing the payment while we check.

Free, independent advice about money and debt is available from Citizens Advice and from MoneyHelper.

If you would like this letter in large print, Braille or another language, please tell us.
"""

WORDING = {
    "recovery_first_reminder": (
        "Reminder: {{ balance }} of care charges is overdue",
        "Our records show that {{ balance }} for the care and support of {{ client_name }} has not been "
        "paid. You may have missed it, so this is a reminder.\n\n{{ invoices_table }}\n\n"
        "## What you need to do\n\nPlease pay {{ balance }} by {{ pay_by }}. If you have paid in the last "
        "few days, thank you, and please ignore this letter.\n\n"),
    "recovery_second_reminder": (
        "Second reminder: {{ balance }} of care charges is still unpaid",
        "We wrote to you about {{ balance }} of unpaid care charges for {{ client_name }} and we have not "
        "had the payment.\n\n{{ invoices_table }}\n\n## What you need to do\n\nPlease pay {{ balance }} "
        "by {{ pay_by }}, or call us to agree how you will pay.\n\n"),
    "recovery_final_notice": (
        "Final notice: {{ balance }} of care charges",
        "This is our final notice before we consider legal action to recover {{ balance }} of unpaid care "
        "charges for {{ client_name }}.\n\n{{ invoices_table }}\n\n## What you need to do\n\nPlease pay "
        "{{ balance }} by {{ pay_by }}, or call us to agree a payment plan. If we do not hear from you, we "
        "will send a formal letter before claim.\n\n"),
    "recovery_letter_before_claim": (
        "Letter before claim: {{ balance }} of care charges",
        "This is a letter before claim under the Pre-Action Protocol for Debt Claims. {{ client_name }} "
        "owes the council {{ balance }} for care and support charges under the Care Act 2014. We are not "
        "adding interest or other charges.\n\n{{ invoices_table }}\n\n## What you need to do\n\nPlease pay "
        "{{ balance }}, or fill in the enclosed reply form and return it, by {{ pay_by }} (30 days from "
        "the date of this letter). If you need debt advice, tell us on the reply form and we will give "
        "you time to get it. We enclose an information sheet, a reply form and a financial statement.\n\n"
        "If we do not hear from you by {{ pay_by }}, we may start court proceedings, which could add to "
        "what you owe.\n\n"),
}
NAMES = {
    "recovery_first_reminder": "Recovery: first reminder",
    "recovery_second_reminder": "Recovery: second reminder",
    "recovery_final_notice": "Recovery: final notice",
    "recovery_letter_before_claim": "Recovery: letter before claim (Pre-Action Protocol)",
}
REPLY_DAYS = {"recovery_letter_before_claim": 30}


def invoices_table(invoices: Iterable[Any]) -> str:
    """The overdue invoices as an HTML table (trusted: every value is escaped here)."""
    invoices = list(invoices)
    total = sum((i.outstanding for i in invoices), ZERO)
    rows = format_html_join("\n", '<tr><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
                            ((i.number, long_date(i.due_date), format_pounds(i.total), format_pounds(i.outstanding))
                             for i in invoices))
    return format_html(
        '<table class="statement"><caption>Overdue invoices</caption><thead><tr><th scope="col">Invoice</th>'
        '<th scope="col">Was due</th><th scope="col" class="num">Invoice total</th>'
        '<th scope="col" class="num">Left to pay</th></tr></thead>'
        '<tbody>{}<tr><th scope="row" colspan="3">Total overdue</th><td class="num">{}</td></tr></tbody></table>',
        rows, format_pounds(total))


#: The Pre-Action Protocol's enclosures (PA-03), printed after the letter before claim.
PAP_ENCLOSURES = ("debt/letters/pap_statement.html", "debt/letters/pap_information_sheet.html",
                  "debt/letters/pap_reply_form.html", "debt/letters/pap_financial_statement.html")
ENCLOSURES = {"recovery_letter_before_claim": PAP_ENCLOSURES}


def _statement_rows(invoices: list) -> list[dict[str, str]]:
    return [{"number": i.number, "due_date": long_date(i.due_date), "total": format_pounds(i.total),
             "paid": format_pounds(i.total - i.outstanding), "outstanding": format_pounds(i.outstanding)}
            for i in invoices]


def _sfs_headings() -> tuple[list[str], list[str]]:
    from .models.relief import INCOME_CATEGORIES, SPENDING_CATEGORIES
    return [c.label for c in INCOME_CATEGORIES], [c.label for c in SPENDING_CATEGORIES]


def _values(code: str, invoices: list, on: date, stage_name: str, reference: str) -> dict[str, Any]:
    balance = sum((i.outstanding for i in invoices), ZERO)
    extra = {}
    if code in ENCLOSURES:
        income, spending = _sfs_headings()
        extra = {"statement_rows": _statement_rows(invoices), "sfs_income": income, "sfs_spending": spending}
    return {**extra,
        "balance": format_pounds(balance),
        "amount_due": format_pounds(balance),
        "amount_due_value": balance,
        "invoice_count": str(len(invoices)),
        "oldest_due_date": long_date(invoices[0].due_date) if invoices else "",
        "pay_by": long_date(on + timedelta(days=REPLY_DAYS.get(code, PAY_WITHIN_DAYS))),
        "stage_name": stage_name,
        "invoices_table": invoices_table(invoices),
        "payment_reference": reference,
    }


def _builder(code: str):
    def build(client: Client, on: date, *, recipient: Recipient, invoices=None, stage_name: str = "",
              account_number: str = "") -> dict[str, Any]:
        if not invoices:
            raise ValueError("A recovery letter needs the overdue invoices")
        return _values(code, list(invoices), on, stage_name or NAMES[code], account_number or client.reference)
    return build


def _sample(code: str):
    def sample() -> dict[str, Any]:
        invoices = [SimpleNamespace(number="INV00000001", due_date=date(2026, 11, 16), total=Decimal("399.40"),
                                    outstanding=Decimal("399.40")),
                    SimpleNamespace(number="INV00000002", due_date=date(2026, 12, 14), total=Decimal("399.40"),
                                    outstanding=Decimal("150.00"))]
        return _values(code, invoices, date(2026, 12, 30), NAMES[code], "C-SC999999")
    return sample


def _letter_type(code: str) -> LetterType:
    subject, body = WORDING[code]
    return LetterType(code=code, name=NAMES[code], description=f"{NAMES[code]}: one letter listing all of a "
                      "debtor's overdue invoices, with a payment slip.", fields=FIELDS,
                      block_fields=frozenset({"invoices_table"}), builder=_builder(code), sample=_sample(code),
                      default_subject=subject, default_body=body + _HOW_TO_PAY + "\n" + _HELP,
                      asks_for_payment=lambda context: context["amount_due_value"] > 0,
                      enclosures=ENCLOSURES.get(code, ()))


RECOVERY_LETTER_TYPES = {code: _letter_type(code) for code in WORDING}


def register() -> None:
    """Register the recovery letter types (safe to call twice: the same objects are registered)."""
    for letter_type in RECOVERY_LETTER_TYPES.values():
        register_letter_type(letter_type)


def stage_letters(requests, *, on: date, actor, templates: dict) -> dict[int, Any]:
    """The stages' letters for many debtors ({client pk: Letter}): each rendered and stored by
    casework's letter_prepare (outside any lock it needs), then all their rows saved together by
    letters_save. `requests`: debt.services.recovery.LetterRequest, whose clients come with their
    representatives and accounts loaded."""
    from casework.letters import services as letters

    rows = []
    for request in requests:
        client, stage = request.client, request.stage
        representatives = list(client.representatives.all())
        account = next(iter(client.accounts.all()), None)
        letter_type = get_letter_type(stage.letter_type)
        context = letter_type.build_context(client, on, representatives=representatives, invoices=list(request.invoices),
                                            stage_name=stage.name, account_number=account.number if account else "")
        rows.append(letters.letter_prepare(client=client, letter_type=letter_type, on=on, run_item=request.run_item,
                                           actor=actor, representatives=representatives, context=context,
                                           template=templates.get(stage.letter_type)))
    saved = letters.letters_save(rows)
    return {letter.client_id: letter for letter in saved}
