"""Repayment plan letters: the confirmation (with every instalment) and the missed instalment."""
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.html import format_html, format_html_join

from casework.correspondence import Recipient
from casework.letters.types import LetterType, get_letter_type, long_date, register_letter_type
from casework.models import Client
from casework.money import format_pounds

from . import relief as rules

PLAN_CONFIRMATION = "plan_confirmation"
PLAN_MISSED = "plan_missed_instalment"

CONFIRMATION_BODY = """\
Thank you for agreeing a plan to pay the care charges of {{ client_name }}.

You owe {{ total }}. You will pay it in {{ instalment_count }} {{ frequency }} payments, starting on {{ start_date }}.

{{ schedule_table }}

You told us you will pay by {{ method }}. How to pay, with our bank details and the reference to \
quote ({{ payment_reference }}), is at the end of this letter.

## If you cannot make a payment

Call us on {{ council_phone }} before the payment is due. We can look at the plan again with you.

If you miss a payment, we will write to you. If you miss two payments, the plan stops and we may \
take the steps to recover the whole amount.

If you would like this letter in large print, Braille or another language, please tell us.
"""

MISSED_BODY = """\
We have not received the payment of {{ instalment_amount }} that was due on {{ due_date }} under \
the repayment plan for the care charges of {{ client_name }}.

You are {{ shortfall }} behind the plan.

## What happens next

{{ next_step }}

## If you are having money problems

Call us on {{ council_phone }} or email {{ council_email }}. We can look at the plan again with you. \
Free debt advice is available from MoneyHelper on 0800 138 7777.

If you would like this letter in large print, Braille or another language, please tell us.
"""


def schedule_table(instalments: list[rules.Instalment]) -> str:
    """The instalments as an HTML table (every value escaped here)."""
    rows = format_html_join("\n", '<tr><td>{}</td><td>{}</td><td class="num">{}</td></tr>',
                            ((row.number, long_date(row.due_on), format_pounds(row.amount)) for row in instalments))
    return format_html('<table class="statement"><caption>Your payments</caption><thead><tr><th scope="col">Payment'
                       '</th><th scope="col">Date</th><th scope="col" class="num">Amount</th></tr></thead>'
                       '<tbody>{}</tbody></table>', rows)


def _confirmation_values(*, total: Decimal, instalments: list[rules.Instalment], frequency_label: str,
                         method_label: str, reference: str) -> dict[str, Any]:
    return {
        "total": format_pounds(total),
        "instalment_count": str(len(instalments)),
        "frequency": frequency_label.lower(),
        "start_date": long_date(instalments[0].due_on),
        "schedule_table": schedule_table(instalments),
        "method": method_label.lower(),
        "payment_reference": reference,
    }


def build_confirmation(client: Client, on: date, *, recipient: Recipient, plan=None) -> dict[str, Any]:
    if plan is None:
        raise ValueError("A plan confirmation needs its plan")
    from .services.relief import plan_schedule

    instalments = plan_schedule(plan)
    return _confirmation_values(total=plan.total, instalments=instalments,
                                frequency_label=plan.get_frequency_display(), method_label=plan.get_method_display(),
                                reference=client.reference)


def sample_confirmation() -> dict[str, Any]:
    instalments = rules.schedule(total=Decimal("250.00"), instalment_amount=Decimal("60.00"), frequency="monthly",
                                 start=date(2026, 12, 1))
    return _confirmation_values(total=Decimal("250.00"), instalments=instalments, frequency_label="Monthly",
                                method_label="Bank transfer", reference="SC999999")


def confirmation_context(plan, on: date) -> dict[str, Any]:
    return get_letter_type(PLAN_CONFIRMATION).build_context(plan.client, on, plan=plan)


def _missed_values(*, amount: Decimal, due: date, shortfall: Decimal, broken: bool,
                   reference: str) -> dict[str, Any]:
    step = ("This is the second payment missed, so the plan has ended. We will now take the usual steps "
            "to recover the whole amount owed. Please contact us straight away.") if broken else (
            f"Please pay {format_pounds(shortfall)} within 7 days of the date of this letter to keep the plan going. "
            "If another payment is missed, the plan will end.")
    return {"instalment_amount": format_pounds(amount), "due_date": long_date(due),
            "shortfall": format_pounds(shortfall), "next_step": step, "payment_reference": reference}


def build_missed(client: Client, on: date, *, recipient: Recipient, missed: rules.Missed | None = None,
                 broken: bool = False) -> dict[str, Any]:
    if missed is None:
        raise ValueError("A missed instalment letter needs the missed instalment")
    return _missed_values(amount=missed.instalment.amount, due=missed.instalment.due_on, shortfall=missed.shortfall,
                          broken=broken, reference=client.reference)


def sample_missed() -> dict[str, Any]:
    return _missed_values(amount=Decimal("60.00"), due=date(2026, 12, 1), shortfall=Decimal("60.00"), broken=False,
                          reference="SC999999")


def missed_context(client: Client, on: date, missed: rules.Missed, broken: bool) -> dict[str, Any]:
    return get_letter_type(PLAN_MISSED).build_context(client, on, missed=missed, broken=broken)


CONFIRMATION = register_letter_type(LetterType(
    code=PLAN_CONFIRMATION,
    name="Repayment plan confirmation",
    description="Confirms an agreed repayment plan and lists every instalment with its date.",
    fields={"total": "The amount the plan pays off", "instalment_count": "How many payments",
            "frequency": "How often: weekly, every four weeks or monthly", "start_date": "The first payment date",
            "schedule_table": "The table of payments (must be on a line of its own)",
            "method": "How the person will pay",
            "payment_reference": "The reference to quote when paying"},
    block_fields=frozenset({"schedule_table"}),
    builder=build_confirmation,
    sample=sample_confirmation,
    default_subject="Your plan to pay {{ total }} in care charges",
    default_body=CONFIRMATION_BODY,
    shows_how_to_pay=True,
    reference_code="RPC",
))

MISSED = register_letter_type(LetterType(
    code=PLAN_MISSED,
    name="Repayment plan: missed payment",
    description="Sent by the nightly plan check when a payment is missed after the grace period.",
    fields={"instalment_amount": "The payment that was missed", "due_date": "When it was due",
            "shortfall": "How far behind the plan the person is",
            "next_step": "What happens next: catch up, or the plan has ended",
            "payment_reference": "The reference to quote when paying"},
    builder=build_missed,
    sample=sample_missed,
    default_subject="You have missed a payment on your repayment plan",
    default_body=MISSED_BODY,
    shows_how_to_pay=True,
    reference_code="RPM",
))
