"""The audit page an officer works from, and its actions: upload, review, liabilities, outcome;
the approvals queue and a team leader's decision."""
from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from casework.exports import MONEY, Column, personal_export_response, requested_format
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.services import DomainError
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from .. import services
from ..constants import AuditStatus, Decision, RecoveryStatus
from ..forms import DecisionForm, FlagReviewForm, LiabilityForm, OutcomeForm, ReasonForm, UploadForm
from ..models import Audit, Flag, Liability, Recovery, SurplusWaiver
from ..services.audits import category_totals, misuse_total, period_budget
from ..services.recovery import recovery_steps, why_cannot_decide
from ..statements import StatementRejected
from .common import DP_APPROVERS, DP_OFFICERS, DP_READERS, form_page, page_of

AUDIT_COLUMNS = [
    Column("Audit", lambda a: a.reference),
    Column("Agreement", lambda a: a.agreement.reference),
    Column("Client", lambda a: a.agreement.client.full_name),
    Column("Team", lambda a: a.agreement.team.name),
    Column("Period start", lambda a: a.period_start),
    Column("Period end", lambda a: a.period_end),
    Column("Status", lambda a: a.get_status_display()),
    Column("Statements due", lambda a: a.statements_due_on),
    Column("Officer", lambda a: a.officer.get_full_name() or a.officer.username),
    Column("Flags to review", lambda a: a.to_review),
    Column("Outcome", lambda a: a.get_outcome_display()),
]
LINE_COLUMNS = [
    Column("Date", lambda l: l.date),
    Column("Description", lambda l: l.description),
    Column("Payee", lambda l: l.payee),
    Column("Amount", lambda l: l.amount, kind=MONEY),
    Column("Balance", lambda l: l.balance, kind=MONEY),
    Column("Category", lambda l: l.get_category_display()),
    Column("Matched council payment", lambda l: l.matched_payment_id),
    Column("File", lambda l: l.upload.original_name),
    Column("Row", lambda l: l.row_number),
    Column("Flags", lambda l: "; ".join(f.message for f in l.flags.all())),
]
RECOVERY_COLUMNS = [
    Column("Audit", lambda r: r.audit.reference),
    Column("Client", lambda r: r.audit.agreement.client.full_name),
    Column("Team", lambda r: r.audit.agreement.team.name),
    Column("Basis", lambda r: r.get_basis_display()),
    Column("Route", lambda r: r.get_route_display()),
    Column("Amount", lambda r: r.amount, kind=MONEY),
    Column("Status", lambda r: r.get_status_display()),
    Column("Asked by", lambda r: r.requested_by.get_full_name() or r.requested_by.username),
    Column("Asked on", lambda r: r.requested_at),
    Column("Invoice", lambda r: r.invoice.number if r.invoice_id else ""),
]


def _audits():
    return Audit.objects.select_related("agreement__client", "agreement__team", "officer").annotate(
        to_review=Count("flags", filter=Q(flags__decision="")))


@role_required(DP_READERS)
def audit_list(request):
    audits = _audits().order_by("statements_due_on", "pk")
    status = request.GET.get("status", "")
    if status in AuditStatus.values:
        audits = audits.filter(status=status)
    if fmt := requested_format(request):
        return personal_export_response(request, audits, AUDIT_COLUMNS, "direct-payment-audits", fmt,
                                        client_of=lambda audit: audit.agreement.client_id)
    page = page_of(request, audits)
    log_record_views(request, [audit.agreement.client_id for audit in page])
    return render(request, "direct_payments/audit_list.html", {
        "page_obj": page, "statuses": AuditStatus.choices, "selected": {"status": status}})


@role_required(DP_READERS)
def audit_detail(request, pk: int):
    audit = get_object_or_404(_audits(), pk=pk)
    flags = list(audit.flags.select_related("line", "payment", "reviewed_by").order_by("decision", "line__date", "id"))
    working, working_error = None, ""
    try:
        working = services.working_for(audit)
    except DomainError as exc:  # no statements yet: the page says so
        working_error = exc.message
    can_work = has_any_role(request.user, DP_OFFICERS) and audit.status == AuditStatus.IN_REVIEW
    recovery = audit.recoveries.select_related("requested_by", "decided_by", "invoice", "letter").first()
    lines = audit.lines.all()
    log_record_views(request, audit.agreement.client_id)
    return render(request, "direct_payments/audit_detail.html", {
        "audit": audit, "agreement": audit.agreement, "uploads": audit.uploads.select_related("uploaded_by"),
        "flags": flags, "to_review": sum(1 for f in flags if not f.decision),
        "reviewed": sum(1 for f in flags if f.decision), "totals": category_totals(audit),
        "budget": period_budget(audit), "liabilities": audit.liabilities.all(), "working": working,
        "working_error": working_error, "recovery": recovery, "misuse_total": misuse_total(audit),
        "line_count": lines.count(), "matched": lines.filter(matched_payment__isnull=False).count(),
        "payments_in_period": audit.agreement.payments.filter(
            paid_on__range=(audit.period_start, audit.period_end), amount__gt=0).count(),
        "can_work": can_work, "can_upload": has_any_role(request.user, DP_OFFICERS) and audit.status in (
            AuditStatus.REQUESTED, AuditStatus.IN_REVIEW),
        "can_decide": recovery is not None and why_cannot_decide(recovery, request.user) is None,
        "waiver": SurplusWaiver.objects.filter(audit=audit).select_related("requested_by", "approved_by").first(),
        "waiting_waiver": services.waiting_waiver(audit),
        "can_waive": can_work and working is not None and working.recoverable > 0,
        "decisions": Decision.choices, "events": audit.events.select_related("actor")})


@role_required(DP_READERS)
def line_list(request, pk: int):
    audit = get_object_or_404(Audit.objects.select_related("agreement__client"), pk=pk)
    lines = audit.lines.select_related("upload").prefetch_related(
        Prefetch("flags", queryset=Flag.objects.order_by("id"))).order_by("date", "upload_id", "row_number")
    if category := request.GET.get("category", ""):
        lines = lines.filter(category=category)
    if fmt := requested_format(request):
        return personal_export_response(request, lines, LINE_COLUMNS, f"audit-{audit.pk}-lines", fmt,
                                        client_of=lambda line: audit.agreement.client_id)
    log_record_views(request, audit.agreement.client_id)
    return render(request, "direct_payments/line_list.html", {"audit": audit, "page_obj": page_of(request, lines)})


@role_required(DP_OFFICERS)
def statement_upload(request, pk: int):
    audit = get_object_or_404(Audit.objects.select_related("agreement__client"), pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)

    def run(d):
        try:
            return services.statement_upload(audit=audit, kind=d["kind"], file=d["file"], actor=request.user,
                                             bank_format=d["bank"], new_bank=form.new_bank(),
                                             opening_balance=d.get("opening_balance"),
                                             closing_balance=d.get("closing_balance"))
        except StatementRejected as exc:  # nothing written; each problem its own line in the summary
            for problem in exc.problems:
                form.add_error("file", problem)
            return None

    upload = handle(request, form, run)
    if upload:
        flags = audit.flags.filter(decision="").count()
        messages.success(request, f"'{upload.original_name}' accepted: {upload.rows} transactions, "
                                  f"{flags} flag{'' if flags == 1 else 's'} to review")
        return redirect("direct_payments:audit_detail", pk=audit.pk)
    log_record_views(request, audit.agreement.client_id)
    return form_page(request, form, f"Upload a statement for audit {audit.reference}",
                     reverse("direct_payments:audit_detail", args=[audit.pk]), _audit_summary(audit), multipart=True)


def _audit_summary(audit: Audit) -> list:
    return [("Audit", audit.reference), ("Client", audit.agreement.client.full_name),
            ("Period", f"{audit.period_start:%-d %B %Y} to {audit.period_end:%-d %B %Y}")]


@role_required(DP_OFFICERS)
def flag_review(request, pk: int):
    flag = get_object_or_404(Flag.objects.select_related("audit__agreement__client", "line"), pk=pk)
    form = FlagReviewForm(request.POST or None, initial={"decision": flag.decision, "note": flag.note})
    if handle(request, form, lambda d: services.flag_review(flag=flag, decision=d["decision"], note=d["note"],
                                                            actor=request.user)):
        messages.success(request, f"Decision saved: {flag.message}")
        return redirect(reverse("direct_payments:audit_detail", args=[flag.audit_id]) + "#flags")
    summary = _audit_summary(flag.audit) + [("Flag", flag.message)]
    if flag.line:
        summary.append(("Line", f"{flag.line.date:%-d %B %Y} {flag.line.description} {format_pounds(flag.line.amount)}"))
    log_record_views(request, flag.audit.agreement.client_id)
    return form_page(request, form, "Review a flagged line", reverse("direct_payments:audit_detail",
                                                                      args=[flag.audit_id]), summary)


@role_required(DP_OFFICERS)
def liability_add(request, pk: int):
    audit = get_object_or_404(Audit.objects.select_related("agreement__client"), pk=pk)
    form = LiabilityForm(request.POST or None)
    if handle(request, form, lambda d: services.liability_add(audit=audit, actor=request.user, **d)):
        messages.success(request, "Liability added")
        return redirect(reverse("direct_payments:audit_detail", args=[audit.pk]) + "#liabilities")
    log_record_views(request, audit.agreement.client_id)
    return form_page(request, form, "Add a liability still to pay", reverse("direct_payments:audit_detail",
                                                                             args=[audit.pk]), _audit_summary(audit))


@role_required(DP_OFFICERS)
def liability_remove(request, pk: int):
    liability = get_object_or_404(Liability.objects.select_related("audit__agreement__client"), pk=pk)
    audit = liability.audit
    form = ReasonForm(request.POST or None)
    done = handle(request, form, lambda d: services.liability_remove(liability=liability, actor=request.user,
                                                                     reason=d["reason"]) or True)
    if done:
        messages.success(request, "Liability removed")
        return redirect(reverse("direct_payments:audit_detail", args=[audit.pk]) + "#liabilities")
    log_record_views(request, audit.agreement.client_id)
    return form_page(request, form, "Remove a liability", reverse("direct_payments:audit_detail", args=[audit.pk]),
                     _audit_summary(audit) + [("Liability", f"{liability.description} {format_pounds(liability.amount)}")])


@role_required(DP_OFFICERS)
@require_POST
def audit_reanalyse(request, pk: int):
    audit = get_object_or_404(Audit, pk=pk)
    try:
        result = services.audit_recategorise(audit=audit, actor=request.user)
        messages.success(request, f"Rules applied again: {result['changed']} lines changed category, "
                                  f"{result['flags']} new flags")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("direct_payments:audit_detail", pk=audit.pk)


@role_required(DP_OFFICERS)
def audit_outcome(request, pk: int):
    audit = get_object_or_404(Audit.objects.select_related("agreement__client"), pk=pk)
    form = OutcomeForm(request.POST or None)
    done = handle(request, form, lambda d: services.audit_record_outcome(
        audit=audit, outcome=d["outcome"], note=d["note"], route=d["route"], misuse_referral=d["misuse_referral"],
        actor=request.user))
    if done:
        messages.success(request, f"Outcome recorded: audit {done.reference} is {done.get_status_display().lower()}")
        return redirect("direct_payments:audit_detail", pk=audit.pk)
    summary = _audit_summary(audit)
    try:
        working = services.working_for(audit)
        summary += [("Surplus to recover", format_pounds(working.recoverable))]
    except DomainError:
        pass
    waiting = audit.flags.filter(decision="").count()
    if waiting:
        summary.append(("Flags still to review", str(waiting)))
    log_record_views(request, audit.agreement.client_id)
    return form_page(request, form, f"Record the outcome of audit {audit.reference}",
                     reverse("direct_payments:audit_detail", args=[audit.pk]), summary)


@role_required(DP_READERS)
def recovery_list(request):
    recoveries = Recovery.objects.select_related("audit__agreement__client", "audit__agreement__team", "requested_by",
                                                 "invoice").order_by("-requested_at")
    status = request.GET.get("status", RecoveryStatus.PENDING)
    if status in RecoveryStatus.values:
        recoveries = recoveries.filter(status=status)
    if fmt := requested_format(request):
        return personal_export_response(request, recoveries, RECOVERY_COLUMNS, "direct-payment-recoveries", fmt,
                                        client_of=lambda recovery: recovery.audit.agreement.client_id)
    page = page_of(request, recoveries)
    log_record_views(request, [recovery.audit.agreement.client_id for recovery in page])
    return render(request, "direct_payments/recovery_list.html", {
        "page_obj": page, "statuses": RecoveryStatus.choices, "selected": {"status": status},
        "can_decide": has_any_role(request.user, DP_APPROVERS)})


@role_required(DP_APPROVERS)
def recovery_decide(request, pk: int):
    recovery = get_object_or_404(Recovery.objects.select_related("audit__agreement__client", "requested_by"), pk=pk)
    reason = why_cannot_decide(recovery, request.user)
    if reason and request.method == "GET":
        messages.info(request, reason)
        return redirect("direct_payments:audit_detail", pk=recovery.audit_id)
    form = DecisionForm(request.POST or None)

    def run(d):
        if d["decision"] == "approve":
            return services.recovery_approve(recovery=recovery, actor=request.user, note=d["note"])
        return services.recovery_reject(recovery=recovery, actor=request.user, note=d["note"])

    done = handle(request, form, run)
    if done:
        messages.success(request, f"Recovery {done.get_status_display().lower()}")
        return redirect("direct_payments:audit_detail", pk=recovery.audit_id)
    summary = _audit_summary(recovery.audit) + [
        ("Basis", recovery.get_basis_display()), ("Route", recovery.get_route_display()),
        ("Asked by", recovery.requested_by.get_full_name() or recovery.requested_by.username)]
    summary += recovery_steps(recovery)
    log_record_views(request, recovery.audit.agreement.client_id)
    return form_page(request, form, f"Approve the recovery of {format_pounds(recovery.amount)}",
                     reverse("direct_payments:audit_detail", args=[recovery.audit_id]), summary)


