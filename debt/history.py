"""What the debt app adds to a client's history of changes (casework.history): payment allocations,
the history of assessed charges, and what a ledger entry is (an invoice, a credit note, a payment
and the import it came in, a write-off). Registered from DebtConfig.ready()."""
from django.utils import timezone

from casework.history import (
    MONEY,
    Change,
    HistoryItem,
    HistoryRow,
    HistorySource,
    ModelHistorySource,
    long_date,
    register_history_source,
    register_ledger_detail,
)
from casework.money import format_pounds

from .payment_forms import IMPORT_SOURCES


def _value(field: str, text: str) -> Change:
    return Change(field, "", text, has_old=False)


class AllocationSource(HistorySource):
    """Each allocation of a payment to an invoice, and each taken back (a negative allocation with
    its reason): the payment's receipt, reallocation and reversal are read from these and from the
    ledger, so the timeline's words for them are not repeated."""

    kinds = frozenset({MONEY})
    replaces = ("debt.payment.received", "debt.payment.reallocated", "debt.payment.unallocated", "debt.payment.reversed")
    rank = 4

    def _queryset(self, client):
        from .models import PaymentAllocation

        return PaymentAllocation.objects.filter(payment__client=client)

    def count(self, client, kind):
        return self._queryset(client).count()

    def rows(self, client, kind, limit):
        qs = self._queryset(client).select_related("payment", "invoice", "created_by").order_by("-created_at", "-id")
        return [self._row(a) for a in (qs[:limit] if limit is not None else qs)]

    @staticmethod
    def _row(allocation) -> HistoryRow:
        payment, invoice = allocation.payment, allocation.invoice
        share = format_pounds(abs(allocation.amount))
        if allocation.amount >= 0:
            summary = f"{share} of payment {payment.reference} allocated to invoice {invoice.number}"
        else:
            summary = f"{share} of payment {payment.reference} taken off invoice {invoice.number}"
        changes = [_value("Payment", f"{payment.reference} ({format_pounds(payment.amount)})"),
                   _value("Invoice", invoice.number), _value("Amount allocated", format_pounds(allocation.amount))]
        return HistoryRow(when=allocation.created_at, kind=MONEY, record=f"Payment {payment.reference}", summary=summary,
                          changes=changes, reason=allocation.reason, user=allocation.created_by,
                          amount=allocation.amount, order=(AllocationSource.rank, allocation.pk))


def _related(entry, name):
    return getattr(entry, name, None) if entry is not None else None


def _describe_entry(entry):
    """An entry's own words when it is an invoice, a credit note, a payment, a write-off, or the
    reversal of one of those: (summary, extra values, reason)."""
    invoice, payment, write_off = _related(entry, "invoice"), _related(entry, "payment"), _related(entry, "write_off")
    if invoice is not None and invoice.corrects_id:
        return (f"Credit note {invoice.number} of {format_pounds(abs(invoice.total))} for invoice {invoice.corrects.number}",
                [_value("Credits invoice", invoice.corrects.number), _value("Issued", long_date(invoice.issue_date))],
                invoice.reason)
    if invoice is not None:
        return (f"Invoice {invoice.number} of {format_pounds(invoice.total)} raised for "
                f"{long_date(invoice.period_start)} to {long_date(invoice.period_end)}",
                [_value("Issued", long_date(invoice.issue_date)), _value("Due date", long_date(invoice.due_date))],
                None)
    if payment is not None:
        extra = [_value("Method", payment.get_method_display()), _value("Received on", long_date(payment.received_on))]
        if payment.import_batch_id:
            batch = payment.import_batch
            source = dict(IMPORT_SOURCES).get(batch.source, batch.source)
            rows = f"{batch.rows} row{'' if batch.rows == 1 else 's'}"
            on = long_date(timezone.localdate(batch.imported_at))
            extra.append(_value("Imported from", f"{batch.original_name} ({source}, {rows}, "
                                                  f"{format_pounds(batch.total)}, imported {on})"))
        return (f"Payment of {format_pounds(payment.amount)} by {payment.get_method_display()} received "
                f"({payment.reference})", extra, None)
    if write_off is not None:
        reason = f"{write_off.get_reason_display()}: {write_off.note}" if write_off.note else write_off.get_reason_display()
        return (f"Write-off {write_off.reference} of {format_pounds(write_off.amount)} posted",
                [_value("Write-off", write_off.reference)], reason)
    original = entry.reverses if entry.reverses_id else None
    reversed_payment, reversed_invoice = _related(original, "payment"), _related(original, "invoice")
    if reversed_payment is not None:
        return (f"Payment {reversed_payment.reference} of {format_pounds(reversed_payment.amount)} "
                f"({reversed_payment.get_method_display()}) reversed", [], None)
    if reversed_invoice is not None:
        return f"Invoice {reversed_invoice.number} of {format_pounds(reversed_invoice.total)} reversed", [], None
    return None


def _charge_describe(item: HistoryItem) -> tuple[str, str]:
    charge = item.record
    label = f"Assessed charge: {item.text('service')}, version {charge.version}"
    if item.type == "+":
        until = f" to {long_date(charge.effective_to)}" if charge.effective_to else ""
        return label, (f"Assessed charge for {item.text('service')}: {format_pounds(charge.weekly_amount)} a week from "
                       f"{long_date(charge.effective_from)}{until} (version {charge.version})")
    if item.type == "-":
        return label, f"Assessed charge for {item.text('service')} (version {charge.version}) deleted"
    return label, f"Assessed charge for {item.text('service')} (version {charge.version}) changed"


def _charge_reason(item: HistoryItem) -> str:
    return item.record.history_change_reason or (item.record.reason if item.type == "+" else "")


def register() -> None:
    from .models import AssessedCharge

    register_history_source(AllocationSource())
    register_history_source(ModelHistorySource(
        AssessedCharge, client_lookup="client_id", kind=MONEY, describe=_charge_describe, reason=_charge_reason,
        hidden=["client", "created_by", "created_at", "reason"], replaces=["debt.charge.created"], rank=5))
    register_ledger_detail(
        ["invoice", "invoice__corrects", "payment", "payment__import_batch", "write_off", "reverses__invoice",
         "reverses__payment"],
        _describe_entry, replaces=["debt.credit_note.raised"])
