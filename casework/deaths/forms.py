from django import forms

from casework.forms import GovForm


class DeathReverseForm(GovForm):
    submit_label = "Reverse this death"
    reason = forms.CharField(label="Why was the death recorded in error?", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="For example: the registrar's notice was for another person with the same name")


class DeathConfirmForm(forms.Form):
    """One checkbox (ticked: apply) and one optional note per proposed consequence."""

    def __init__(self, *args, consequences=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.consequences = list(consequences)
        for row in self.consequences:
            self.fields[f"apply_{row.pk}"] = forms.BooleanField(required=False, initial=True, label=row.summary)
            self.fields[f"note_{row.pk}"] = forms.CharField(required=False, max_length=500, label="Note (optional)")

    def decisions(self) -> list[tuple]:
        """(consequence, apply, note) for each consequence, from the cleaned data."""
        return [(row, bool(self.cleaned_data.get(f"apply_{row.pk}")), self.cleaned_data.get(f"note_{row.pk}", ""))
                for row in self.consequences]
