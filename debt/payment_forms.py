"""Forms of the payments pages. Money is typed as text and read by casework.money."""
from django import forms
from django.utils import timezone

from casework.forms import GovForm, MoneyField, _date
from casework.models import Client
from casework.money import format_pounds

from .constants import PaymentMethod

IMPORT_SOURCES = [("bank", "Bank statement file"), ("cash_receipting", "Cash receipting system")]
ALLOCATION_PREFIX = "allocate_"


class PaymentForm(GovForm):
    submit_label = "Record payment"
    amount = MoneyField(label="Amount received, in pounds", error_messages={"required": "Enter the amount received"})
    method = forms.ChoiceField(label="How was it paid?", choices=PaymentMethod.choices, widget=forms.RadioSelect)
    received_on = _date("Date received")
    reference = forms.CharField(label="Payment reference", max_length=60,
                                help_text="As shown on the bank statement, receipt or cheque")

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = list(invoices)
        for invoice in self.invoices:
            self.fields[f"{ALLOCATION_PREFIX}{invoice.pk}"] = MoneyField(
                label=f"Pay towards {invoice.number} (due {invoice.due_date:%-d %B %Y}, "
                      f"{format_pounds(invoice.outstanding)} outstanding)", required=False,
                help_text="Leave every invoice blank to pay the oldest first")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None:
            raise forms.ValidationError("Enter the amount received")
        return amount

    def allocations(self) -> list:
        """(invoice, amount) for each invoice the officer typed an amount for; empty: oldest first."""
        return [(inv, self.cleaned_data[f"{ALLOCATION_PREFIX}{inv.pk}"]) for inv in self.invoices
                if self.cleaned_data.get(f"{ALLOCATION_PREFIX}{inv.pk}") is not None]


class ReasonForm(GovForm):
    submit_label = "Reverse payment"
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="For example, cheque returned unpaid by the bank")


class PaymentImportForm(GovForm):
    submit_label = "Import payments"
    source = forms.ChoiceField(label="Where is the file from?", choices=IMPORT_SOURCES, widget=forms.RadioSelect)
    file = forms.FileField(label="Payment file (CSV)", help_text="Columns: date, amount, method, reference, "
                                                              "client_reference (optional), payer (optional)")


class SuspenseMatchForm(GovForm):
    submit_label = "Record payment for this client"
    client_reference = forms.CharField(label="Client's social care reference", max_length=20)
    note = forms.CharField(label="Note (optional)", max_length=300, required=False,
                           help_text="For example, how you found the client")

    def clean_client_reference(self) -> Client:
        reference = self.cleaned_data["client_reference"].strip()
        client = Client.objects.filter(reference__iexact=reference).first()
        if client is None:
            raise forms.ValidationError(f"No client has the social care reference {reference}")
        return client


class SuspenseReturnForm(GovForm):
    submit_label = "Mark as returned"
    note = forms.CharField(label="How and why was it returned?", max_length=300,
                           widget=forms.Textarea(attrs={"rows": 3}))


class RefundForm(GovForm):
    submit_label = "Issue refund"
    amount = MoneyField(label="Amount to refund, in pounds", error_messages={"required": "Enter the amount to refund"})
    method = forms.ChoiceField(label="How will it be paid?", choices=PaymentMethod.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None:
            raise forms.ValidationError("Enter the amount to refund")
        return amount


def default_received_on() -> dict:
    return {"received_on": timezone.localdate()}


UNALLOCATED = "unallocated"


class ReallocateForm(GovForm):
    """Move part of a payment from one invoice (or its unallocated credit) to another invoice."""

    submit_label = "Move the payment"
    from_invoice = forms.ChoiceField(label="Move it from", widget=forms.RadioSelect)
    invoice = forms.ChoiceField(label="Move it to", widget=forms.RadioSelect,
                                error_messages={"required": "Choose the invoice to move the payment to"})
    amount = MoneyField(label="Amount to move, in pounds", error_messages={"required": "Enter the amount to move"})
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="For example, the client asked for it to pay the newer invoice",
                             error_messages={"required": "Give a reason for moving the payment"})

    def __init__(self, *args, payment_invoices=(), unallocated=None, targets=(), **kwargs):
        """`payment_invoices`: (invoice, net amount of the payment on it); `targets`: invoices with
        something outstanding (annotated `outstanding`)."""
        super().__init__(*args, **kwargs)
        self.sources = {str(inv.pk): inv for inv, _ in payment_invoices}
        self.targets = {str(inv.pk): inv for inv in targets}
        choices = [(UNALLOCATED, f"Its unallocated credit first ({format_pounds(unallocated or 0)}), then the "
                                 "invoices it paid, latest first")]
        choices += [(str(inv.pk), f"{inv.number} (due {inv.due_date:%-d %B %Y}): {format_pounds(net)} of this "
                                  "payment") for inv, net in payment_invoices]
        self.fields["from_invoice"].choices = choices
        self.fields["from_invoice"].initial = UNALLOCATED
        self.fields["invoice"].choices = [
            (str(inv.pk), f"{inv.number} (due {inv.due_date:%-d %B %Y}): {format_pounds(inv.outstanding)} outstanding")
            for inv in targets]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None:
            raise forms.ValidationError("Enter the amount to move")
        if amount <= 0:
            raise forms.ValidationError("Enter an amount more than £0.00")
        return amount

    def clean_from_invoice(self):
        value = self.cleaned_data["from_invoice"]
        return None if value == UNALLOCATED else self.sources[value]

    def clean_invoice(self):
        return self.targets[self.cleaned_data["invoice"]]

    def clean(self):
        data = super().clean()
        source, target = data.get("from_invoice"), data.get("invoice")
        if source is not None and target is not None and source.pk == target.pk:
            self.add_error("invoice", "Choose a different invoice from the one the payment leaves")
        return data
