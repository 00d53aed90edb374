"""Reads for income: what each invoice still owes, and a client's payments.

Outstanding amounts are database aggregates over the append-only allocations (a reversed or
moved allocation is a negative row), never stored columns.
"""
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from casework.models import Client, LedgerEntry
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, to_pennies

from .models import Invoice, Payment, PaymentAllocation

_MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def _sum_of(path: str) -> Coalesce:
    return Coalesce(Sum(path), Value(ZERO), output_field=_MONEY)


def with_balances(invoices: QuerySet) -> QuerySet:
    """Annotate invoices with `paid` (net of allocations) and `outstanding` (total − paid)."""
    return invoices.annotate(paid=_sum_of("allocations__amount")).annotate(
        outstanding=ExpressionWrapper(F("total") - F("paid"), output_field=_MONEY))


def invoice_outstanding(invoice: Invoice) -> Decimal:
    paid = PaymentAllocation.objects.filter(invoice=invoice).aggregate(paid=_sum_of("amount"))["paid"]
    return to_pennies(invoice.total - paid)


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
