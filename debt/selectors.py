"""Reads for income: what each invoice still owes, and a client's payments.

Outstanding amounts are database aggregates over the append-only allocations (a reversed or
moved allocation is a negative row), the invoice's credit notes and its posted write-offs, never
stored columns. An invoice's net amount is its total less its credit notes.
"""
from decimal import Decimal
from datetime import date

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from casework.models import Client, LedgerEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, to_pennies

from .models import Invoice, Payment, PaymentAllocation, WriteOffLine, WriteOffStatus

_MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def _sum_of(path: str) -> Coalesce:
    return Coalesce(Sum(path), Value(ZERO), output_field=_MONEY)


def _subquery_sum(queryset: QuerySet) -> Coalesce:
    summed = queryset.order_by().values("invoice").annotate(s=Sum("amount")).values("s")
    return Coalesce(Subquery(summed, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def _credited_sum(credit_notes: QuerySet) -> Coalesce:
    """The credit notes' totals as a positive amount credited."""
    summed = credit_notes.order_by().values("corrects").annotate(s=Sum("total")).values("s")
    return Coalesce(-Subquery(summed, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def with_outstanding(invoices: QuerySet, as_at: date | None = None) -> QuerySet:
    """Annotate `credited` (its credit notes), `paid`, `written_off` (posted write-offs only) and
    `outstanding` (total − all three). With `as_at`, count only credit notes issued, payments
    received and write-offs decided by the end of that day."""
    allocations = PaymentAllocation.objects.filter(invoice=OuterRef("pk"))
    lines = WriteOffLine.objects.filter(invoice=OuterRef("pk"), request__status=WriteOffStatus.POSTED)
    credits = Invoice.objects.filter(corrects=OuterRef("pk"))
    if as_at is not None:
        allocations = allocations.filter(payment__received_on__lte=as_at)
        lines = lines.filter(request__decided_at__date__lte=as_at)
        credits = credits.filter(issue_date__lte=as_at)
    return invoices.annotate(credited=_credited_sum(credits), paid=_subquery_sum(allocations),
                             written_off=_subquery_sum(lines)).annotate(
        outstanding=ExpressionWrapper(F("total") - F("credited") - F("paid") - F("written_off"), output_field=_MONEY))


def invoice_written_off(invoice: Invoice) -> Decimal:
    """The posted write-offs against an invoice (for invoice_outstanding to subtract)."""
    total = WriteOffLine.objects.filter(invoice=invoice, request__status=WriteOffStatus.POSTED).aggregate(
        s=Sum("amount"))["s"]
    return to_pennies(total or ZERO)


def with_balances(invoices: QuerySet) -> QuerySet:
    """Annotate invoices with `paid`, `written_off` and `outstanding` (total − paid − written off)."""
    return with_outstanding(invoices)


def invoice_credited(invoice: Invoice) -> Decimal:
    """What the invoice's credit notes have taken off it, as a positive amount."""
    total = Invoice.objects.filter(corrects=invoice).aggregate(s=Sum("total"))["s"]
    return to_pennies(-(total or ZERO))


def invoice_paid(invoice: Invoice) -> Decimal:
    return to_pennies(PaymentAllocation.objects.filter(invoice=invoice).aggregate(paid=_sum_of("amount"))["paid"])


def invoice_outstanding(invoice: Invoice) -> Decimal:
    return to_pennies(invoice.total - invoice_credited(invoice) - invoice_paid(invoice) - invoice_written_off(invoice))


def unpaid_invoices(client: Client) -> QuerySet:
    """The client's invoices with something still to pay, oldest first (due date, then number).
    Credit notes (negative totals) are not paid by payments, so they never appear."""
    invoices = Invoice.objects.filter(client=client, total__gt=0)
    return with_balances(invoices).filter(outstanding__gt=0).order_by("due_date", "number")


def with_allocated(payments: QuerySet) -> QuerySet:
    """Annotate payments with `allocated`, the net amount allocated to invoices."""
    return payments.annotate(allocated=_sum_of("allocations__amount"))


def client_payments(client: Client) -> QuerySet:
    return with_allocated(Payment.objects.filter(client=client)).select_related("ledger_entry")


def payment_allocated_by_invoice(payment: Payment) -> dict[int, Decimal]:
    """Invoice id -> the net amount of this payment allocated to it (zero rows left out)."""
    rows = (PaymentAllocation.objects.filter(payment=payment).values("invoice_id")
            .annotate(net=Sum("amount")).values_list("invoice_id", "net"))
    return {invoice_id: to_pennies(net) for invoice_id, net in rows if to_pennies(net) != 0}


def payment_unallocated(payment: Payment) -> Decimal:
    return to_pennies(payment.amount - sum(payment_allocated_by_invoice(payment).values(), ZERO))


def payment_is_reversed(payment: Payment) -> bool:
    return LedgerEntry.objects.filter(reverses_id=payment.ledger_entry_id).exists()
