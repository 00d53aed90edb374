"""Pages for investigations and legal referrals. Thin: parse, check the role, call one service."""
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.forms import GovForm, MoneyField, _date
from casework.models import Case, Client
from casework.money import format_pounds
from casework.roles import READERS, Role, has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..models import (
    AssetTransfer,
    EnforcementKind,
    Invoice,
    Investigation,
    InvestigationKind,
    LegalReferral,
    ReferralStatus,
)
from ..selectors import with_outstanding
from ..services import legal as services

#: Who may investigate, ask for a referral and record what the court did.
INVESTIGATORS = frozenset({Role.INCOME_OFFICER, Role.RESOURCE_MANAGEMENT_OFFICER})
LEGAL_WORKERS = INVESTIGATORS | {Role.TEAM_LEADER}
#: Who may approve or reject a referral (and never their own).
REFERRAL_DECIDERS = frozenset({Role.TEAM_LEADER})
PAGE_SIZE = 50

REFERRAL_COLUMNS = [
    Column("Reference", lambda r: r.reference),
    Column("Client reference", lambda r: r.client.reference),
    Column("Client", lambda r: r.client.full_name),
    Column("Amount", lambda r: r.amount, kind=MONEY),
    Column("Interest", lambda r: r.interest, kind=MONEY),
    Column("Court fee", lambda r: r.court_fee, kind=MONEY),
    Column("Status", lambda r: r.get_status_display()),
    Column("Requested by", lambda r: r.requested_by.username),
    Column("Requested", lambda r: r.requested_at),
    Column("Claim issued", lambda r: r.claim_issued_on),
    Column("Claim number", lambda r: r.claim_number),
]


def handle_court(request, form, action):
    """casework's `handle`, with each court rule a claim does not meet (CourtRulesNotMet) shown as
    its own message in the error summary; nothing is written."""
    def run(data):
        try:
            with transaction.atomic():
                return action(data)
        except services.CourtRulesNotMet as exc:
            for refusal in exc.refusals:
                form.add_error(None, refusal)
            return None
    return handle(request, form, run)


def _page(request, form, title: str, back_url: str, summary=None):
    return render(request, "casework/form_page.html", {"form": form, "title": title, "back_url": back_url,
                                                       "summary": summary or []})


# Forms -----------------------------------------------------------------------------------------

class InvestigationForm(GovForm):
    submit_label = "Open investigation"
    kind = forms.ChoiceField(label="What is being investigated?", choices=InvestigationKind.choices,
                             widget=forms.RadioSelect)
    findings = forms.CharField(label="What is known so far", required=False, widget=forms.Textarea(attrs={"rows": 4}))


class FindingsForm(GovForm):
    findings = forms.CharField(label="Findings", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    contacts_made = forms.CharField(label="Contacts made (who, when, how)", required=False,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    benefits_check_suggested = forms.BooleanField(label="Suggest a benefits check", required=False)
    benefits_check_note = forms.CharField(label="Benefits the client may be entitled to", required=False,
                                          max_length=1000)


class CloseForm(GovForm):
    submit_label = "Close"
    outcome = forms.CharField(label="Outcome", widget=forms.Textarea(attrs={"rows": 4}))


class TransferForm(GovForm):
    submit_label = "Add transfer"
    asset = forms.CharField(label="Asset transferred", max_length=300)
    transferred_to = forms.CharField(label="Transferred to (full name)", max_length=200)
    relationship = forms.CharField(label="Relationship to the client", max_length=100, required=False)
    transferred_on = _date("Date of transfer")
    value = MoneyField(label="Value at the time of transfer, less encumbrances and sale costs")
    consideration = MoneyField(label="Consideration received by the client", required=False)


class TransferFindingForm(GovForm):
    submit_label = "Record finding"
    deliberate = forms.TypedChoiceField(label="Was this a deliberate deprivation to avoid charges?",
                                        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda v: v == "yes",
                                        widget=forms.RadioSelect)
    reasoning = forms.CharField(label="Reasons", widget=forms.Textarea(attrs={"rows": 4}))


class LiabilityForm(GovForm):
    submit_label = "Raise the third party's debt"
    would_have_charged = MoneyField(label="What the council would have charged but for the transfer")
    actually_charged = MoneyField(label="What the council actually charged")
    address_line_1 = forms.CharField(label="Third party's address", max_length=200)
    town = forms.CharField(label="Town", max_length=100, required=False)
    postcode = forms.CharField(label="Postcode", max_length=8)


class ReferralForm(GovForm):
    submit_label = "Ask for approval"
    note = forms.CharField(label="Why court action is needed", max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice_map = {str(i.pk): i for i in invoices}
        self.fields["invoices"] = forms.MultipleChoiceField(
            label="Invoices to refer", widget=forms.CheckboxSelectMultiple,
            choices=[(str(i.pk), f"{i.number}, due {i.due_date:%-d %B %Y}, {format_pounds(i.outstanding)} owing")
                     for i in invoices])


class NoteForm(GovForm):
    note = forms.CharField(label="Note", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, submit_label: str, required: bool, **kwargs):
        self.submit_label = submit_label
        super().__init__(*args, **kwargs)
        self.fields["note"].required = required


class IssueForm(GovForm):
    submit_label = "Issue claim and make the claim pack"
    issued_on = _date("Date the claim is issued")


class LitigationFriendForm(GovForm):
    submit_label = "Save the litigation friend"
    name = forms.CharField(label="Litigation friend's full name", max_length=200)
    address = forms.CharField(label="Litigation friend's address", widget=forms.Textarea(attrs={"rows": 4}))
    relationship = forms.CharField(label="Relationship to the client", max_length=100,
                                   help_text="For example, daughter, or deputy appointed by the Court of Protection")
    certificate_on = _date("Date of the certificate of suitability (N235)")


class JudgmentForm(GovForm):
    submit_label = "Record judgment"
    judgment_on = _date("Date of judgment")
    amount = MoneyField(label="Judgment amount")
    court_name = forms.CharField(label="Court", max_length=200)
    claim_number = forms.CharField(label="Claim number", max_length=30)


class EnforcementForm(GovForm):
    submit_label = "Record enforcement"
    kind = forms.ChoiceField(label="Kind of enforcement", choices=EnforcementKind.choices, widget=forms.RadioSelect)
    applied_on = _date("Date applied for")
    granted_on = _date("Date granted", required=False)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))


# Investigations ---------------------------------------------------------------------------------

@role_required(INVESTIGATORS)
def investigation_create(request, case_pk: int):
    case = get_object_or_404(Case.objects.select_related("client"), pk=case_pk)
    form = InvestigationForm(request.POST or None)
    done = handle(request, form, lambda d: services.investigation_open(case=case, kind=d["kind"], actor=request.user,
                                                                        findings=d["findings"]))
    if done:
        messages.success(request, f"Investigation {done.reference} opened")
        return redirect("debt:investigation_detail", pk=done.pk)
    log_record_views(request, case.client_id)
    return _page(request, form, f"Open an investigation for {case.client.full_name}",
                 reverse("casework:case_detail", args=[case.pk]))


@role_required(READERS)
def investigation_detail(request, pk: int):
    inv = get_object_or_404(Investigation.objects.select_related("case__client", "officer"), pk=pk)
    log_record_views(request, inv.case.client_id)
    return render(request, "debt/legal/investigation_detail.html", {
        "inv": inv, "transfers": inv.transfers.select_related("third_party_debt__third_party"),
        "can_work": inv.status == "open" and has_any_role(request.user, INVESTIGATORS)})


def _investigation_form(request, pk: int, form_class, action, title: str, **initial):
    inv = get_object_or_404(Investigation.objects.select_related("case__client"), pk=pk)
    form = form_class(request.POST or None, initial={k: getattr(inv, k) for k in initial})
    if handle(request, form, lambda d: action(inv, d)):
        messages.success(request, f"Investigation {inv.reference} updated")
        return redirect("debt:investigation_detail", pk=pk)
    log_record_views(request, inv.case.client_id)
    return _page(request, form, f"{title}: {inv.reference}", reverse("debt:investigation_detail", args=[pk]))


@role_required(INVESTIGATORS)
def investigation_record(request, pk: int):
    return _investigation_form(
        request, pk, FindingsForm, lambda inv, d: services.investigation_record(investigation=inv, actor=request.user,
                                                                                  **d),
        "Record findings", findings=1, contacts_made=1, benefits_check_suggested=1, benefits_check_note=1)


@role_required(INVESTIGATORS)
def investigation_close(request, pk: int):
    return _investigation_form(
        request, pk, CloseForm, lambda inv, d: services.investigation_transition(
            investigation=inv, to="closed", actor=request.user, outcome=d["outcome"]), "Close")


@role_required(INVESTIGATORS)
def transfer_add(request, pk: int):
    return _investigation_form(
        request, pk, TransferForm, lambda inv, d: services.transfer_add(investigation=inv, actor=request.user, **d),
        "Add an asset transfer")


def _transfer_form(request, pk: int, form_class, action, title: str):
    transfer = get_object_or_404(AssetTransfer.objects.select_related("investigation__case"), pk=pk)
    form = form_class(request.POST or None)
    back = reverse("debt:investigation_detail", args=[transfer.investigation_id])
    if handle(request, form, lambda d: action(transfer, d)):
        messages.success(request, f"{title}: done")
        return redirect(back)
    log_record_views(request, transfer.investigation.case.client_id)
    return _page(request, form, f"{title}: {transfer}", back, [
        ("Value", format_pounds(transfer.value)), ("Consideration", format_pounds(transfer.consideration))])


@role_required(INVESTIGATORS)
def transfer_finding(request, pk: int):
    return _transfer_form(request, pk, TransferFindingForm, lambda t, d: services.transfer_finding(
        transfer=t, deliberate=d["deliberate"], reasoning=d["reasoning"], actor=request.user), "Finding")


@role_required(INVESTIGATORS)
def third_party_liability(request, pk: int):
    return _transfer_form(request, pk, LiabilityForm, lambda t, d: services.third_party_liability_create(
        transfer=t, actor=request.user, **d), "Section 70 liability")


# Legal referrals -----------------------------------------------------------------------------------

@role_required(INVESTIGATORS)
def referral_create(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    invoices = with_outstanding(Invoice.objects.filter(client=client, total__gt=0)).filter(
        outstanding__gt=0).order_by("due_date", "number")
    form = ReferralForm(request.POST or None, invoices=invoices)
    case = client.cases.exclude(status="closed").order_by("-opened_at").first()
    done = handle_court(request, form, lambda d: services.referral_request(
        client=client, invoices=[form.invoice_map[k] for k in d["invoices"]], actor=request.user, note=d["note"],
        case=case))
    if done:
        messages.success(request, f"Legal referral {done.reference} sent to a team leader for approval")
        return redirect("debt:referral_detail", pk=done.pk)
    log_record_views(request, client)
    return _page(request, form, f"Refer {client.full_name}'s debt for court action",
                 reverse("casework:client_detail", args=[client.pk]))


@role_required(READERS)
def referral_list(request):
    referrals = LegalReferral.objects.select_related("client", "requested_by")
    status = request.GET.get("status", "")
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    if fmt := requested_format(request):
        return personal_export_response(request, referrals, REFERRAL_COLUMNS, "legal-referrals", fmt)
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    log_record_views(request, page)
    return render(request, "debt/legal/referral_list.html", {
        "page_obj": page,
        "statuses": ReferralStatus.choices, "selected": status})


@role_required(READERS)
def referral_detail(request, pk: int):
    referral = get_object_or_404(LegalReferral.objects.select_related("client", "requested_by", "decided_by"), pk=pk)
    user = request.user
    log_record_views(request, referral)
    open_ = referral.status in (ReferralStatus.REQUESTED, ReferralStatus.APPROVED)
    return render(request, "debt/legal/referral_detail.html", {
        "referral": referral, "invoices": referral.invoices.order_by("due_date"),
        "actions": referral.enforcement_actions.all(),
        "refusals": services.court_refusals(referral) if open_ else [],
        "lacks_capacity": services.lacks_capacity(referral.client, timezone.localdate()) is not None,
        "cannot_decide": services.why_cannot_decide(referral, user),
        "can_work": has_any_role(user, LEGAL_WORKERS)})


def _referral_form(request, pk: int, form, action, title: str):
    referral = get_object_or_404(LegalReferral.objects.select_related("client", "requested_by"), pk=pk)
    done = handle_court(request, form, lambda d: action(referral, d))
    if done:
        messages.success(request, f"Legal referral {referral.reference}: {title.lower()} recorded")
        return redirect("debt:referral_detail", pk=pk)
    log_record_views(request, referral)
    return _page(request, form, f"{title}: {referral.reference}", reverse("debt:referral_detail", args=[pk]), [
        ("Client", f"{referral.client.full_name} ({referral.client.reference})"),
        ("Amount", format_pounds(referral.amount)), ("Status", referral.get_status_display())])


@role_required(REFERRAL_DECIDERS)
def referral_approve(request, pk: int):
    form = NoteForm(request.POST or None, submit_label="Approve", required=False)
    return _referral_form(request, pk, form, lambda r, d: services.referral_approve(
        referral=r, actor=request.user, note=d["note"]), "Approve")


@role_required(REFERRAL_DECIDERS)
def referral_reject(request, pk: int):
    form = NoteForm(request.POST or None, submit_label="Reject", required=True)
    return _referral_form(request, pk, form, lambda r, d: services.referral_reject(
        referral=r, actor=request.user, note=d["note"]), "Reject")


@role_required(LEGAL_WORKERS)
def referral_issue(request, pk: int):
    form = IssueForm(request.POST or None, initial={"issued_on": timezone.localdate()})
    return _referral_form(request, pk, form, lambda r, d: services.referral_issue_claim(
        referral=r, issued_on=d["issued_on"], actor=request.user), "Issue claim")


@role_required(LEGAL_WORKERS)
def referral_litigation_friend(request, pk: int):
    referral = get_object_or_404(LegalReferral, pk=pk)
    form = LitigationFriendForm(request.POST or None, initial={
        "name": referral.litigation_friend_name, "address": referral.litigation_friend_address,
        "relationship": referral.litigation_friend_relationship,
        "certificate_on": referral.litigation_friend_certificate_on})
    return _referral_form(request, pk, form, lambda r, d: services.referral_record_litigation_friend(
        referral=r, actor=request.user, **d), "Litigation friend")


@role_required(LEGAL_WORKERS)
def referral_judgment(request, pk: int):
    return _referral_form(request, pk, JudgmentForm(request.POST or None), lambda r, d: services.referral_record_judgment(
        referral=r, actor=request.user, **d), "Judgment")


@role_required(LEGAL_WORKERS)
def referral_enforcement(request, pk: int):
    return _referral_form(request, pk, EnforcementForm(request.POST or None),
                          lambda r, d: services.referral_record_enforcement(referral=r, actor=request.user, **d),
                          "Enforcement")


@role_required(LEGAL_WORKERS)
def referral_close(request, pk: int):
    form = NoteForm(request.POST or None, submit_label="Close the referral", required=True)
    return _referral_form(request, pk, form, lambda r, d: services.referral_close(
        referral=r, actor=request.user, note=d["note"]), "Close")


@role_required(READERS)
def claim_pack_download(request, pk: int):
    referral = get_object_or_404(LegalReferral, pk=pk)
    if not referral.claim_pack:
        raise Http404("No claim pack has been made for this referral")
    try:
        handle_ = referral.claim_pack.open("rb")
    except FileNotFoundError:
        raise Http404("The claim pack's file is missing")
    log_record_views(request, referral)
    response = FileResponse(handle_, content_type="application/pdf", as_attachment=True,
                            filename=f"claim-pack-{referral.reference}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response
