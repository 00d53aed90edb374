"""Payment runs: prepare (a job on the runs engine), review, release, download the files."""
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casework.exports import Column, export_response, requested_format
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.runs.services import run_start
from casework.views.access import role_required
from casework.views.forms import handle

from ..constants import PaymentRunStatus
from ..forms import ConfirmForm, RunStartForm
from ..models import Payment, PaymentRun
from ..services.payment_run import JOB_CODE, payment_run_transition, run_totals_balance
from .common import LEADERS, VIEWERS, cell, form_page, list_page, money

RUN_COLUMNS = [
    Column("Run", lambda r: r.reference), Column("Payment date", lambda r: r.payment_date),
    Column("Status", lambda r: r.get_status_display()), Column("Payments", lambda r: r.payment_count),
    Column("Total", lambda r: r.total), Column("Released", lambda r: r.released_at),
]
PAYMENT_COLUMNS = [
    Column("Provider", lambda p: p.provider.name), Column("Supplier number", lambda p: p.provider.supplier_number),
    Column("Gross", lambda p: p.gross), Column("Offset", lambda p: p.offset), Column("Net", lambda p: p.net),
    Column("Bacs reference", lambda p: p.bacs_reference),
]


@role_required(VIEWERS)
def run_list(request):
    runs = PaymentRun.objects.select_related("run").order_by("-payment_date", "-id")
    actions = [("Prepare a payment run", reverse("provider_payments:run_start"))] if has_any_role(request.user, LEADERS) else []
    return list_page(request, title="Payment runs", queryset=runs, columns=RUN_COLUMNS, filename="provider-payment-runs",
                     actions=actions, numeric=("Payments", "Total"), cells=lambda r: [
                         cell(r.reference, reverse("provider_payments:run_detail", args=[r.pk])),
                         cell(f"{r.payment_date:%d %b %Y}"), cell(r.get_status_display()),
                         cell(r.payment_count, numeric=True), money(r.total),
                         cell(f"{r.released_at:%d %b %Y %H:%M}" if r.released_at else "")])


@role_required(LEADERS)
def run_start_view(request):
    form = RunStartForm(request.POST or None)
    run = handle(request, form, lambda d: run_start(job=JOB_CODE, business_date=d["business_date"], trigger="web",
                                                    actor=request.user))
    if run:
        payment_run = PaymentRun.objects.filter(run=run).first()
        if payment_run:
            messages.success(request, f"Payment run {payment_run.reference} prepared")
            return redirect("provider_payments:run_detail", pk=payment_run.pk)
        messages.success(request, "The payment run has started; it appears here when it has finished")
        return redirect("casework:run_detail", pk=run.pk)
    return form_page(request, form, "Prepare a payment run", reverse("provider_payments:run_list"))


@role_required(VIEWERS)
def run_detail(request, pk: int):
    payment_run = get_object_or_404(PaymentRun.objects.select_related("run", "released_by"), pk=pk)
    payments = Payment.objects.filter(payment_run=payment_run).select_related("provider").order_by("provider__name")
    if fmt := requested_format(request):
        return export_response(payments, PAYMENT_COLUMNS, f"payments-{payment_run.reference}", fmt)
    released = payment_run.status == PaymentRunStatus.RELEASED
    actions = []
    if payment_run.status == PaymentRunStatus.PREPARED and has_any_role(request.user, LEADERS):
        actions.append(("Approve and release", reverse("provider_payments:run_release", args=[pk])))
    links = [("Processing log", reverse("casework:run_detail", args=[payment_run.run_id]))]
    if released:
        links += [("Download the Bacs file", reverse("provider_payments:run_file", args=[pk, "bacs"])),
                  ("Download the finance journal", reverse("provider_payments:run_file", args=[pk, "journal"]))]
    summary = [("Payment date", f"{payment_run.payment_date:%d %B %Y}"), ("Status", payment_run.get_status_display()),
               ("Payments", payment_run.payment_count), ("Total by Bacs", format_pounds(payment_run.total)),
               ("Totals balance", "Yes" if run_totals_balance(payment_run) else "No"),
               ("Released by", payment_run.released_by.get_full_name() or payment_run.released_by.username
                if payment_run.released_by else "Not released: the files are held until a team leader approves")]
    rows = [[cell(p.provider.name, reverse("provider_payments:provider_detail", args=[p.provider_id])),
             money(p.gross), money(p.offset), money(p.net),
             cell("Remittance advice", reverse("provider_payments:remittance", args=[p.pk])) if p.remittance else cell("")]
            for p in payments]
    table = {"caption": "Payments", "headers": [("Provider", False), ("Gross", True), ("Offset", True), ("Net", True),
                                                ("Remittance", False)], "rows": rows, "empty": "No providers were due."}
    return render(request, "provider_payments/page.html", {
        "title": f"Payment run {payment_run.reference}", "summary": summary, "actions": actions, "links": links,
        "tables": [table], "exportable": True, "back_url": reverse("provider_payments:run_list")})


@role_required(LEADERS)
def run_release(request, pk: int):
    payment_run = get_object_or_404(PaymentRun, pk=pk)
    form = ConfirmForm(request.POST or None)
    form.submit_label = "Approve and release"
    done = handle(request, form, lambda d: payment_run_transition(payment_run=payment_run,
                                                                  to_status=PaymentRunStatus.RELEASED,
                                                                  actor=request.user, reason=d["note"]))
    if done:
        messages.success(request, f"Payment run {done.reference} released")
        return redirect("provider_payments:run_detail", pk=pk)
    return form_page(request, form, f"Approve payment run {payment_run.reference}",
                     reverse("provider_payments:run_detail", args=[pk]),
                     [("Payments", payment_run.payment_count), ("Total", format_pounds(payment_run.total))])


@role_required(VIEWERS)
def run_file(request, pk: int, kind: str):
    payment_run = get_object_or_404(PaymentRun, pk=pk)
    if kind not in ("bacs", "journal"):
        raise Http404("No such file")
    if payment_run.status != PaymentRunStatus.RELEASED:
        messages.error(request, "The run's files are released only after a team leader approves it")
        return redirect("provider_payments:run_detail", pk=pk)
    field = payment_run.bacs_file if kind == "bacs" else payment_run.journal_file
    if not field:
        messages.error(request, "This run has no such file (nothing was paid by Bacs)")
        return redirect("provider_payments:run_detail", pk=pk)
    return FileResponse(default_storage.open(field.name, "rb"), as_attachment=True,
                        filename=field.name.rsplit("/", 1)[-1])


@role_required(VIEWERS)
def remittance(request, pk: int):
    payment = get_object_or_404(Payment, pk=pk)
    if not payment.remittance:
        raise Http404("No remittance advice")
    return FileResponse(default_storage.open(payment.remittance.name, "rb"), as_attachment=True,
                        filename=payment.remittance.name.rsplit("/", 1)[-1], content_type="application/pdf")
