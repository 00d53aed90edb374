"""Waiving what a provider still owes of an overpayment: the page an officer asks from, and the
figures the overpayments list shows. The request goes to the approvals page; someone else decides."""
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from casework.forms import GovForm, MoneyField
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, format_pounds, to_pennies
from casework.views.access import role_required
from casework.views.forms import handle

from ..constants import OverpaymentStatus
from ..models import Overpayment, OverpaymentRecovery, OverpaymentWaiver
from ..services import overpayments
from .common import WORKERS, form_page


def _total_of(model) -> Coalesce:
    rows = model.objects.filter(overpayment=OuterRef("pk")).values("overpayment").annotate(t=Sum("amount")).values("t")
    money = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
    return Coalesce(Subquery(rows, output_field=money), Value(ZERO), output_field=money)


def with_totals(queryset):
    """Overpayments with what was recovered and waived of each (`recovered_total`, `waived_total`)."""
    return queryset.annotate(recovered_total=_total_of(OverpaymentRecovery), waived_total=_total_of(OverpaymentWaiver))


def still_owed(overpayment) -> Decimal | None:
    """What the provider still owes of an approved overpayment (None before approval or once cancelled)."""
    if overpayment.status in (OverpaymentStatus.IDENTIFIED, OverpaymentStatus.CANCELLED):
        return None
    return to_pennies(overpayment.amount - overpayment.recovered_total - overpayment.waived_total)


class WaiverForm(GovForm):
    submit_label = "Ask for the waiver"
    amount = MoneyField(label="Amount to waive, in pounds")
    reason = forms.CharField(label="Why should it be waived?", max_length=1000, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="The person who decides reads this. For example, recovering it would cost more "
                                       "than it brings in, or the council's error was agreed at a dispute")

    def clean_amount(self):
        if self.cleaned_data["amount"] is None:
            raise forms.ValidationError("Enter the amount to waive")
        return self.cleaned_data["amount"]


@role_required(WORKERS)
def overpayment_waive(request, pk: int):
    item = get_object_or_404(Overpayment.objects.select_related("provider"), pk=pk)
    back = reverse("provider_payments:overpayment_list")
    waivable = overpayments.overpayment_waivable(item)
    if request.method == "GET" and waivable <= 0:
        why = ("all of what is still owed already waits for a decision" if item.status == OverpaymentStatus.APPROVED
               else f"it is {item.get_status_display().lower()}; only an overpayment approved for recovery is owed")
        messages.error(request, f"{item.reference} cannot be waived: {why}")
        return redirect(back)
    form = WaiverForm(request.POST or None, initial={"amount": waivable})
    done = handle(request, form, lambda d: overpayments.overpayment_waiver_request(
        overpayment=item, amount=d["amount"], reason=d["reason"], actor=request.user))
    if done:
        messages.success(request, f"Waiver of {format_pounds(done.amount)} of {item.reference} sent for approval as "
                                  f"{done.reference}: someone else decides, and nothing is posted until then")
        return redirect("casework:control_request_detail", pk=done.pk)
    waiting = list(overpayments.overpayment_waivers_waiting(item))
    summary = [("Provider", str(item.provider)), ("Overpayment", f"{item.reference}: {item.description}"),
               ("Amount", format_pounds(item.amount)), ("Recovery", item.get_method_display()),
               ("Recovered so far", format_pounds(overpayments.overpayment_recovered(item))),
               ("Already waived", format_pounds(overpayments.overpayment_waived(item))),
               ("Still owed", format_pounds(overpayments.overpayment_outstanding(item)))]
    if waiting:
        summary.append(("Waiting for a decision", ", ".join(f"{format_pounds(r.amount)} ({r.reference})"
                                                            for r in waiting)))
    summary += [("Most that can be waived", format_pounds(waivable)),
                ("Who decides", "Someone other than you, within their approval limit. Once approved, the provider's "
                                "ledger is credited and that much is no longer offset or invoiced")]
    return form_page(request, form, f"Ask to waive overpayment {item.reference}", back, summary)
