"""Claims: import, the validation results, overriding a line, approval; and disputes."""
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import MONEY, NUMBER, Column, personal_export_response, requested_format
from casework.models import ControlRequest
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..constants import ClaimStatus, DisputeStatus, LineResult
from ..forms import ClaimImportForm, ConfirmForm, DisputeDecisionForm, DisputeForm, DisputeNoteForm, OverrideForm
from ..models import Claim, ClaimLine, Dispute
from ..services import claims as services
from ..services import disputes
from .common import VIEWERS, WORKERS, cell, form_page, list_page, money

CLAIM_COLUMNS = [
    Column("Provider", lambda c: c.provider.name), Column("Reference", lambda c: c.reference),
    Column("Source", lambda c: c.get_source_display()), Column("Period start", lambda c: c.period_start),
    Column("Period end", lambda c: c.period_end), Column("Status", lambda c: c.get_status_display()),
    Column("Commissioned cost", lambda c: c.commissioned_cost, kind=MONEY),
]
LINE_COLUMNS = [
    Column("Row", lambda l: l.row_number), Column("Client", lambda l: l.client_reference),
    Column("Service", lambda l: l.service_code), Column("Date", lambda l: l.service_date),
    Column("Start", lambda l: l.start_time.strftime("%H:%M") if l.start_time else ""),
    Column("Planned minutes", lambda l: l.planned_minutes), Column("Actual minutes", lambda l: l.actual_minutes),
    Column("Units", lambda l: l.units, kind=NUMBER), Column("Claimed", lambda l: l.amount, kind=MONEY),
    Column("Payable", lambda l: l.payable_amount, kind=MONEY), Column("Result", lambda l: l.get_result_display()),
    Column("Reason", lambda l: l.reason), Column("Override note", lambda l: l.override_note),
]
RESULT_TAGS = {LineResult.ACCEPTED: "green", LineResult.ADJUSTED: "yellow", LineResult.REJECTED: "red"}
DISPUTE_COLUMNS = [
    Column("Dispute", lambda d: d.reference), Column("Provider", lambda d: d.provider.name),
    Column("Claim", lambda d: d.claim.reference), Column("Opened", lambda d: d.opened_at),
    Column("Status", lambda d: d.get_status_display()), Column("Outcome amount", lambda d: d.outcome_amount, kind=MONEY),
]


@role_required(VIEWERS)
def claim_list(request):
    claims = Claim.objects.select_related("provider").order_by("-imported_at", "-id")
    if request.GET.get("status") in ClaimStatus.values:
        claims = claims.filter(status=request.GET["status"])
    actions = [("Import a claim", reverse("provider_payments:claim_import"))] if has_any_role(request.user, WORKERS) else []
    return list_page(request, title="Claims", queryset=claims, columns=CLAIM_COLUMNS, filename="provider-claims",
                     actions=actions, numeric=("Commissioned cost",), cells=lambda c: [
                         cell(c.provider.name), cell(c.reference, reverse("provider_payments:claim_detail", args=[c.pk])),
                         cell(c.get_source_display()), cell(f"{c.period_start:%d %b %Y}"),
                         cell(f"{c.period_end:%d %b %Y}"), cell(c.get_status_display()), money(c.commissioned_cost)])


@role_required(WORKERS)
def claim_import(request):
    initial = {"provider": request.GET.get("provider")} if request.GET.get("provider", "").isdigit() else {}
    form = ClaimImportForm(request.POST or None, request.FILES or None, initial=initial)
    claim = handle(request, form, lambda d: services.claim_import(
        provider=d["provider"], source=d["source"], reference=d["reference"], period_start=d["period_start"],
        period_end=d["period_end"], data=d["file"].read(), filename=d["file"].name, actor=request.user))
    if claim:
        totals = services.claim_totals(claim)
        messages.success(request, f"Claim {claim.reference} imported: {totals['accepted']} accepted, "
                                  f"{totals['adjusted']} adjusted, {totals['rejected']} rejected")
        return redirect("provider_payments:claim_detail", pk=claim.pk)
    return form_page(request, form, "Import a claim", reverse("provider_payments:claim_list"), multipart=True)


@role_required(VIEWERS)
def claim_detail(request, pk: int):
    claim = get_object_or_404(Claim.objects.select_related("provider", "approved_by", "payment__payment_run"), pk=pk)
    lines = ClaimLine.objects.filter(claim=claim).select_related("overridden_by").order_by("row_number")
    lines_by_id = dict(ClaimLine.objects.filter(claim=claim).values_list("pk", "row_number"))
    if request.GET.get("result") in LineResult.values:
        lines = lines.filter(result=request.GET["result"])
    if fmt := requested_format(request):
        return personal_export_response(request, lines, LINE_COLUMNS, f"claim-{claim.reference}", fmt)
    totals = services.claim_totals(claim)
    editable = claim.status == ClaimStatus.VALIDATED and has_any_role(request.user, WORKERS)
    waiting = {r.payload.get("line"): r for r in services.pending_overrides(claim)}
    cannot_approve = services.why_cannot_approve(claim, request.user) if editable else None
    summary = [("Provider", claim.provider.name), ("Period", f"{claim.period_start:%d %B %Y} to {claim.period_end:%d %B %Y}"),
               ("Source", claim.get_source_display()), ("Status", claim.get_status_display()),
               ("Claimed", format_pounds(totals["claimed"])), ("Payable", format_pounds(totals["payable"])),
               ("Payable hours", f"{totals['payable_hours']} hours" if totals["payable_hours"] else "None"),
               ("Payable by rate period", "; ".join(p.text for p in totals["rate_periods"])
                + (f"; set by hand on lines: {format_pounds(totals['set_by_hand'])}" if totals["set_by_hand"] else "")
                or "Nothing payable"),
               ("Commissioned cost for the period", format_pounds(totals["commissioned"])),
               ("Variance against commissioned", format_pounds(totals["variance"])),
               ("Lines", f"{totals['accepted']} accepted, {totals['adjusted']} adjusted, {totals['rejected']} rejected")]
    if claim.payment_id:
        summary.append(("Paid in", claim.payment.payment_run.reference))
    if waiting:
        summary.append(("Overrides waiting for approval", ", ".join(
            f"row {lines_by_id[line_id]} ({r.reference})" if line_id in lines_by_id else r.reference
            for line_id, r in waiting.items())))
    if cannot_approve:
        summary.append(("Who may approve it", cannot_approve))
    actions = []
    if editable and not cannot_approve:
        actions.append(("Approve claim", reverse("provider_payments:claim_approve", args=[pk])))
    if claim.status in (ClaimStatus.APPROVED, ClaimStatus.PAID) and has_any_role(request.user, WORKERS) and (
            totals["adjusted"] or totals["rejected"]):
        actions.append(("Record a dispute", reverse("provider_payments:dispute_create", args=[pk])))
    def row(l):
        cells = [cell(l.row_number), cell(l.client_reference), cell(f"{l.service_date:%d %b %Y}"),
                 cell(l.start_time.strftime("%H:%M") if l.start_time else ""), money(l.amount), money(l.payable_amount),
                 cell(l.get_result_display(), tag=RESULT_TAGS.get(l.result))]
        if l.pk in waiting:
            r = waiting[l.pk]
            cells.append(cell(f"Override waiting for approval: {format_pounds(Decimal(r.payload['payable_amount']))} "
                              f"asked for ({r.reference})", reverse("casework:control_request_detail", args=[r.pk])))
        else:
            cells.append(cell(l.override_note and f"{l.override_note} (overridden by {_name(l.overridden_by)}; was "
                                                  f"{l.get_validated_result_display().lower()})" or l.reason))
        if editable:
            cells.append(cell("Change result", reverse("provider_payments:claim_line_override", args=[l.pk]))
                         if l.pk not in waiting else cell(""))
        return cells
    line_table = {"caption": "Lines and their results", "empty": "No lines.",
                  "headers": [("Row", False), ("Client", False), ("Date", False), ("Start", False), ("Claimed", True),
                              ("Payable", True), ("Result", False), ("Reason", False)]
                             + ([("Action", False)] if editable else []),
                  "rows": [row(l) for l in lines]}
    log_record_views(request, lines)
    return render(request, "provider_payments/page.html", {
        "title": f"Claim {claim.reference}", "caption": claim.provider.name, "summary": summary, "actions": actions,
        "tables": [line_table], "exportable": True, "back_url": reverse("provider_payments:claim_list"),
        "links": [(f"Show {r} lines only", f"?result={r}") for r in (LineResult.ADJUSTED, LineResult.REJECTED)]})


def _name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"


@role_required(WORKERS)
def claim_line_override(request, pk: int):
    line = get_object_or_404(ClaimLine.objects.select_related("claim", "package", "service_type"), pk=pk)
    form = OverrideForm(request.POST or None, initial={"result": line.result})
    done = handle(request, form, lambda d: services.claim_line_override(
        line=line, result=d["result"], note=d["note"], payable_amount=d["payable_amount"], actor=request.user))
    if isinstance(done, ControlRequest):
        messages.success(request, f"Row {line.row_number}: paying {format_pounds(Decimal(done.payload['payable_amount']))} "
                                  f"needs a second person, so it is waiting for approval as {done.reference}. "
                                  f"The claim cannot be approved until it is decided.")
        return redirect("provider_payments:claim_detail", pk=line.claim_id)
    if done:
        messages.success(request, f"Row {done.row_number} is now {done.get_result_display().lower()}")
        return redirect("provider_payments:claim_detail", pk=line.claim_id)
    ceiling = services.line_ceiling(line)
    alone = max(line.payable_amount, min(ceiling.claimed, ceiling.commissioned_limit))
    if request.method == "GET" and (waiting := services.pending_override_for(line)):
        messages.warning(request, f"An override of this row is waiting for approval ({waiting.reference}): it must be "
                                  f"decided, or withdrawn, before the row can be changed again")
    log_record_views(request, line)
    return form_page(request, form, f"Change the result of row {line.row_number}",
                     reverse("provider_payments:claim_detail", args=[line.claim_id]),
                     [("Client", line.client_reference), ("Date", f"{line.service_date:%d %B %Y}"),
                      ("Claimed", format_pounds(line.amount)), ("Payable", format_pounds(line.payable_amount)),
                      ("Result", line.get_result_display()), ("Reason", line.reason or "None"),
                      ("Commissioned cost of the line", f"{format_pounds(ceiling.commissioned)} ({ceiling.why})"),
                      ("Tolerance", format_pounds(ceiling.tolerance)),
                      ("Needs a second person", f"Paying more than {format_pounds(alone)} on this row: it waits for "
                                                f"a team leader's approval")],
                     caption=f"Claim {line.claim.reference}")


@role_required(WORKERS)
def claim_approve(request, pk: int):
    claim = get_object_or_404(Claim.objects.select_related("provider"), pk=pk)
    form = ConfirmForm(request.POST or None)
    form.submit_label = "Approve claim"
    done = handle(request, form, lambda d: services.claim_transition(
        claim=claim, to_status=ClaimStatus.APPROVED, actor=request.user, reason=d["note"]))
    if done:
        messages.success(request, f"Claim {claim.reference} approved for the next payment run")
        return redirect("provider_payments:claim_detail", pk=pk)
    if request.method == "GET" and claim.status == ClaimStatus.VALIDATED and (
            why := services.why_cannot_approve(claim, request.user)):
        messages.warning(request, why)
    totals = services.claim_totals(claim)
    return form_page(request, form, f"Approve claim {claim.reference}", reverse("provider_payments:claim_detail", args=[pk]),
                     [("Provider", claim.provider.name), ("Payable", format_pounds(totals["payable"])),
                      ("Variance against commissioned", format_pounds(totals["variance"]))])


@role_required(VIEWERS)
def dispute_list(request):
    items = Dispute.objects.select_related("provider", "claim").order_by("-opened_at")
    return list_page(request, title="Disputes", queryset=items, columns=DISPUTE_COLUMNS, filename="provider-disputes",
                     numeric=("Outcome amount",), cells=lambda d: [
                         cell(d.reference, reverse("provider_payments:dispute_detail", args=[d.pk])), cell(d.provider.name),
                         cell(d.claim.reference), cell(f"{d.opened_at:%d %b %Y}"), cell(d.get_status_display()),
                         money(d.outcome_amount)])


@role_required(WORKERS)
def dispute_create(request, pk: int):
    claim = get_object_or_404(Claim.objects.select_related("provider"), pk=pk)
    lines = list(claim.lines.exclude(result=LineResult.ACCEPTED).order_by("row_number"))
    form = DisputeForm(request.POST or None, lines=lines)
    chosen = lambda d: [l for l in lines if str(l.pk) in d["lines"]]  # noqa: E731
    dispute = handle(request, form, lambda d: disputes.dispute_open(claim=claim, lines=chosen(d), reason=d["reason"],
                                                                    actor=request.user))
    if dispute:
        messages.success(request, f"Dispute {dispute.reference} opened")
        return redirect("provider_payments:dispute_detail", pk=dispute.pk)
    log_record_views(request, lines)
    return form_page(request, form, f"Record a dispute on claim {claim.reference}",
                     reverse("provider_payments:claim_detail", args=[pk]))


@role_required(VIEWERS)
def dispute_detail(request, pk: int):
    dispute = get_object_or_404(Dispute.objects.select_related("provider", "claim", "payment__payment_run"), pk=pk)
    lines = list(dispute.lines.order_by("row_number"))
    log_record_views(request, lines)
    tables = [
        {"caption": "Lines in dispute", "headers": [("Row", False), ("Client", False), ("Date", False),
                                                    ("Claimed", True), ("Paid", True), ("Reason", False)],
         "rows": [[cell(l.row_number), cell(l.client_reference), cell(f"{l.service_date:%d %b %Y}"), money(l.amount),
                   money(l.payable_amount), cell(l.reason)] for l in lines]},
        {"caption": "Notes and evidence", "headers": [("When", False), ("Note", False), ("Evidence", False)],
         "rows": [[cell(f"{n.added_at:%d %b %Y %H:%M}"), cell(n.text), cell(n.evidence.name.rsplit('/', 1)[-1]
                                                                              if n.evidence else "")]
                  for n in dispute.notes.all()]},
    ]
    actions = []
    if has_any_role(request.user, WORKERS) and dispute.status in (DisputeStatus.OPEN, DisputeStatus.UNDER_REVIEW):
        actions = [("Record the outcome", reverse("provider_payments:dispute_decide", args=[pk])),
                   ("Add a note", reverse("provider_payments:dispute_note", args=[pk]))]
    summary = [("Provider", dispute.provider.name), ("Claim", dispute.claim.reference), ("Reason", dispute.reason),
               ("Status", dispute.get_status_display()),
               ("Outcome", f"{format_pounds(dispute.outcome_amount)}: {dispute.outcome_note}" if dispute.outcome_amount
                else dispute.outcome_note or "Not decided"),
               ("Paid in", dispute.payment.payment_run.reference if dispute.payment_id else "Not paid")]
    return render(request, "provider_payments/page.html", {
        "title": f"Dispute {dispute.reference}", "summary": summary, "actions": actions, "tables": tables,
        "back_url": reverse("provider_payments:dispute_list")})


@role_required(WORKERS)
def dispute_note(request, pk: int):
    dispute = get_object_or_404(Dispute, pk=pk)
    form = DisputeNoteForm(request.POST or None, request.FILES or None)
    note = handle(request, form, lambda d: disputes.dispute_add_note(dispute=dispute, text=d["text"],
                                                                     evidence=d["evidence"], actor=request.user))
    if note:
        messages.success(request, "Note added")
        return redirect("provider_payments:dispute_detail", pk=pk)
    return form_page(request, form, f"Add a note to {dispute.reference}",
                     reverse("provider_payments:dispute_detail", args=[pk]), multipart=True)


@role_required(WORKERS)
def dispute_decide(request, pk: int):
    dispute = get_object_or_404(Dispute, pk=pk)
    form = DisputeDecisionForm(request.POST or None)
    done = handle(request, form, lambda d: disputes.dispute_transition(
        dispute=dispute, to_status=d["status"], note=d["note"], amount=d["amount"], actor=request.user))
    if done:
        messages.success(request, f"Dispute {done.reference} is {done.get_status_display().lower()}")
        return redirect("provider_payments:dispute_detail", pk=pk)
    return form_page(request, form, f"Outcome of {dispute.reference}", reverse("provider_payments:dispute_detail", args=[pk]))
