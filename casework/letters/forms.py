from django import forms

from casework.forms import GovForm


class LetterTemplateForm(GovForm):
    submit_label = "Save new version"
    subject = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"spellcheck": "true"}))
    body = forms.CharField(label="Wording", widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
                           help_text="Leave a blank line between paragraphs. Start a line with '## ' for a heading "
                                     "and '- ' for a bullet point. Use {{ field }} for the fields listed.")
    change_note = forms.CharField(label="What did you change and why?", max_length=300, required=False)
    large_print = forms.BooleanField(label="Preview in large print", required=False)
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)
