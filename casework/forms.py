"""Forms render as GOV.UK components through crispy-forms-gds; money is typed as text (GOV.UK pattern)."""
from datetime import date

from crispy_forms_gds.fields import DateInputField
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Submit
from django import forms
from django.utils import timezone
from django.utils.functional import cached_property

from casework.constants import (
    MANUAL_TIMELINE_KINDS,
    Capacity,
    CaseStatus,
    CaseType,
    CommunicationNeed,
    DeathSource,
    EntryKind,
    Priority,
    RepresentativeKind,
    TimelineKind,
)
from casework.models import Area, NonWorkingKind, Team
from casework.models.clients import normalise_postcode, validate_nhs_number
from casework.money import MoneyError, parse_money
from casework.services.cases import assignable_users, assignee_check
from casework.services.errors import DomainError


class GovForm(forms.Form):
    submit_label = "Save"

    @cached_property
    def helper(self) -> FormHelper:
        # Built on first use, so a form may drop fields in __init__ first.
        helper = FormHelper(self)
        helper.form_tag = False
        helper.add_input(Submit("submit", self.submit_label))
        return helper


def _date(label: str, required: bool = True, help_text: str = "For example, 27 3 2026") -> DateInputField:
    return DateInputField(label=label, required=required, help_text=help_text, require_all_fields=False)


class MoneyField(forms.CharField):
    widget = forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10", "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        if value in ("", None):
            return None
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc


def officer_choices():
    """Who a case or a task may be assigned to (casework.services.cases.assignable_users)."""
    return (
        assignable_users()
        .order_by("first_name", "last_name")
        .only("pk", "username", "first_name", "last_name")  # what a choice shows: not the whole user
    )


class _OneReadChoiceIterator(forms.models.ModelChoiceIterator):
    """Reads the choices once: a template's `for` asks their number and then each of them, which
    Django's iterator answers with a COUNT and then a server-side cursor (two queries per list)."""

    def __init__(self, field):
        super().__init__(field)
        self._objects = None

    def _read(self) -> list:
        if self._objects is None:
            self._objects = list(self.queryset)
        return self._objects

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._read():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self._read()) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self._read())


class OfficerChoiceField(forms.ModelChoiceField):
    """A choice of who works a case or a task: the choices and the check are the service layer's
    (assignable_users, assignee_check), as the API's are."""

    iterator = _OneReadChoiceIterator

    def __init__(self, *args, work: str = "a case", **kwargs):
        super().__init__(*args, **kwargs)
        self.work = work

    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.username

    def clean(self, value):
        user = super().clean(value)
        try:
            assignee_check(user, field="officer", work=self.work)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return user


class ClientForm(GovForm):
    submit_label = "Save client"
    reference = forms.CharField(label="Social care system reference", max_length=20)
    title = forms.CharField(max_length=20, required=False)
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    preferred_name = forms.CharField(max_length=100, required=False)
    date_of_birth = _date("Date of birth", required=False, help_text="For example, 17 5 1940")
    nhs_number = forms.CharField(label="NHS number", max_length=12, required=False, help_text="10 digits")
    address_line_1 = forms.CharField(label="Address line 1", max_length=200)
    address_line_2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    county = forms.CharField(max_length=100, required=False)
    postcode = forms.CharField(max_length=8, widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(label="Email address", required=False)
    area = forms.ModelChoiceField(label="Area", queryset=Area.objects.all(), required=False,
                                  empty_label="Not recorded", help_text="The council locality the client lives in")
    capacity = forms.ChoiceField(label="Capacity to manage their finances", choices=Capacity.choices,
                                 widget=forms.RadioSelect)
    capacity_assessed_on = _date("Date capacity was assessed", required=False)
    capacity_assessor = forms.CharField(label="Who assessed capacity", max_length=200, required=False)
    communication_needs = forms.MultipleChoiceField(choices=CommunicationNeed.choices, required=False,
                                                    widget=forms.CheckboxSelectMultiple)
    communication_language = forms.CharField(label="Language for letters (if not English)", max_length=100, required=False)
    safeguarding_flag = forms.BooleanField(label="There is a safeguarding concern", required=False)
    safeguarding_note = forms.CharField(label="Safeguarding note", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reason = forms.CharField(label="Reason for the change", max_length=300, required=False,
                             help_text="Recorded in the client's history")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["reason"]

    def clean_postcode(self) -> str:
        try:
            return normalise_postcode(self.cleaned_data["postcode"])
        except forms.ValidationError:
            raise forms.ValidationError("Enter a real UK postcode, like NM1 1AA")

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data["nhs_number"].replace(" ", "")
        validate_nhs_number(value)
        return value

    def clean(self):
        data = super().clean()
        if data.get("date_of_birth") and data["date_of_birth"] > timezone.localdate():
            self.add_error("date_of_birth", "Date of birth must be in the past")
        return data


class RepresentativeForm(GovForm):
    submit_label = "Add representative"
    kind = forms.ChoiceField(label="Type of representative", choices=RepresentativeKind.choices, widget=forms.RadioSelect)
    name = forms.CharField(label="Full name", max_length=200)
    organisation = forms.CharField(max_length=200, required=False, help_text="For example, a solicitors' firm")
    relationship = forms.CharField(label="Relationship to the client", max_length=100, required=False)
    address_line_1 = forms.CharField(label="Address line 1", max_length=200)
    address_line_2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(max_length=8, widget=forms.TextInput(attrs={"class": "govuk-input--width-10"}))
    phone = forms.CharField(label="Phone number", max_length=30, required=False)
    email = forms.EmailField(label="Email address", required=False)
    authority_reference = forms.CharField(label="Authority reference", max_length=100, required=False,
                                          help_text="Court order, LPA registration, DWP reference or grant of probate")
    start_date = _date("Authority starts")
    end_date = _date("Authority ends", required=False, help_text="Leave blank if it has no end date")
    is_named_contact = forms.BooleanField(label="The client asked us to contact this person about their money",
                                          required=False)

    clean_postcode = ClientForm.clean_postcode


class EndRepresentativeForm(GovForm):
    submit_label = "End authority"
    end_date = _date("Last day of their authority")
    reason = forms.CharField(max_length=300)


class DeathForm(GovForm):
    submit_label = "Record death"
    date_of_death = _date("Date of death")
    source = forms.ChoiceField(label="Who told us", choices=DeathSource.choices, widget=forms.RadioSelect)
    verified = forms.BooleanField(label="The death has been verified (for example by the registrar)", required=False)


class LedgerEntryForm(GovForm):
    submit_label = "Post entry"
    kind = forms.ChoiceField(label="Type of entry", widget=forms.RadioSelect,
                             choices=[(k.value, k.label) for k in EntryKind if k != EntryKind.WRITE_OFF])
    amount = MoneyField(label="Amount, in pounds", help_text="For an adjustment, a negative amount reduces what is owed")
    effective_date = _date("Effective date")
    reference = forms.CharField(max_length=60, help_text="For example, a receipt or invoice number")
    description = forms.CharField(max_length=300)
    reason = forms.CharField(
        label="Why are you posting this?", max_length=300,
        help_text="Recorded with the entry. An entry that reduces what is owed, or is above what your role may post "
                  "alone, goes to a team leader to approve first, with this reason")


class ReverseEntryForm(GovForm):
    submit_label = "Reverse entry"
    reason = forms.CharField(label="Why is this entry being reversed?", max_length=300)


class StatementFilterForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date must be on or after the start date")
        return data


class CaseForm(GovForm):
    submit_label = "Open case"
    case_type = forms.ChoiceField(label="Type of case", choices=CaseType.choices)
    title = forms.CharField(max_length=200, help_text="What the case is about, in a few words")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label=None)
    assigned_officer = OfficerChoiceField(label="Officer", queryset=officer_choices(), required=False,
                                          empty_label="Leave unassigned (team queue)")
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    due_date = _date("Due date", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_officer"].queryset = officer_choices()


class TimelineEntryForm(GovForm):
    submit_label = "Add to timeline"
    kind = forms.ChoiceField(label="What are you recording?", widget=forms.RadioSelect,
                             choices=[(k.value, TimelineKind(k).label) for k in MANUAL_TIMELINE_KINDS],
                             initial=TimelineKind.NOTE)
    summary = forms.CharField(max_length=300)
    body = forms.CharField(label="Details", widget=forms.Textarea(attrs={"rows": 5}), required=False)


class StatusForm(GovForm):
    submit_label = "Change status"
    status = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=300, required=False, help_text="Needed to escalate or close a case")

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            allowed = case.ALLOWED_TRANSITIONS.get(case.status, set())
            self.fields["status"].choices = [(v, l) for v, l in CaseStatus.choices if v in allowed]


class AssignForm(GovForm):
    submit_label = "Assign"
    officer = OfficerChoiceField(queryset=officer_choices(), required=False, empty_label="No one (team queue)")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="Keep the current team")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officer_choices()


class HoldForm(GovForm):
    submit_label = "Put on hold"
    reason = forms.CharField(max_length=300, help_text="Automated letters and steps stop while the case is on hold")
    review_date = _date("Review the hold on")


class TaskForm(GovForm):
    submit_label = "Add task"
    title = forms.CharField(label="What needs doing", max_length=200)
    due_date = _date("Due date")
    assigned_to = OfficerChoiceField(label="Who will do it", queryset=officer_choices(), required=False,
                                     empty_label="The case officer", work="a task")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = officer_choices()


class DocumentForm(GovForm):
    submit_label = "Upload document"
    file = forms.FileField(label="Choose a file", help_text="PDF, PNG, JPEG, CSV, TXT, DOCX or XLSX, up to 10MB")
    description = forms.CharField(max_length=300, required=False)


class BulkAssignForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(queryset=None, error_messages={"required": "Select at least one case"})
    officer = OfficerChoiceField(queryset=officer_choices(), error_messages={"required": "Choose an officer"})

    def __init__(self, *args, case_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = case_queryset
        self.fields["officer"].queryset = officer_choices()


def today() -> date:
    return timezone.localdate()


class WorkingDayAddForm(GovForm):
    submit_label = "Add the day"
    day = _date("Date")
    name = forms.CharField(label="Name", max_length=120, help_text="For example, Council closure day")
    kind = forms.ChoiceField(label="Kind", widget=forms.RadioSelect, initial=NonWorkingKind.CLOSURE,
                             choices=NonWorkingKind.choices)
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why the day is not a working day, for the record")


class WorkingDayReasonForm(GovForm):
    reason = forms.CharField(label="Reason", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why, for the record")
