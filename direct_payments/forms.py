"""Forms of the direct payment pages (GOV.UK markup through crispy-forms-gds). Money is text."""
from django import forms

from casework.forms import GovForm, MoneyField, _date
from casework.models import Client, Team

from .constants import (
    PLAN_CATEGORIES,
    AccountType,
    AgreementStatus,
    Category,
    DateFormat,
    Decision,
    Direction,
    Frequency,
    LiabilityKind,
    MatchOn,
    MisuseReferral,
    Outcome,
    RecipientKind,
    RecoveryRoute,
    Risk,
    StatementKind,
    WaiverReason,
)
from .models import BankFormat


class AgreementForm(GovForm):
    submit_label = "Save agreement"
    client_reference = forms.CharField(label="Client's social care reference", max_length=20)
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.all(), empty_label=None)
    recipient_kind = forms.ChoiceField(label="Who receives the payments?", choices=RecipientKind.choices,
                                       widget=forms.RadioSelect, initial=RecipientKind.CLIENT)
    recipient_name = forms.CharField(label="Name of the person who receives them (if not the client)", max_length=200,
                                     required=False)
    weekly_budget = MoneyField(label="Gross weekly budget, in pounds")
    weekly_contribution = MoneyField(label="Client's assessed weekly contribution, in pounds", required=False,
                                     help_text="Leave blank if the client pays nothing")
    frequency = forms.ChoiceField(label="How often is it paid?", choices=Frequency.choices, widget=forms.RadioSelect,
                                  initial=Frequency.FOUR_WEEKLY)
    account_type = forms.ChoiceField(label="Account type", choices=AccountType.choices, widget=forms.RadioSelect,
                                     initial=AccountType.BANK)
    start_date = _date("Start date")
    end_date = _date("End date", required=False, help_text="Leave blank if it has no end date")
    contingency_weeks = forms.IntegerField(label="Contingency the recipient may keep, in weeks of budget",
                                           required=False, min_value=0, max_value=52,
                                           help_text="Leave blank for the council's policy figure")
    risk = forms.ChoiceField(label="Risk", choices=Risk.choices, widget=forms.RadioSelect, initial=Risk.STANDARD)
    support_plan_categories = forms.MultipleChoiceField(
        label="Spending the support plan allows", choices=[(c.value, c.label) for c in PLAN_CATEGORIES],
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to flag no spending as outside the plan")

    def clean_client_reference(self) -> Client:
        reference = self.cleaned_data["client_reference"].strip()
        client = Client.objects.filter(reference__iexact=reference).first()
        if client is None:
            raise forms.ValidationError(f"No client has the social care reference {reference}")
        return client

    def clean_weekly_budget(self):
        if self.cleaned_data["weekly_budget"] is None:
            raise forms.ValidationError("Enter the gross weekly budget")
        return self.cleaned_data["weekly_budget"]


class StatusForm(GovForm):
    submit_label = "Change status"
    status = forms.ChoiceField(label="New status", choices=AgreementStatus.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class PaymentForm(GovForm):
    submit_label = "Record payment"
    period_start = _date("Start of the payment period it pays", required=False,
                         help_text="Leave blank for a one-off payment. For example, 5 10 2026")
    amount = MoneyField(label="Amount of a one-off payment, in pounds", required=False,
                        help_text="A period's payment is worked out from the agreement")
    paid_on = _date("Date paid")
    note = forms.CharField(label="What it is for", max_length=300, required=False)


class AuditRequestForm(GovForm):
    submit_label = "Request statements"
    period_start = _date("Start of the audit period")
    period_end = _date("End of the audit period")


class UploadForm(GovForm):
    submit_label = "Upload and check"
    kind = forms.ChoiceField(label="What kind of statement is it?", choices=StatementKind.choices,
                             widget=forms.RadioSelect, initial=StatementKind.BANK_CSV)
    file = forms.FileField(label="Statement file (CSV)")
    bank = forms.ModelChoiceField(label="Bank or card provider", queryset=BankFormat.objects.all(),
                                  required=False, empty_label="A bank not listed: name it below",
                                  help_text="A bank listed here has its columns saved: nothing else to fill in. "
                                            "Leave a prepaid card statement on this choice for the standard card export")
    bank_name = forms.CharField(label="New bank's name", max_length=100, required=False,
                                help_text="Barclays, Lloyds Bank, Halifax, NatWest, HSBC UK, Santander, Nationwide, "
                                          "TSB, Monzo, Starling Bank, Allpay prepaid card and PFS prepaid card "
                                          "need only their name; any other bank needs its columns below")
    date_column = forms.CharField(label="Date column", max_length=60, required=False)
    date_format = forms.ChoiceField(label="Dates usually look like", choices=DateFormat.choices, required=False,
                                    initial=DateFormat.UK,
                                    help_text="Saved with the bank. Dates in any UK form are read, day before month")
    description_column = forms.CharField(label="Description column", max_length=60, required=False)
    payee_column = forms.CharField(label="Payee column (if it has one)", max_length=60, required=False)
    amount_column = forms.CharField(label="Amount column (one signed amount, minus for money out)", max_length=60,
                                    required=False)
    paid_in_column = forms.CharField(label="Or: paid in column", max_length=60, required=False)
    paid_out_column = forms.CharField(label="And: paid out column", max_length=60, required=False)
    balance_column = forms.CharField(label="Balance column (if it has one)", max_length=60, required=False)
    opening_balance = MoneyField(label="Opening balance on the statement, in pounds", required=False,
                                 help_text="Needed when the file has no balance column (a minus sign if overdrawn)")
    closing_balance = MoneyField(label="Closing balance on the statement, in pounds", required=False,
                                 help_text="The lines must take the opening balance to exactly this figure")

    def clean(self):
        data = super().clean()
        if data.get("kind") == StatementKind.BANK_CSV and not data.get("bank") and not data.get("bank_name", "").strip():
            self.add_error("bank", "Choose the bank, or enter a new bank's name and map its columns")
        return data

    def new_bank(self) -> dict | None:
        data = self.cleaned_data
        if data.get("bank") or not data.get("bank_name", "").strip():
            return None
        return {"name": data["bank_name"], **{k: data.get(k, "") for k in (
            "date_column", "date_format", "description_column", "payee_column", "amount_column", "paid_in_column",
            "paid_out_column", "balance_column")}}


class FlagReviewForm(GovForm):
    submit_label = "Save decision"
    decision = forms.ChoiceField(label="Decision", choices=Decision.choices, widget=forms.RadioSelect)
    note = forms.CharField(label="Note", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class LiabilityForm(GovForm):
    submit_label = "Add liability"
    kind = forms.ChoiceField(label="Kind", choices=LiabilityKind.choices, widget=forms.RadioSelect)
    description = forms.CharField(label="Description", max_length=200, help_text="For example, PA wages for March")
    amount = MoneyField(label="Amount still to pay, in pounds")

    def clean_amount(self):
        if self.cleaned_data["amount"] is None:
            raise forms.ValidationError("Enter the amount still to pay")
        return self.cleaned_data["amount"]


class ReasonForm(GovForm):
    submit_label = "Remove"
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class OutcomeForm(GovForm):
    submit_label = "Record outcome"
    outcome = forms.ChoiceField(label="Outcome", choices=[c for c in Outcome.choices if c[0] != Outcome.WAIVED],
                                widget=forms.RadioSelect)
    route = forms.ChoiceField(label="If money is to be recovered: how?", choices=RecoveryRoute.choices,
                              widget=forms.RadioSelect, required=False)
    misuse_referral = forms.ChoiceField(label="If misuse: refer to", choices=MisuseReferral.choices,
                                        widget=forms.RadioSelect, required=False)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="The advice given, or what was found and why")


class SurplusWaiverForm(GovForm):
    submit_label = "Ask for the waiver"
    reason_kind = forms.ChoiceField(label="Why should the surplus be waived?", choices=WaiverReason.choices,
                                    widget=forms.RadioSelect)
    reason = forms.CharField(label="Explain the reason", max_length=900, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="The person who decides reads this: for example what the saving is for and "
                                       "who agreed it, or the recipient's circumstances")


class DecisionForm(GovForm):
    submit_label = "Save decision"
    decision = forms.ChoiceField(label="Decision", choices=[("approve", "Approve the recovery"),
                                                            ("reject", "Send it back to the officer")],
                                 widget=forms.RadioSelect)
    note = forms.CharField(label="Note", required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="Needed when sending it back")


class CategoryRuleForm(GovForm):
    submit_label = "Save rule"
    pattern = forms.CharField(label="Text to find", max_length=100, help_text="Ignoring case, such as HMRC")
    match_on = forms.ChoiceField(label="Look in", choices=MatchOn.choices, widget=forms.RadioSelect,
                                 initial=MatchOn.EITHER)
    direction = forms.ChoiceField(label="For", choices=Direction.choices, widget=forms.RadioSelect,
                                  initial=Direction.ANY)
    category = forms.ChoiceField(label="Category", choices=Category.choices)
    priority = forms.IntegerField(label="Priority (lower is tried first)", min_value=0, max_value=9999, initial=100)
    active = forms.BooleanField(label="In use", required=False, initial=True)
