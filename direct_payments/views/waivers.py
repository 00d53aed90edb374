"""The page where an officer asks to waive an audit's surplus instead of recovering it. The
request goes to the approvals page; someone else decides."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from casework.money import format_pounds
from casework.services import DomainError
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import services
from ..constants import AuditStatus
from ..forms import SurplusWaiverForm
from ..models import Audit
from .common import DP_OFFICERS, form_page


@role_required(DP_OFFICERS)
def surplus_waive(request, pk: int):
    audit = get_object_or_404(Audit.objects.select_related("agreement__client"), pk=pk)
    back = reverse("direct_payments:audit_detail", args=[audit.pk])
    if request.method == "GET" and audit.status != AuditStatus.IN_REVIEW:
        messages.error(request, f"Audit {audit.reference} is {audit.get_status_display().lower()}: a waiver is asked "
                                "for while it is in review")
        return redirect(back)
    form = SurplusWaiverForm(request.POST or None)
    done = handle(request, form, lambda d: services.surplus_waiver_request(
        audit=audit, reason_kind=d["reason_kind"], reason=d["reason"], actor=request.user))
    if done:
        messages.success(request, f"Waiver of the {format_pounds(done.amount)} surplus sent for approval as "
                                  f"{done.reference}: someone else decides, and the audit waits until then")
        return redirect("casework:control_request_detail", pk=done.pk)
    summary = [("Audit", audit.reference), ("Client", audit.agreement.client.full_name),
               ("Period", f"{audit.period_start:%-d %B %Y} to {audit.period_end:%-d %B %Y}")]
    try:
        summary += services.working_for(audit).steps()
    except DomainError as exc:
        summary.append(("Surplus", exc.message))
    summary.append(("Who decides", "Someone other than you, within their approval limit. If it is approved, nothing "
                                   "is recovered and the audit is completed; if not, it comes back to you"))
    log_record_views(request, audit.agreement.client_id)
    return form_page(request, form, f"Ask to waive the surplus of audit {audit.reference}", back, summary)
