"""Pages for estate cases. Thin: parse, check the role, call one service."""
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.correspondence import ESTATE_KINDS
from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm, MoneyField, _date
from casework.models import Case, Client, Letter, Representative
from casework.money import format_pounds
from casework.roles import READERS, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..estates import estate_cases, follow_up_queue, owed_invoices
from ..estates_apps import ESTATE_WORKERS
from ..models import EstateCase, EstateOutcome, EstateStage, ProbateStatus
from ..models.estates import OFFICER_OUTCOMES
from ..services import estates as services

PAGE_SIZE = 50

ESTATE_COLUMNS = [
    Column("Reference", lambda e: e.reference),
    Column("Case", lambda e: e.case.reference),
    Column("Client reference", lambda e: e.case.client.reference),
    Column("Client", lambda e: e.case.client.full_name),
    Column("Date of death", lambda e: e.date_of_death),
    Column("Personal representative", lambda e: str(e.representative) if e.representative else ""),
    Column("Probate", lambda e: e.get_probate_status_display()),
    Column("Grant issued", lambda e: e.grant_issued_on),
    Column("Grant reference", lambda e: e.grant_reference),
    Column("Estimated estate value", lambda e: e.estimated_value, kind=MONEY),
    Column("Balance owed", lambda e: e.balance_owed, kind=MONEY),
    Column("Payments since death", lambda e: e.payments_since_death, kind=MONEY),
    Column("Claim sent", lambda e: e.claim_sent_on),
    Column("Next follow-up", lambda e: e.next_follow_up_on if e.stage != EstateStage.CLOSED else None),
    Column("Stage", lambda e: e.get_stage_display()),
    Column("Outcome", lambda e: e.get_outcome_display()),
    Column("Officer", lambda e: e.case.assigned_officer.username if e.case.assigned_officer else ""),
]


# Forms -----------------------------------------------------------------------------------------

class RepresentativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, rep: Representative) -> str:
        return f"{rep.name} ({rep.get_kind_display().lower()})"


def _representatives(client: Client):
    return client.representatives.filter(kind__in=ESTATE_KINDS).order_by("start_date", "pk")


class OpenForm(GovForm):
    submit_label = "Open estate case"

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["representative"] = RepresentativeChoiceField(
            label="Personal representative (executor or administrator)", queryset=_representatives(client),
            required=False, empty_label="Not known yet",
            help_text="Add an executor or administrator on the client's page if they are not listed")


class DetailsForm(GovForm):
    submit_label = "Save"
    estimated_value = MoneyField(label="Estimated value of the estate", required=False,
                                 help_text="Leave blank if not known")

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["representative"] = RepresentativeChoiceField(
            label="Personal representative (executor or administrator)", queryset=_representatives(client),
            required=False, empty_label="Not known yet")
        self.order_fields(["representative", "estimated_value"])


class ProbateForm(GovForm):
    submit_label = "Save"
    status = forms.ChoiceField(label="What is known about probate?", choices=ProbateStatus.choices,
                               widget=forms.RadioSelect)
    search_on = _date("Date the probate search was made", required=False)
    grant_on = _date("Date the grant was issued", required=False)
    grant_reference = forms.CharField(label="Grant reference", max_length=100, required=False,
                                      help_text="From the grant of probate or letters of administration")


class FollowUpForm(GovForm):
    submit_label = "Record follow-up"
    note = forms.CharField(label="What was done or found out", widget=forms.Textarea(attrs={"rows": 4}))
    contact_made = forms.BooleanField(label="We spoke to or heard from the personal representative", required=False)
    next_on = _date("Next follow-up", required=False,
                    help_text="Leave blank to follow up after the usual interval. For example, 27 3 2027")


class OutcomeForm(GovForm):
    submit_label = "Record outcome and close"
    outcome = forms.ChoiceField(label="Outcome", widget=forms.RadioSelect,
                                choices=[(o.value, o.label) for o in OFFICER_OUTCOMES])
    note = forms.CharField(label="How you know", required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text="Needed unless the estate paid in full")


class ConfirmForm(GovForm):
    def __init__(self, *args, submit_label: str, **kwargs):
        self.submit_label = submit_label
        super().__init__(*args, **kwargs)


# Helpers ---------------------------------------------------------------------------------------

def _estate(pk: int) -> EstateCase:
    return get_object_or_404(estate_cases(), pk=pk)


def _summary(estate: EstateCase) -> list:
    client = estate.case.client
    return [("Client", f"{client.full_name} ({client.reference})"),
            ("Date of death", f"{estate.date_of_death:%-d %B %Y}"),
            ("Balance owed", format_pounds(estate.balance_owed))]


def _form_page(request, form, title: str, estate: EstateCase, summary=None):
    log_record_views(request, estate.case.client_id)
    return render(request, "casework/form_page.html", {
        "form": form, "title": title, "caption": f"Estate case {estate.reference}",
        "back_url": reverse("debt:estate_detail", args=[estate.pk]), "summary": summary or _summary(estate)})


def _filtered(request, estates):
    filters = {name: request.GET.get(name, "") for name in ("stage", "probate_status", "outcome", "q")}
    if filters["stage"] in EstateStage.values:
        estates = estates.filter(stage=filters["stage"])
    if filters["probate_status"] in ProbateStatus.values:
        estates = estates.filter(probate_status=filters["probate_status"])
    if filters["outcome"] in EstateOutcome.values:
        estates = estates.filter(outcome=filters["outcome"])
    if term := filters["q"].strip()[:100]:
        estates = estates.filter(Q(case__client__reference__iexact=term) | Q(case__client__last_name__icontains=term))
    return estates, filters


# Pages -----------------------------------------------------------------------------------------

@role_required(READERS)
def estate_list(request):
    today = timezone.localdate()
    estates, filters = _filtered(request, estate_cases().order_by("-opened_on", "-pk"))
    if fmt := requested_format(request):
        return personal_export_response(request, estates, ESTATE_COLUMNS, "estate-cases", fmt,
                                        client_of=lambda estate: estate.case.client_id)
    page = Paginator(estates, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, [estate.case.client_id for estate in page])
    return render(request, "debt/estates/estate_list.html", {
        "page_obj": page, "filters": filters,
        "stages": EstateStage.choices, "probate_statuses": ProbateStatus.choices, "outcomes": EstateOutcome.choices,
        "due_count": EstateCase.objects.due_for_follow_up(today).count(), "today": today})


@role_required(READERS)
def estate_queue(request):
    today = timezone.localdate()
    estates = follow_up_queue(today)
    if fmt := requested_format(request):
        return personal_export_response(request, estates, ESTATE_COLUMNS, "estate-follow-ups", fmt,
                                        client_of=lambda estate: estate.case.client_id)
    page = Paginator(estates, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, [estate.case.client_id for estate in page])
    return render(request, "debt/estates/estate_queue.html", {"page_obj": page, "today": today})


@role_required(ESTATE_WORKERS)
def estate_open(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    case = None
    if (case_pk := request.GET.get("case", "")).isdigit():  # add estate details to this existing case
        case = get_object_or_404(Case, pk=int(case_pk), client=client)
    form = OpenForm(request.POST or None, client=client)
    estate = handle(request, form, lambda d: services.estate_open(client=client, actor=request.user, case=case,
                                                                  representative=d.get("representative")))
    if estate:
        messages.success(request, f"Estate case {estate.reference} opened")
        return redirect("debt:estate_detail", pk=estate.pk)
    summary = [("Client", f"{client.full_name} ({client.reference})"),
               ("Date of death", f"{client.date_of_death:%-d %B %Y}" if client.date_of_death else "Not recorded")]
    if case:
        summary.append(("Case", f"{case.reference}: {case.title}"))
    log_record_views(request, client)
    return render(request, "casework/form_page.html", {
        "form": form, "title": f"Open an estate case for {client.full_name}", "summary": summary,
        "back_url": reverse("casework:client_detail", args=[client.pk])})


@role_required(READERS)
def estate_detail(request, pk: int):
    estate = _estate(pk)
    client = estate.case.client
    log_record_views(request, client)
    return render(request, "debt/estates/estate_detail.html", {
        "estate": estate, "client": client, "invoices": owed_invoices(client),
        "letters": Letter.objects.filter(case=estate.case).order_by("-created_at", "-pk"),
        "follow_ups": estate.follow_ups.select_related("recorded_by")[:20],
        "overdue": estate.stage != EstateStage.CLOSED and estate.next_follow_up_on <= timezone.localdate(),
        "can_work": has_any_role(request.user, ESTATE_WORKERS) and estate.stage != EstateStage.CLOSED})


@role_required(ESTATE_WORKERS)
def estate_details(request, pk: int):
    estate = _estate(pk)
    initial = {"representative": estate.representative_id, "estimated_value": estate.estimated_value}
    form = DetailsForm(request.POST or None, initial=initial, client=estate.case.client)
    done = handle(request, form, lambda d: services.estate_update_details(
        estate=estate, actor=request.user, representative=d.get("representative"),
        estimated_value=d.get("estimated_value")))
    if done:
        messages.success(request, "Estate details saved")
        return redirect("debt:estate_detail", pk=pk)
    return _form_page(request, form, "Personal representative and estate value", estate)


@role_required(ESTATE_WORKERS)
def estate_probate(request, pk: int):
    estate = _estate(pk)
    initial = {"status": estate.probate_status, "search_on": estate.probate_search_on,
               "grant_on": estate.grant_issued_on, "grant_reference": estate.grant_reference}
    form = ProbateForm(request.POST or None, initial=initial)
    done = handle(request, form, lambda d: services.estate_record_probate(
        estate=estate, status=d["status"], actor=request.user, search_on=d.get("search_on"),
        grant_on=d.get("grant_on"), grant_reference=d.get("grant_reference", "")))
    if done:
        messages.success(request, "Probate recorded")
        return redirect("debt:estate_detail", pk=pk)
    return _form_page(request, form, "Probate", estate)


@role_required(ESTATE_WORKERS)
def estate_claim(request, pk: int):
    estate = _estate(pk)
    form = ConfirmForm(request.POST or None, submit_label="Send the claim")
    letter = handle(request, form, lambda d: services.estate_send_claim(estate=estate, actor=request.user))
    if letter:
        messages.success(request, f"Claim sent to {letter.recipient_name}")
        return redirect("debt:estate_detail", pk=pk)
    rep = estate.representative
    summary = _summary(estate) + [("Goes to", f"{rep.name} ({rep.get_kind_display().lower()})" if rep else
                                   "The personal representatives, at the client's last address (none recorded)")]
    return _form_page(request, form, "Send the claim to the personal representative", estate, summary)


@role_required(ESTATE_WORKERS)
def estate_follow_up(request, pk: int):
    estate = _estate(pk)
    form = FollowUpForm(request.POST or None)
    done = handle(request, form, lambda d: services.estate_record_follow_up(
        estate=estate, note=d["note"], contact_made=d["contact_made"], actor=request.user, next_on=d.get("next_on")))
    if done:
        messages.success(request, f"Follow-up recorded: next follow-up {done.next_follow_up_on:%-d %B %Y}")
        return redirect("debt:estate_detail", pk=pk)
    summary = _summary(estate) + [("Next follow-up was", f"{estate.next_follow_up_on:%-d %B %Y}")]
    return _form_page(request, form, "Record a follow-up", estate, summary)


@role_required(ESTATE_WORKERS)
def estate_outcome(request, pk: int):
    estate = _estate(pk)
    form = OutcomeForm(request.POST or None)
    done = handle(request, form, lambda d: services.estate_close(estate=estate, outcome=d["outcome"],
                                                                 note=d["note"], actor=request.user))
    if done:
        text = f"Estate case {done.reference} closed: {done.get_outcome_display().lower()}"
        if done.write_off:
            text += f". Write-off {done.write_off.reference} sent for approval"
        messages.success(request, text)
        return redirect("debt:estate_detail", pk=pk)
    summary = _summary(estate) + [("Paid since the death", format_pounds(estate.payments_since_death))]
    return _form_page(request, form, "Record the outcome", estate, summary)

