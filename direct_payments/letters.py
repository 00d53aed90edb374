"""Direct payment letters: asking for statements, the reminder, and the recovery letter."""
from datetime import date
from typing import Any

from django.utils.html import format_html, format_html_join

from casework.letters.types import LetterType, register_letter_type
from casework.models import Client

STATEMENT_REQUEST = "dp_statement_request"
STATEMENT_REMINDER = "dp_statement_reminder"
RECOVERY_LETTER = "dp_recovery"

_AUDIT_FIELDS = {
    "agreement_reference": "The direct payment agreement's reference, such as DPA-000012",
    "audit_period": "The dates the audit covers, such as 1 January to 31 March 2026",
    "statements_due": "The date to send the statements by",
    "what_to_send": "What to send for this kind of account",
}

REQUEST_BODY = """\
We are checking how the direct payment for {{ client_name }} (agreement {{ agreement_reference }}) was \
spent from {{ audit_period }}. This is a routine check we make for everyone who receives a direct payment.

## What you need to do

{{ what_to_send }}

Please send them by {{ statements_due }}. You can email them to {{ council_email }}.

## Why we ask

A direct payment must only be used to meet the needs in the care and support plan. Money that is \
not needed, above the contingency you may keep, is returned to the council.

If you have any questions, call us on {{ council_phone }}.
"""

REMINDER_BODY = """\
We wrote to ask for the statements for the direct payment for {{ client_name }} (agreement \
{{ agreement_reference }}) from {{ audit_period }}. We asked for them by {{ statements_due }} and \
have not received them yet.

{{ what_to_send }}

Please send them within 14 days, or call us on {{ council_phone }} if something is stopping you. \
If we do not hear from you, we may have to review how the direct payment is made.
"""

RECOVERY_BODY = """\
We have checked how the direct payment for {{ client_name }} (agreement {{ agreement_reference }}) \
was spent from {{ audit_period }}.

{{ reason }}

{{ working_table }}

## What happens next

{{ next_step }}

If you think our figures are wrong, call us on {{ council_phone }} or email {{ council_email }} \
within 14 days and tell us which figure and why. We will check it before we take any money back.
"""

_RECOVERY_FIELDS = {
    "agreement_reference": "The direct payment agreement's reference",
    "audit_period": "The dates the audit covers",
    "amount": "The amount to be returned, such as £3,820.00",
    "reason": "Why money is to be returned (surplus above the contingency, or money misused)",
    "working_table": "How the amount was worked out (must be on a line of its own)",
    "next_step": "How the money will be recovered: an invoice to pay, or smaller future payments",
}


def what_to_send(account_type: str) -> str:
    if account_type == "prepaid_card":
        return ("We can see the prepaid card account, so you do not need to send statements. Please send any "
                "invoices, timesheets and payslips for the period.")
    return ("Please send the bank statements for the direct payment account for the whole period, with "
            "invoices, timesheets, payslips and HMRC records for the same dates.")


def _audit_values(audit) -> dict[str, Any]:
    from debt.billing import date_range

    from casework.letters.types import long_date

    return {"agreement_reference": audit.agreement.reference,
            "audit_period": date_range(audit.period_start, audit.period_end),
            "statements_due": long_date(audit.statements_due_on),
            "what_to_send": what_to_send(audit.agreement.account_type)}


def build_audit(client: Client, on: date, *, recipient, audit=None) -> dict[str, Any]:
    if audit is None:
        raise ValueError("This letter needs its audit")
    return _audit_values(audit)


def sample_audit() -> dict[str, Any]:
    return {"agreement_reference": "DPA-000012", "audit_period": "1 January to 31 March 2026",
            "statements_due": "28 April 2026", "what_to_send": what_to_send("bank")}


def working_table(steps: list[tuple[str, str]]) -> str:
    rows = format_html_join("\n", '<tr><td>{}</td><td class="num">{}</td></tr>', steps)
    return format_html('<table class="statement"><caption>How we worked this out</caption>'
                       '<thead><tr><th scope="col">Details</th><th scope="col" class="num">Amount</th></tr></thead>'
                       '<tbody>{}</tbody></table>', rows)


def build_recovery(client: Client, on: date, *, recipient, recovery=None, steps=None, next_step: str = "") -> dict:
    from casework.money import format_pounds

    if recovery is None:
        raise ValueError("This letter needs its recovery")
    values = _audit_values(recovery.audit)
    reason = ("The account held more than the contingency you may keep and the bills still to pay. The surplus "
              "is returned to the council." if recovery.basis == "surplus" else
              "Some of the money was spent on things that do not meet the needs in the care and support plan, "
              "so under section 33(5) of the Care Act 2014 it must be repaid.")
    return {**values, "amount": format_pounds(recovery.amount), "reason": reason,
            "working_table": working_table(steps or []), "next_step": next_step}


def sample_recovery() -> dict[str, Any]:
    steps = [("Closing balance", "£6,100.00"), ("Less PA wages owed", "-£480.00"), ("Less HMRC PAYE due", "-£120.00"),
             ("Less contingency: 4 weeks × £420.00", "-£1,680.00"), ("Surplus", "£3,820.00"),
             ("To recover", "£3,820.00")]
    return {**sample_audit(), "amount": "£3,820.00", "reason": "The account held more than the contingency.",
            "working_table": working_table(steps),
            "next_step": "We will send an invoice for £3,820.00 with its own payment details."}


register_letter_type(LetterType(
    code=STATEMENT_REQUEST, name="Direct payment: statements request",
    description="Asks the recipient for the statements and records of the audit period.",
    fields=_AUDIT_FIELDS, builder=build_audit, sample=sample_audit,
    default_subject="Direct payment check: please send your statements by {{ statements_due }}",
    default_body=REQUEST_BODY, reference_code="DPS",
))
register_letter_type(LetterType(
    code=STATEMENT_REMINDER, name="Direct payment: statements reminder",
    description="Sent by the nightly run when statements have not arrived after the due date.",
    fields=_AUDIT_FIELDS, builder=build_audit, sample=sample_audit,
    default_subject="Reminder: we still need the statements for {{ agreement_reference }}",
    default_body=REMINDER_BODY, reference_code="DPR",
))
register_letter_type(LetterType(
    code=RECOVERY_LETTER, name="Direct payment: recovery",
    description="Explains an approved recovery with its working and how it will be recovered.",
    fields=_RECOVERY_FIELDS, block_fields=frozenset({"working_table"}), builder=build_recovery,
    sample=sample_recovery, default_subject="Direct payment {{ agreement_reference }}: {{ amount }} to be returned",
    default_body=RECOVERY_BODY, reference_code="DPX",
))

