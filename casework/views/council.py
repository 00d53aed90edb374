"""The council details page: the name, address, income bank account, ways to pay and remittance
contact printed on letters and remittance advices. System administrators only. Thin: parse, call
casework.services.council.council_details_save."""
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from casework.models.council import CouncilDetails, current_council
from casework.roles import Role
from casework.services.council import council_details_save

from .access import role_required
from .forms import handle

#: Who keeps the council's details.
COUNCIL_EDITORS = frozenset({Role.SYSTEM_ADMINISTRATOR})
#: Rows for other ways to pay on the page (empty rows are ignored).
METHOD_ROWS = 5
HISTORY_SHOWN = 10


def _text(label, *, required=False, help_text="", max_length=200, width="govuk-input--width-20", **attrs):
    return forms.CharField(label=label, required=required, help_text=help_text, max_length=max_length,
                           widget=forms.TextInput(attrs={"class": width, **attrs}))


class CouncilDetailsForm(forms.Form):
    name = _text("Council name", width="govuk-!-width-two-thirds")
    team_name = _text("Team name", help_text="Signs the letters, such as Adult Social Care Finance Team",
                      width="govuk-!-width-two-thirds")
    address_line_1 = _text("Address line 1", max_length=100, width="govuk-!-width-two-thirds", autocomplete="address-line1")
    address_line_2 = _text("Address line 2 (optional)", max_length=100, width="govuk-!-width-two-thirds",
                           autocomplete="address-line2")
    address_line_3 = _text("Address line 3 (optional)", max_length=100, width="govuk-!-width-two-thirds",
                           autocomplete="address-line3")
    town = _text("Town or city (optional)", max_length=100, width="govuk-!-width-two-thirds", autocomplete="address-level2")
    postcode = _text("Postcode", max_length=10, width="govuk-input--width-10", autocomplete="postal-code")
    phone = _text("Phone number", max_length=30, width="govuk-input--width-20", type="tel")
    email = _text("Email address", max_length=254, width="govuk-!-width-two-thirds", type="email", spellcheck="false")
    website = _text("Website (optional)", max_length=200, width="govuk-!-width-two-thirds", spellcheck="false")
    bank_account_name = _text("Account name", max_length=18, width="govuk-input--width-20",
                              help_text="As the bank holds it, up to 18 characters")
    bank_sort_code = _text("Sort code", max_length=8, width="govuk-input--width-5", help_text="Must be 6 digits long",
                           inputmode="numeric", spellcheck="false")
    bank_account_number = _text("Account number", max_length=10, width="govuk-input--width-10",
                                help_text="Must be 8 digits long", inputmode="numeric", spellcheck="false")
    payment_reference_wording = _text(
        "Payment reference wording", max_length=300, width="govuk-!-width-full",
        help_text="Printed in every letter that asks for money. Write {reference} where the letter's invoice "
                  "number or account reference goes")
    remittance_contact_name = _text("Name or team", width="govuk-!-width-two-thirds")
    remittance_email = _text("Email address", max_length=254, width="govuk-!-width-two-thirds", type="email",
                             spellcheck="false")
    remittance_phone = _text("Phone number", max_length=30, width="govuk-input--width-20", type="tel")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, METHOD_ROWS + 1):
            self.fields[f"method_{number}_name"] = _text(f"Way to pay {number}: name", width="govuk-!-width-two-thirds",
                                                         help_text="For example, By debit or credit card")
            self.fields[f"method_{number}_instructions"] = forms.CharField(
                label=f"Way to pay {number}: instructions", required=False, max_length=500,
                help_text="What to do, with any phone number or address",
                widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 2}))

    def method_rows(self):
        return [(self[f"method_{n}_name"], self[f"method_{n}_instructions"]) for n in range(1, METHOD_ROWS + 1)]

    def clean(self):
        data = super().clean()
        methods = []
        for number in range(1, METHOD_ROWS + 1):
            name = (data.get(f"method_{number}_name") or "").strip()
            instructions = (data.get(f"method_{number}_instructions") or "").strip()
            if name and not instructions:
                self.add_error(f"method_{number}_instructions", f"Way to pay {number}: enter its instructions")
            elif instructions and not name:
                self.add_error(f"method_{number}_name", f"Way to pay {number}: enter its name")
            elif name:
                methods.append({"name": name, "instructions": instructions})
        data["payment_methods"] = methods
        return data

    @staticmethod
    def initial_from(details: CouncilDetails) -> dict:
        from casework.models.council import DETAIL_FIELDS

        initial = {f: getattr(details, f) for f in DETAIL_FIELDS if f != "payment_methods"}
        for number, method in enumerate(details.other_methods[:METHOD_ROWS], start=1):
            initial[f"method_{number}_name"] = method["name"]
            initial[f"method_{number}_instructions"] = method["instructions"]
        return initial


def _details_data(cleaned: dict) -> dict:
    from casework.models.council import DETAIL_FIELDS

    return {f: cleaned.get(f) or ([] if f == "payment_methods" else "") for f in DETAIL_FIELDS}


def _changed(newer, older) -> list[str]:
    from casework.models.council import DETAIL_FIELDS

    if older is None:
        return ["First saved"]
    return [str(CouncilDetails._meta.get_field(f).verbose_name) for f in DETAIL_FIELDS
            if getattr(newer, f) != getattr(older, f)]


@role_required(COUNCIL_EDITORS)
def council_details(request):
    saved = CouncilDetails.objects.filter(pk=1).first()
    form = CouncilDetailsForm(request.POST or None, initial=CouncilDetailsForm.initial_from(saved or current_council()))
    if handle(request, form, lambda d: council_details_save(data=_details_data(d), actor=request.user)):
        messages.success(request, "Council details saved. Letters and remittance advices produced from now on "
                                  "print them.")
        return redirect("casework:council_details")
    history = []
    if saved is not None:
        history = list(saved.history.select_related("history_user").order_by("-history_date", "-history_id")
                       [:HISTORY_SHOWN + 1])
        for newer, older in zip(history, history[1:] + [None]):
            newer.changed_fields = _changed(newer, older)
        history = history[:HISTORY_SHOWN]
    missing = (saved or CouncilDetails()).missing()
    return render(request, "casework/council_details.html", {
        "form": form, "history": history, "saved": saved,
        "missing": [label for labels in missing.values() for label in labels]})
