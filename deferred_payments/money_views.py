"""The pages that ask to waive a fee or reverse a posting on a deferred payment agreement, and
what the agreement page shows of them. Both reduce what the person owes, so each calls a
controlled service: a waiver always waits for another person's approval; a reversal does too
above the reverser's limit. A request sent for approval opens on the approvals page."""
from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect

from casework.forms import GovForm, MoneyField
from casework.models import LedgerEntry
from casework.models.controls import ControlAction, ControlRequest, ControlRequestStatus
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.services.controls import why_cannot_do_alone
from casework.views.access import role_required
from casework.views.forms import handle

from . import services
from .models import Agreement, FeePosting, FeeWaiver, State
from .views import DPA_WRITERS, _agreement, _back, _done, _form_page


def _may_ask(agreement: Agreement, user) -> bool:
    return has_any_role(user, DPA_WRITERS) and agreement.state != State.REPAID


def fee_rows(agreement: Agreement, user) -> list[dict]:
    """Each fee charged, what has been waived and waits, and whether this user may ask to waive it."""
    may = _may_ask(agreement, user)
    return [{"standing": s, "fee": s.fee, "can_waive": may and s.can_ask > 0} for s in services.fee_standings(agreement)]


def ledger_rows(agreement: Agreement, entries: list[LedgerEntry], fees: list[dict], user) -> list[dict]:
    """The ledger as the agreement page shows it: each entry, whether it was reversed or waived a
    fee, and a link to reverse it where that may be asked for (the form checks everything again)."""
    may = _may_ask(agreement, user)
    ids = [e.pk for e in entries]
    reversed_ids = set(LedgerEntry.objects.filter(reverses_id__in=ids).values_list("reverses_id", flat=True))
    waiting = {r.payload.get("entry") for r in ControlRequest.objects.filter(
        action=ControlAction.DPA_REVERSAL, status=ControlRequestStatus.REQUESTED, payload__agreement=agreement.pk)}
    held_fees = {row["fee"].entry_id for row in fees if row["standing"].waived or row["standing"].waiting}
    waivers = set(FeeWaiver.objects.filter(fee__agreement=agreement).values_list("entry_id", flat=True))
    rows = []
    for entry in entries:
        reversible = (may and entry.kind in services.REVERSIBLE_KINDS and entry.amount > 0 and entry.reverses_id is None
                      and entry.pk not in reversed_ids and entry.pk not in waiting and entry.pk not in held_fees)
        rows.append({"entry": entry, "reversed": entry.pk in reversed_ids, "waiting": entry.pk in waiting,
                     "waiver": entry.pk in waivers, "can_reverse": reversible})
    return rows


def _sent_for_approval(request, control: ControlRequest, what: str):
    messages.success(request, f"{what} sent for approval as {control.reference}: someone else decides, and nothing "
                              "is posted until then")
    return redirect("casework:control_request_detail", pk=control.pk)


class FeeWaiverForm(GovForm):
    submit_label = "Ask for the waiver"
    amount = MoneyField(label="Amount to waive, in pounds")
    reason = forms.CharField(label="Why should the fee be waived?", max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="The person who decides reads this. For example, the valuation was charged "
                                       "twice, or the fee was not due under the agreement")

    def clean_amount(self):
        if self.cleaned_data["amount"] is None:
            raise forms.ValidationError("Enter the amount to waive")
        return self.cleaned_data["amount"]


@role_required(DPA_WRITERS)
def fee_waive(request, pk: int):
    fee = get_object_or_404(FeePosting.objects.select_related("entry__account"), pk=pk)
    agreement = _agreement(fee.agreement_id)
    standing = services.fee_standing(fee)
    label = f"{fee.get_kind_display()} fee"
    if request.method == "GET" and (standing.can_ask <= 0 or agreement.state == State.REPAID):
        why = ("the agreement is repaid and closed" if agreement.state == State.REPAID else
               "it was reversed" if standing.reversed else "all of it is waived or waiting for a decision")
        messages.error(request, f"The {label.lower()} {fee.entry.reference} cannot be waived: {why}")
        return redirect(_back(agreement))
    form = FeeWaiverForm(request.POST or None, initial={"amount": standing.can_ask})
    done = handle(request, form, lambda d: services.fee_waiver_request(fee=fee, amount=d["amount"],
                                                                       reason=d["reason"], actor=request.user))
    if done:
        return _sent_for_approval(request, done, f"Waiver of {format_pounds(done.amount)} of the {label.lower()}")
    summary = [("Fee", f"{label} {fee.entry.reference}"), ("Charged", f"{fee.charged_on:%-d %B %Y}"),
               ("Amount charged", format_pounds(fee.amount)),
               ("How it is paid", f"{fee.get_treatment_display()} (account {fee.entry.account.number})")]
    if standing.waived:
        summary.append(("Already waived", format_pounds(standing.waived)))
    if standing.waiting:
        summary.append(("Waiting for a decision", ", ".join(f"{format_pounds(r.amount)} ({r.reference})"
                                                            for r in standing.waiting_requests)))
    summary += [("Most that can be waived", format_pounds(standing.can_ask)),
                ("Who decides", "Someone other than you, within their approval limit. Once approved, a credit "
                                "cancels that much of the fee from the day it was charged, and the interest on it "
                                "is recalculated overnight")]
    return _form_page(request, form, f"Ask to waive the {label.lower()}", agreement, summary=summary)


class ReversalForm(GovForm):
    submit_label = "Reverse the posting"
    reason = forms.CharField(label="Why is it being reversed?", max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="For example, care costs deferred for a week the person was in hospital")


def _agreement_of(entry: LedgerEntry) -> Agreement:
    fee = FeePosting.objects.filter(entry=entry).first()
    agreement_id = fee.agreement_id if fee else (
        Agreement.objects.filter(account_id=entry.account_id).values_list("pk", flat=True).first())
    if agreement_id is None:
        raise Http404("Not a deferred payment posting")
    return _agreement(agreement_id)


@role_required(DPA_WRITERS)
def entry_reverse(request, pk: int):
    entry = get_object_or_404(LedgerEntry.objects.select_related("account"), pk=pk)
    agreement = _agreement_of(entry)
    why = services.why_not_reversible(agreement, entry)
    if why and request.method == "GET":
        messages.error(request, why)
        return redirect(_back(agreement))
    form = ReversalForm(request.POST or None)
    done = handle(request, form, lambda d: services.posting_reverse(agreement=agreement, entry=entry,
                                                                    reason=d["reason"], actor=request.user))
    if isinstance(done, ControlRequest):
        return _sent_for_approval(request, done, f"Reversal of {entry.reference}")
    if done:
        return _done(request, agreement, f"{entry.reference} reversed: {format_pounds(entry.amount)} taken off the "
                                         "account; interest is recalculated overnight")
    alone = why_cannot_do_alone(request.user, ControlAction.DPA_REVERSAL, entry.amount, client=agreement.client)
    summary = [("Entry", f"{entry.get_kind_display()} {entry.reference}"),
               ("Dated", f"{entry.effective_date:%-d %B %Y}"), ("Description", entry.description),
               ("Amount", format_pounds(entry.amount)),
               ("Decision", f"{alone}. Nothing is posted until it is approved" if alone else
                "Within your limit: it is reversed at once, and recorded as done by you alone")]
    return _form_page(request, form, f"Reverse {entry.reference}", agreement, summary=summary)
