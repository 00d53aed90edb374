"""Forms for the billing pages."""
from django import forms

from casework.forms import GovForm, MoneyField, _date

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


class CreditNoteForm(ReasonForm):
    submit_label = "Raise credit note"


class SuppressForm(ReasonForm):
    submit_label = "Do not invoice"


class InvoiceFilterForm(forms.Form):
    number = forms.CharField(required=False, label="Invoice number")
    client = forms.CharField(required=False, label="Client reference or name")
    period_start = forms.DateField(required=False, label="Period starting", widget=forms.DateInput(attrs={"type": "date"}))
