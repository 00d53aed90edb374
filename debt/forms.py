"""Forms for the billing pages."""
from django import forms

from casework.forms import GovForm, MoneyField, _date
from casework.money import format_pounds

from .models import ChargeableService


class ChargeForm(GovForm):
    submit_label = "Save assessed charge"
    service = forms.ModelChoiceField(queryset=ChargeableService.objects.all(), empty_label=None)
    weekly_amount = MoneyField(label="Weekly charge, in pounds", help_text="The assessed weekly contribution")
    effective_from = _date("Charge starts")
    effective_to = _date("Charge ends", required=False, help_text="Leave blank if it has no end date")
    assessment_reference = forms.CharField(label="Financial assessment reference", max_length=60, required=False)
    reason = forms.CharField(label="Reason", max_length=300, required=False,
                             help_text="For example, reassessment after a change in income")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = ChargeableService.objects.all()


class ChargeImportForm(GovForm):
    submit_label = "Import charges"
    file = forms.FileField(label="CSV file of assessed charges", help_text="The format is in docs/formats.md")


class ReasonForm(GovForm):
    reason = forms.CharField(label="Reason", max_length=300)


CREDIT_WHOLE, CREDIT_PART = "whole", "part"
CREDIT_LINE_PREFIX = "line_"


class CreditNoteForm(ReasonForm):
    """Credit what remains of an invoice, or part of it: an amount on each chosen line, never
    more than what remains uncredited on that line (the service checks it again under a lock)."""

    submit_label = "Raise credit note"
    scope = forms.ChoiceField(label="What do you want to credit?", widget=forms.RadioSelect)

    def __init__(self, *args, lines=(), remaining=None, uncredited=None, **kwargs):
        super().__init__(*args, **kwargs)
        remaining = remaining or {}
        self.fields["scope"].choices = [
            (CREDIT_WHOLE, f"Everything not yet credited ({format_pounds(uncredited or 0)})"),
            (CREDIT_PART, "Part of the invoice: an amount on chosen lines")]
        self.fields["reason"].help_text = "For example, care not delivered on 3 and 4 November"
        self.lines = [line for line in lines if remaining.get(line.pk, 0) > 0]
        for line in self.lines:
            self.fields[f"{CREDIT_LINE_PREFIX}{line.pk}"] = MoneyField(
                label=f"Credit from: {line.explanation}", required=False,
                help_text=f"{format_pounds(remaining[line.pk])} of {format_pounds(line.amount)} not yet credited. "
                          "Only for a part credit; leave blank to credit nothing from this line")
        # The reason last, after the amounts it explains.
        self.order_fields(["scope", *[f"{CREDIT_LINE_PREFIX}{line.pk}" for line in self.lines], "reason"])

    def clean(self):
        data = super().clean()
        if data.get("scope") == CREDIT_PART and self.lines and not any(
                data.get(f"{CREDIT_LINE_PREFIX}{line.pk}") for line in self.lines):
            self.add_error(f"{CREDIT_LINE_PREFIX}{self.lines[0].pk}", "Enter an amount to credit on at least one line")
        return data

    def credit_lines(self) -> list | None:
        """None: credit everything not yet credited; else (line, amount) for each line given an amount."""
        if self.cleaned_data.get("scope") != CREDIT_PART:
            return None
        return [(line, self.cleaned_data[f"{CREDIT_LINE_PREFIX}{line.pk}"]) for line in self.lines
                if self.cleaned_data.get(f"{CREDIT_LINE_PREFIX}{line.pk}") is not None]


class SuppressForm(ReasonForm):
    submit_label = "Do not invoice"


class InvoiceFilterForm(forms.Form):
    number = forms.CharField(required=False, label="Invoice number")
    client = forms.CharField(required=False, label="Client reference or name")
    period_start = forms.DateField(required=False, label="Period starting", widget=forms.DateInput(attrs={"type": "date"}))
