"""Forms of the provider payments pages (GOV.UK markup through crispy-forms-gds)."""
import json

from django import forms

from casework.forms import GovForm, MoneyField, _date

from .constants import (
    ClaimSource,
    LineResult,
    OverpaymentSource,
    PackageStatus,
    ProviderStatus,
    RecoveryMethod,
    Rounding,
    UpliftMethod,
    UrgentMethod,
)
from .models import Band, PaymentSchedule, Provider, ServiceType


def _text(label: str, max_length: int = 300, required: bool = True, help_text: str = "", rows: int = 0):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, max_length=max_length, required=required, help_text=help_text, widget=widget)


class ProviderForm(GovForm):
    submit_label = "Save provider"
    name = _text("Name", 200)
    supplier_number = _text("Supplier number in the finance system", 20)
    cqc_location_id = _text("CQC location ID", 20, required=False)
    contact_name = _text("Contact name", 200, required=False)
    contact_phone = _text("Contact phone", 30, required=False)
    remittance_email = forms.EmailField(label="Remittance email", required=False)
    address = _text("Address", 1000, required=False, rows=3)
    payment_terms_days = forms.IntegerField(label="Payment terms in days", min_value=0, max_value=90, initial=30)
    payment_schedule = forms.ModelChoiceField(label="Payment schedule", queryset=PaymentSchedule.objects.all(),
                                              required=False)
    status = forms.ChoiceField(label="Status", choices=ProviderStatus.choices, initial=ProviderStatus.ACTIVE)
    ecm_mapping = _text("Call monitoring column names (JSON)", 2000, required=False, rows=3,
                        help_text='Their column for each standard column, e.g. {"client_reference": "ServiceUserId"}')

    def clean_ecm_mapping(self):
        text = self.cleaned_data["ecm_mapping"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError("Enter the column names as JSON, like {\"visit_date\": \"Date\"}") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError("Enter an object of standard column name to the provider's column name")
        return value


class BankChangeForm(GovForm):
    submit_label = "Ask for approval"
    sort_code = _text("Sort code", 8, help_text="6 digits, like 20-00-00")
    account_number = _text("Account number", 10, help_text="8 digits")
    account_name = _text("Name on the account", 30, help_text="Up to 18 characters, as the bank holds it")
    evidence = _text("How were the new details verified?", 300, rows=2,
                     help_text="For example, a call back to the phone number on the contract")


class DecisionForm(GovForm):
    submit_label = "Record decision"
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Approve"), ("reject", "Reject")],
                                 widget=forms.RadioSelect)
    note = _text("Note", 300, required=False, rows=2, help_text="Needed when rejecting")


class RateForm(GovForm):
    submit_label = "Ask for approval"
    service_type = forms.ModelChoiceField(label="Service type", queryset=ServiceType.objects.all())
    band = forms.ModelChoiceField(label="Band", queryset=Band.objects.all())
    rate = MoneyField(label="Rate per unit, in pounds")
    effective_from = _date("Effective from")
    reason = _text("Reason", 300, rows=2,
                   help_text="For the team leader who approves it: a new rate is on the card only once they have")


class PackageForm(GovForm):
    submit_label = "Add package"
    client_reference = _text("Client's social care reference", 20)
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.all())
    service_type = forms.ModelChoiceField(label="Service type", queryset=ServiceType.objects.all())
    band = forms.ModelChoiceField(label="Band", queryset=Band.objects.all())
    units_per_week = forms.DecimalField(label="Units a week", min_value=0, max_digits=8, decimal_places=2,
                                        required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                                        help_text="Leave blank when giving a weekly pattern of visits")
    visit_pattern = _text("Weekly pattern of visits (JSON, optional)", 4000, required=False, rows=3,
                          help_text='For example [{"weekday": 0, "start": "08:00", "minutes": 60}] (Monday is 0)')
    agreed_rate = MoneyField(label="Agreed individual rate, in pounds (optional)", required=False)
    agreed_rate_reason = _text("Reason for the agreed rate", 300, required=False)
    start_date = _date("Start date")
    end_date = _date("End date", required=False, help_text="Leave blank when open-ended")

    def clean_visit_pattern(self):
        text = self.cleaned_data["visit_pattern"].strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError("Enter the pattern as JSON") from None
        if not isinstance(value, list):
            raise forms.ValidationError("Enter a list of visits")
        return value


class PackageStatusForm(GovForm):
    submit_label = "Change status"
    status = forms.ChoiceField(label="New status", choices=[(PackageStatus.APPROVED, "Approved"),
                                                            (PackageStatus.ENDED, "Ended")], widget=forms.RadioSelect)
    end_date = _date("End date", required=False, help_text="Needed when ending the package")
    reason = _text("Reason", 300, required=False)


class ClaimImportForm(GovForm):
    submit_label = "Import and validate"
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.all())
    source = forms.ChoiceField(label="What kind of file is it?", choices=ClaimSource.choices, widget=forms.RadioSelect)
    reference = _text("Provider's invoice or claim reference", 40)
    period_start = _date("Claim period start")
    period_end = _date("Claim period end")
    file = forms.FileField(label="Claim file (CSV)", help_text="Formats: see the guide to claim files")


class OverrideForm(GovForm):
    submit_label = "Save result"
    result = forms.ChoiceField(label="Result", choices=LineResult.choices, widget=forms.RadioSelect)
    payable_amount = MoneyField(label="Amount to pay, in pounds", required=False,
                                help_text="Needed for an adjusted result")
    note = _text("Note", 300, rows=2, help_text="Why the result is overridden")


class ConfirmForm(GovForm):
    submit_label = "Confirm"
    note = _text("Note (optional)", 300, required=False, rows=2)


class DisputeForm(GovForm):
    submit_label = "Open dispute"
    reason = _text("The provider's reason", 2000, rows=3)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"] = forms.MultipleChoiceField(
            label="Lines in dispute", widget=forms.CheckboxSelectMultiple,
            choices=[(l.pk, f"Row {l.row_number}: {l.client_reference} {l.service_date:%d/%m/%Y} "
                            f"({l.get_result_display().lower()}: {l.reason})") for l in lines])
        self.order_fields(["lines", "reason"])


class DisputeNoteForm(GovForm):
    submit_label = "Add note"
    text = _text("Note", 2000, rows=3)
    evidence = forms.FileField(label="Evidence (optional)", required=False)


class DisputeDecisionForm(GovForm):
    submit_label = "Record outcome"
    status = forms.ChoiceField(label="Outcome", choices=[("under_review", "Under review"), ("upheld", "Upheld"),
                                                         ("not_upheld", "Not upheld")], widget=forms.RadioSelect)
    amount = MoneyField(label="Amount to pay on the next run, in pounds", required=False,
                        help_text="Needed when upheld")
    note = _text("Reason", 2000, required=False, rows=3)


class OverpaymentForm(GovForm):
    submit_label = "Record overpayment"
    provider = forms.ModelChoiceField(label="Provider", queryset=Provider.objects.all())
    amount = MoneyField(label="Amount overpaid, in pounds")
    source = forms.ChoiceField(label="How was it found?", choices=OverpaymentSource.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label="How will it be recovered?", choices=RecoveryMethod.choices,
                               widget=forms.RadioSelect)
    description = _text("Description", 300, rows=2)


class OverpaymentDecisionForm(GovForm):
    submit_label = "Record decision"
    decision = forms.ChoiceField(label="Decision", choices=[("approved", "Approve for recovery"),
                                                            ("cancelled", "Cancel")], widget=forms.RadioSelect)
    invoice_number = _text("Invoice number (recovery by invoice)", 30, required=False)
    reason = _text("Reason (needed to cancel)", 300, required=False)


class ReceiptForm(GovForm):
    submit_label = "Record receipt"
    amount = MoneyField(label="Amount received, in pounds")
    received_on = _date("Date received")


class RunStartForm(GovForm):
    submit_label = "Prepare payment run"
    business_date = _date("Run date", help_text="The working day the Bacs file is sent. Providers are paid two "
                                                "working days later; a schedule due on a non-working day is paid "
                                                "by the run on the next working day")

    def clean_business_date(self):
        from casework.calendar import not_working_message

        day = self.cleaned_data["business_date"]
        if message := not_working_message(day):
            raise forms.ValidationError(message)
        return day


class UpliftForm(GovForm):
    submit_label = "Create uplift"
    name = _text("Name", 200)
    effective_from = _date("Effective from", help_text="Usually 1 April")
    method = forms.ChoiceField(label="Method", choices=UpliftMethod.choices, widget=forms.RadioSelect)
    percentage = forms.DecimalField(label="Percentage", required=False, max_digits=6, decimal_places=3,
                                    widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    new_rate = MoneyField(label="New rate, in pounds", required=False)
    rounding = forms.ChoiceField(label="Rounding", choices=Rounding.choices, widget=forms.RadioSelect,
                                 initial=Rounding.HALF_UP)
    providers = forms.ModelMultipleChoiceField(label="Providers (none: all)", queryset=Provider.objects.all(),
                                               required=False)
    service_types = forms.ModelMultipleChoiceField(label="Service types (none: all)", queryset=ServiceType.objects.all(),
                                                   required=False)
    bands = forms.ModelMultipleChoiceField(label="Bands (none: all)", queryset=Band.objects.all(), required=False)


class UpliftDecisionForm(GovForm):
    submit_label = "Confirm"
    status = forms.ChoiceField(label="Action", choices=[("approved", "Approve"), ("applied", "Apply the new rates"),
                                                        ("reversed", "Reverse"), ("cancelled", "Cancel")],
                               widget=forms.RadioSelect)
    reason = _text("Reason (needed to reverse)", 300, required=False)


class UrgentForm(GovForm):
    submit_label = "Ask for approval"
    amount = MoneyField(label="Amount, in pounds")
    method = forms.ChoiceField(label="Method", choices=UrgentMethod.choices, widget=forms.RadioSelect)
    reason = _text("Why it cannot wait for the payment run", 300, rows=2)


class UrgentPaidForm(GovForm):
    submit_label = "Record payment"
    paid_on = _date("Date paid")
