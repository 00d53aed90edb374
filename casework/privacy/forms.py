from django import forms

from casework.forms import GovForm


class SubjectAccessForm(GovForm):
    submit_label = "Produce the export"
    reason = forms.CharField(label="Which request does this answer?", max_length=300,
                             help_text="For example: letter of 3 November 2026 from the client's daughter, ref 4411")


class ErasureRequestForm(GovForm):
    submit_label = "Request erasure"
    reason = forms.CharField(label="Why should this client's personal data be erased?", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ErasureDecisionForm(GovForm):
    submit_label = "Record decision"
    decision = forms.ChoiceField(label="Decision", widget=forms.RadioSelect,
                                 choices=[("approve", "Approve and erase now"), ("reject", "Reject")])
    note = forms.CharField(label="Note (needed to reject)", max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class RetainForm(GovForm):
    submit_label = "Keep the record"
    note = forms.CharField(label="Why is the record kept?", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
