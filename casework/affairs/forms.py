"""Forms for the financial affairs pages (GOV.UK markup through crispy-forms-gds)."""
from django import forms

from casework.forms import GovForm, MoneyField, OfficerChoiceField, _date, officer_choices
from casework.models import AffairsCase, AffairsKind, AffairsStatus, CapacityAssessment, FeeOutcome, Team

_NOTE = {"widget": forms.Textarea(attrs={"rows": 3}), "required": False}


def _document(label: str = "Document", required: bool = False) -> forms.FileField:
    return forms.FileField(label=label, required=required,
                           error_messages={"required": "Attach the document for this step"},
                           help_text="PDF, PNG, JPEG, CSV, TXT, DOCX or XLSX" + ("" if required else " (optional)"))


class AffairsStartForm(GovForm):
    submit_label = "Start case"
    kind = forms.ChoiceField(label="Kind of case", choices=AffairsKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(max_length=200, help_text="What the case is about, in a few words")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label=None)
    assigned_officer = OfficerChoiceField(label="Officer", queryset=officer_choices(), required=False,
                                          empty_label="Leave unassigned (team queue)")
    due_date = _date("Due date", required=False)
    reason = forms.CharField(label="Reason", max_length=2000, help_text="Required for finance only: why the council "
                             "is involved only with the client's money", **_NOTE)
    review_date = _date("Review date", required=False, help_text="Required for finance only. For example, 27 3 2027")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_officer"].queryset = officer_choices()


class StepForm(GovForm):
    submit_label = "Record as done"
    done_on = _date("Date done")
    note = forms.CharField(label="Note", max_length=4000, **_NOTE)
    document = _document()

    def __init__(self, *args, definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].required = definition.requires_date
        if definition.requires_document:
            self.fields["document"] = _document(required=True)
        if definition.hint:
            self.fields["note"].help_text = definition.hint


class FeeForm(GovForm):
    submit_label = "Record the fee"
    outcome = forms.ChoiceField(label="The application fee was", choices=FeeOutcome.choices, widget=forms.RadioSelect)
    done_on = _date("Date paid, or date help with fees was granted")
    amount_paid = MoneyField(label="Amount paid, in pounds", required=False,
                             help_text="Leave blank if the standard fee was paid in full, or nothing was paid")
    note = forms.CharField(label="Note", max_length=4000, **_NOTE)
    document = _document("Receipt or help with fees decision")


class DeputyForm(GovForm):
    submit_label = "Record the deputy"
    appointed_on = _date("Date of appointment (the date of the order)")
    name = forms.CharField(label="Deputy's full name", max_length=200)
    organisation = forms.CharField(max_length=200, required=False,
                                   help_text="For example, the council when it is the public authority deputy")
    address_line_1 = forms.CharField(label="Address line 1", max_length=200)
    address_line_2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(max_length=8, widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(label="Email address", required=False)
    authority_reference = forms.CharField(label="Court order number", max_length=100, required=False)
    note = forms.CharField(label="Note", max_length=4000, **_NOTE)
    document = _document("Copy of the order")


class CostsForm(GovForm):
    submit_label = "Record costs"
    amount = MoneyField(label="Costs to charge to the client's account, in pounds", required=False,
                        help_text="Leave blank if no costs are recovered, and say why in the reason")
    effective_date = _date("Date of the charge")
    reason = forms.CharField(label="Reason", max_length=300,
                             help_text="What the costs were for (for example, locksmith and kennel fees)")
    document = _document("Invoice or receipt")


class AffairsStatusForm(GovForm):
    submit_label = "Change status"
    status = forms.ChoiceField(label="New status", widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", max_length=300, required=False, help_text="Required to withdraw")

    def __init__(self, *args, affairs: AffairsCase, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = affairs.ALLOWED_TRANSITIONS.get(affairs.status, set())
        self.fields["status"].choices = [(s.value, s.label) for s in AffairsStatus if s in allowed]


class CapacityAssessmentForm(GovForm):
    submit_label = "Record assessment"
    assessed_on = _date("Date of the assessment")
    assessor = forms.CharField(label="Who assessed", max_length=200,
                               help_text="Name and role, for example Dr A Patel, consultant psychiatrist")
    decision = forms.CharField(label="The decision in question", max_length=300,
                               help_text="For example, whether she can manage her property and financial affairs")
    outcome = forms.ChoiceField(label="Outcome", choices=CapacityAssessment.OUTCOMES, widget=forms.RadioSelect)
    note = forms.CharField(label="Note", max_length=4000, **_NOTE)
    document = _document("Evidence (the assessment)")
