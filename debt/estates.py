"""Reads for estate cases, and the claim letter to the personal representative.

What the estate owes and what it has paid are never stored. The balance owed is what the
client's invoices still owe (after payments, credit notes and posted write-offs); the payments
received since the death are the client's ledger payment entries dated after the date of death
(a reversed payment's reversal is a payment entry too, so it cancels out). `with_figures` adds
both to a queryset of estate cases in one query, for lists, exports and the API.
"""
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Iterable

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from casework.constants import AccountKind, EntryKind
from casework.correspondence import Recipient
from casework.in_force import in_force
from casework.letters.types import LetterType, long_date, register_letter_type
from casework.models import Client, LedgerEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, format_pounds, to_pennies
from casework.services.errors import DomainError

from .models import DeathHoldReviewRule, EstateCase, EstateFollowUpRule, Invoice
from .selectors import unpaid_invoices, with_outstanding

_MONEY = DecimalField(max_digits=MAX_DIGITS + 4, decimal_places=DECIMAL_PLACES)


# Follow-up interval (data) ---------------------------------------------------------------------

def follow_up_days(on: date) -> int:
    """Days between follow-ups under the EstateFollowUpRule in force on `on`."""
    return in_force(EstateFollowUpRule, on, "estate follow-up interval is").interval_days


def death_hold_review_months(on: date) -> int:
    """Months until a death's recovery hold is reviewed, under the DeathHoldReviewRule in force on `on`."""
    return in_force(DeathHoldReviewRule, on, "review period for a death's recovery hold is").months


# Money -----------------------------------------------------------------------------------------

def owed_invoices(client: Client) -> list[Invoice]:
    """The client's invoices with something left to pay, oldest first, each with `outstanding`."""
    return list(unpaid_invoices(client))


def balance_owed(client: Client) -> Decimal:
    return to_pennies(sum((i.outstanding for i in owed_invoices(client)), ZERO))


def _payments_after(client_ref, death_ref) -> QuerySet:
    return LedgerEntry.objects.filter(account__client_id=client_ref, account__kind=AccountKind.CLIENT_CHARGES,
                                      kind=EntryKind.PAYMENT, effective_date__gt=death_ref)


def payments_since_death(client: Client, date_of_death: date) -> Decimal:
    """Payments on the client's care charges account dated after the day of death, net of reversals."""
    total = _payments_after(client.pk, date_of_death).aggregate(s=Sum("amount"))["s"]
    return to_pennies(-(total or ZERO))


def with_figures(estates: QuerySet) -> QuerySet:
    """Annotate `balance_owed` and `payments_since_death` (as defined above) on estate cases."""
    owed = (with_outstanding(Invoice.objects.filter(client_id=OuterRef("case__client_id"), total__gt=0))
            .filter(outstanding__gt=0).order_by().values("client_id").annotate(s=Sum("outstanding")).values("s"))
    paid = (_payments_after(OuterRef("case__client_id"), OuterRef("date_of_death")).order_by()
            .values("account__client_id").annotate(s=Sum("amount")).values("s"))
    return estates.annotate(
        balance_owed=Coalesce(Subquery(owed, output_field=_MONEY), Value(ZERO), output_field=_MONEY),
        payments_since_death=Coalesce(-Subquery(paid, output_field=_MONEY), Value(ZERO), output_field=_MONEY))


def estate_cases() -> QuerySet:
    """Every estate case with what the pages show about it."""
    return with_figures(EstateCase.objects.select_related("case", "case__client", "case__assigned_officer",
                                                          "representative", "write_off"))


def follow_up_queue(on: date) -> QuerySet:
    """Open estate cases due for follow-up on `on` (EstateCaseQuerySet.due_for_follow_up)."""
    return with_figures(EstateCase.objects.due_for_follow_up(on).select_related(
        "case", "case__client", "case__assigned_officer", "representative"))


# The claim letter ------------------------------------------------------------------------------

ESTATE_CLAIM_LETTER = "estate_claim"

FIELDS = {
    "date_of_death": "The date the client died, such as 3 November 2026",
    "balance": "What the estate owes the council, such as £798.80",
    "amount_due": "The amount to pay (what the estate owes)",
    "invoices_table": "Each unpaid invoice with what is left to pay on it (must be on a line of its own)",
    "reply_by": "The date to reply by (the next follow-up date)",
    "payment_reference": "The reference to quote when paying",
}

DEFAULT_SUBJECT = "The council's claim against the estate of the late {{ client_name }}: {{ balance }}"

DEFAULT_BODY = """\
We are sorry to hear that {{ client_name }} died on {{ date_of_death }}. We are writing to you as \
the personal representative of their estate.

When they died, {{ client_name }} owed the council money for their care and support. The estate \
now owes {{ balance }}. Each invoice and what is left to pay on it is listed below.

{{ invoices_table }}

## What this letter means

Please treat this letter as notice of the council's claim against the estate. Care charges are a \
debt of the estate. They should be paid from the estate before what is left is shared out.

## What you need to do

Please pay {{ balance }} from the estate, or write to us by {{ reply_by }} and tell us:

- whether a grant of probate or letters of administration has been applied for or issued
- roughly what the estate is worth and when you expect to pay its debts
- if you think the estate cannot pay all of its debts

If you are not the executor or administrator of the estate, please tell us who is. We will write \
to them instead.

How to pay from the estate, with our bank details and the reference to quote ({{ payment_reference }}), \
is at the end of this letter. If you pay by post, send the payment slip with the payment.

## If you think this is wrong

Call us on {{ council_phone }} or email {{ council_email }} and tell us which invoice and why. We \
will check it and write back to you.

If you would like this letter in large print, Braille or another language, please tell us.
"""


def invoices_table(invoices: Iterable[Any]) -> str:
    """The unpaid invoices as an HTML table (trusted: every value is escaped here)."""
    invoices = list(invoices)
    total = sum((i.outstanding for i in invoices), ZERO)
    rows = format_html_join(
        "\n", '<tr><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        ((i.number, f"{long_date(i.period_start)} to {long_date(i.period_end)}", long_date(i.due_date),
          format_pounds(i.total), format_pounds(i.outstanding)) for i in invoices))
    return format_html(
        '<table class="statement"><caption>What the estate owes</caption><thead><tr>'
        '<th scope="col">Invoice</th><th scope="col">Care from and to</th><th scope="col">Was due</th>'
        '<th scope="col" class="num">Invoice total</th><th scope="col" class="num">Left to pay</th></tr></thead>'
        '<tbody>{}<tr><th scope="row" colspan="4">Total owed</th><td class="num">{}</td></tr></tbody></table>',
        rows, format_pounds(total))


def _values(*, invoices: list, date_of_death: date, reply_by: date, reference: str) -> dict[str, Any]:
    balance = sum((i.outstanding for i in invoices), ZERO)
    return {
        "date_of_death": long_date(date_of_death),
        "balance": format_pounds(balance),
        "amount_due": format_pounds(balance),
        "amount_due_value": balance,
        "invoices_table": invoices_table(invoices),
        "reply_by": long_date(reply_by),
        "payment_reference": reference,
    }


def build(client: Client, on: date, *, recipient: Recipient, invoices=None, date_of_death: date | None = None,
          reply_by: date | None = None, account_number: str = "") -> dict[str, Any]:
    if not invoices:
        raise ValueError("A claim against an estate needs the unpaid invoices")
    return _values(invoices=list(invoices), date_of_death=date_of_death or client.date_of_death,
                   reply_by=reply_by or on, reference=account_number or client.reference)


def sample() -> dict[str, Any]:
    invoices = [SimpleNamespace(number="INV00000001", period_start=date(2026, 9, 7), period_end=date(2026, 10, 4),
                                due_date=date(2026, 10, 19), total=Decimal("399.40"), outstanding=Decimal("399.40")),
                SimpleNamespace(number="INV00000002", period_start=date(2026, 10, 5), period_end=date(2026, 10, 20),
                                due_date=date(2026, 11, 16), total=Decimal("228.23"), outstanding=Decimal("228.23"))]
    return _values(invoices=invoices, date_of_death=date(2026, 10, 20), reply_by=date(2026, 12, 23),
                   reference="C-SC999999")


ESTATE_CLAIM = register_letter_type(LetterType(
    code=ESTATE_CLAIM_LETTER,
    name="Estate: claim to the personal representative",
    description="The council's claim against a deceased client's estate, sent to the executor or administrator, "
                "listing what is left to pay on each invoice, with a payment slip.",
    fields=FIELDS,
    block_fields=frozenset({"invoices_table"}),
    builder=build,
    sample=sample,
    default_subject=DEFAULT_SUBJECT,
    default_body=DEFAULT_BODY,
    asks_for_payment=lambda context: context["amount_due_value"] > 0,
    reference_code="EST",
))
