"""Payment runs: prepare (a job on the runs engine), review, release, download the files.

The approval page shows each provider's payment against the commissioned cost of what it pays for,
its previous run and its usual payment (flagging the unusual), and every line overridden by hand;
the run's exceptions page lists what was flagged, overridden or decided by hand, records that the
person opened it, and only someone who has opened it may release the run."""
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from casework.calendar import bacs_cycle
from casework.exports import MONEY, Column, export_response, requested_format
from casework.money import format_pounds
from casework.roles import has_any_role
from casework.runs.services import run_start
from casework.views.access import log_record_views, role_required
from casework.views.forms import handle

from ..constants import PaymentRunStatus
from ..forms import ConfirmForm, RunStartForm
from ..models import ClaimLine, Payment, PaymentRun, ScheduledPayment
from ..services.payment_run import JOB_CODE, payment_run_transition, run_totals_balance
from ..services.run_review import exceptions_open, exceptions_opened_by, flag_rule_on, run_exceptions
from .common import LEADERS, VIEWERS, cell, form_page, list_page, money

RUN_COLUMNS = [
    Column("Run", lambda r: r.reference), Column("Payment date", lambda r: r.payment_date),
    Column("Status", lambda r: r.get_status_display()), Column("Payments", lambda r: r.payment_count),
    Column("Total", lambda r: r.total, kind=MONEY), Column("Released", lambda r: r.released_at),
]
EXCEPTION_COLUMNS = [
    Column("Exception", lambda e: e["kind"]), Column("Provider", lambda e: e["provider"]),
    Column("Reference", lambda e: e["reference"]), Column("Amount", lambda e: e["amount"], kind=MONEY),
    Column("Detail", lambda e: e["detail"]), Column("By", lambda e: e["who"]), Column("When", lambda e: e["when"]),
    Column("Why", lambda e: e["why"]), Column("Approved by", lambda e: e["approved_by"]),
]
PAYMENT_COLUMNS = [
    Column("Provider", lambda p: p.provider.name), Column("Supplier number", lambda p: p.provider.supplier_number),
    Column("Gross", lambda p: p.gross, kind=MONEY), Column("Offset", lambda p: p.offset, kind=MONEY),
    Column("Net", lambda p: p.net, kind=MONEY),
    Column("Bacs reference", lambda p: p.bacs_reference),
]


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _counted(exceptions) -> str:
    def n(count, one, many):
        return f"{count} {one if count == 1 else many}"
    return ", ".join([n(len(exceptions.flagged), "unusual payment", "unusual payments"),
                      n(len(exceptions.overrides), "line overridden by hand", "lines overridden by hand"),
                      n(len(exceptions.disputes), "upheld dispute", "upheld disputes")])


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%d %b %Y %H:%M}" if moment else ""


def run_review(payment_run: PaymentRun) -> dict:
    """The tables an approver checks (templates provider_payments/runs/review.html)."""
    exceptions = run_exceptions(payment_run)
    rule = flag_rule_on(payment_run.payment_date)
    rows = []
    for r in exceptions.reviews:
        p = r.payment
        rows.append([
            cell(p.provider.name, reverse("provider_payments:provider_detail", args=[p.provider_id])),
            money(p.gross), money(r.commissioned), money(r.against_commissioned), money(p.net),
            cell(f"{format_pounds(r.previous.net)} ({r.previous.payment_run.reference})" if r.previous
                 else "No earlier run"),
            money(r.against_previous) if r.previous else cell(""),
            money(r.usual) if r.usual is not None else cell(""),
            cell("Flagged", tag="red") if r.flagged else cell("")])
    providers = {"caption": "Each provider's payment", "empty": "No providers were due.", "rows": rows,
                 "headers": [("Provider", False), ("Gross", True), ("Commissioned for the period", True),
                             ("Gross against commissioned", True), ("To pay", True), ("Previous run", False),
                             ("Change on the previous run", True),
                             (f"Usual (median of last {rule.usual_runs} runs)", True), ("Check", False)]}
    overrides = {"caption": "Lines overridden by hand", "empty": "No line of the claims this run pays was overridden.",
                 "headers": [("Provider", False), ("Claim", False), ("Row", True), ("Payable before", True),
                             ("Payable after", True), ("Overridden by", False), ("When", False), ("Why", False),
                             ("Approved by", False)],
                 "rows": [[cell(o.claim.provider.name),
                           cell(o.claim.reference, reverse("provider_payments:claim_detail", args=[o.claim_id])),
                           cell(o.line.row_number, numeric=True), money(o.payable_before), money(o.payable_amount),
                           cell(_who(o.made_by)), cell(_when(o.made_at)), cell(o.note),
                           cell(f"{_who(o.approved_by)} ({o.request.reference})" if o.request_id
                                else "Not needed: within the claim and its commissioned cost")]
                          for o in exceptions.overrides]}
    disputes = {"caption": "Upheld disputes paid", "empty": "No upheld dispute is paid in this run.",
                "headers": [("Provider", False), ("Dispute", False), ("Claim", False), ("Amount", True),
                            ("Decided by", False), ("When", False), ("Why", False)],
                "rows": [[cell(d.provider.name), cell(d.reference, reverse("provider_payments:dispute_detail",
                                                                             args=[d.pk])),
                          cell(d.claim.reference), money(d.outcome_amount), cell(_who(d.decided_by)),
                          cell(_when(d.decided_at)), cell(d.outcome_note)] for d in exceptions.disputes]}
    return {"exceptions": exceptions, "providers": providers, "overrides": overrides, "disputes": disputes,
            "flag_notes": [(r.payment.provider.name, note) for r in exceptions.reviews for note in r.flags]}


def exception_rows(exceptions) -> list[dict]:
    rows = [{"kind": "Unusual payment", "provider": r.payment.provider.name, "reference": r.payment.bacs_reference,
             "amount": r.payment.net, "detail": "; ".join(r.flags), "who": "", "when": None, "why": "",
             "approved_by": ""} for r in exceptions.flagged]
    rows += [{"kind": "Line overridden by hand", "provider": o.claim.provider.name,
              "reference": f"{o.claim.reference} row {o.line.row_number}", "amount": o.change,
              "detail": f"{o.get_result_before_display()} {format_pounds(o.payable_before)} to "
                        f"{o.get_result_display().lower()} {format_pounds(o.payable_amount)}",
              "who": _who(o.made_by), "when": o.made_at, "why": o.note,
              "approved_by": f"{_who(o.approved_by)} ({o.request.reference})" if o.request_id else ""}
             for o in exceptions.overrides]
    rows += [{"kind": "Upheld dispute", "provider": d.provider.name, "reference": d.reference,
              "amount": d.outcome_amount, "detail": f"On claim {d.claim.reference}", "who": _who(d.decided_by),
              "when": d.decided_at, "why": d.outcome_note, "approved_by": ""} for d in exceptions.disputes]
    return rows


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
    review = run_review(payment_run)
    exceptions = review["exceptions"]
    links = [(f"Exceptions ({exceptions.count})", reverse("provider_payments:run_exceptions", args=[pk])),
             ("Processing log", reverse("casework:run_detail", args=[payment_run.run_id]))]
    if released:
        links += [("Download the Bacs file", reverse("provider_payments:run_file", args=[pk, "bacs"])),
                  ("Download the finance journal", reverse("provider_payments:run_file", args=[pk, "journal"]))]
    summary = [*_bacs_days(payment_run), ("Status", payment_run.get_status_display()),
               ("Payments", payment_run.payment_count), ("Total by Bacs", format_pounds(payment_run.total)),
               ("Totals balance", "Yes" if run_totals_balance(payment_run) else "No"),
               ("Exceptions", _counted(exceptions)),
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
        "tables": [table, review["overrides"]], "exportable": True, "back_url": reverse("provider_payments:run_list")})


def _bacs_days(payment_run) -> list[tuple[str, str]]:
    """The run's Bacs days (casework.calendar.bacs_cycle): input, processing and payment (entry)."""
    try:
        cycle = bacs_cycle(payment_run.run.business_date)
    except ValueError:  # a run recorded before run dates had to be working days
        return [("Payment date", f"{payment_run.payment_date:%d %B %Y}")]
    return [("Run date (Bacs input day)", f"{cycle.input_day:%d %B %Y}"),
            ("Bacs processing day", f"{cycle.processing_day:%d %B %Y}"),
            ("Payment date", f"{payment_run.payment_date:%d %B %Y}")]


@role_required(LEADERS)
def run_release(request, pk: int):
    payment_run = get_object_or_404(PaymentRun.objects.select_related("run__started_by"), pk=pk)
    form = ConfirmForm(request.POST or None)
    form.submit_label = "Approve and release"
    done = handle(request, form, lambda d: payment_run_transition(payment_run=payment_run,
                                                                  to_status=PaymentRunStatus.RELEASED,
                                                                  actor=request.user, reason=d["note"]))
    if done:
        messages.success(request, f"Payment run {done.reference} released")
        return redirect("provider_payments:run_detail", pk=pk)
    review = run_review(payment_run)
    exceptions = review["exceptions"]
    summary = [*_bacs_days(payment_run), ("Status", payment_run.get_status_display()),
               ("Payments", payment_run.payment_count), ("Total by Bacs", format_pounds(payment_run.total)),
               ("Started by", _who(payment_run.run.started_by) or "The schedule"),
               ("Exceptions", _counted(exceptions))]
    return render(request, "provider_payments/runs/release.html", {
        "form": form, "title": f"Approve payment run {payment_run.reference}", "summary": summary, "review": review,
        "back_url": reverse("provider_payments:run_detail", args=[pk]), "exception_count": exceptions.count,
        "opened": exceptions_opened_by(payment_run, request.user),
        "exceptions_url": reverse("provider_payments:run_exceptions", args=[pk])})


@role_required(VIEWERS)
def run_exceptions_view(request, pk: int):
    """The run's exceptions. Opening the page is recorded: the run's releaser must have opened it."""
    payment_run = get_object_or_404(PaymentRun, pk=pk)
    review = run_review(payment_run)
    exceptions = review["exceptions"]
    if fmt := requested_format(request):
        return export_response(exception_rows(exceptions), EXCEPTION_COLUMNS, f"exceptions-{payment_run.reference}",
                               fmt)
    prepared = payment_run.status == PaymentRunStatus.PREPARED
    opened = (exceptions_open(payment_run=payment_run, user=request.user) if prepared
              else exceptions_opened_by(payment_run, request.user))
    flagged = {"caption": "Unusual payments", "empty": "No payment in this run is unusual.",
               "headers": [("Provider", False), ("To pay", True), ("Why it is flagged", False)],
               "rows": [[cell(r.payment.provider.name, reverse("provider_payments:provider_detail",
                                                               args=[r.payment.provider_id])),
                         money(r.payment.net), cell("; ".join(r.flags))] for r in exceptions.flagged]}
    release_url = (reverse("provider_payments:run_release", args=[pk])
                   if prepared and has_any_role(request.user, LEADERS) else "")
    return render(request, "provider_payments/runs/exceptions.html", {
        "title": f"Exceptions of payment run {payment_run.reference}", "payment_run": payment_run, "review": review,
        "flagged": flagged, "opened": opened, "release_url": release_url,
        "back_url": reverse("provider_payments:run_detail", args=[pk])})


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
    # The advice lists the claim lines and scheduled care it pays, each naming its client.
    log_record_views(request, ClaimLine.objects.filter(claim__payment=payment).values_list("client_id", flat=True),
                     ScheduledPayment.objects.filter(payment=payment).values_list("package__client_id", flat=True))
    return FileResponse(default_storage.open(payment.remittance.name, "rb"), as_attachment=True,
                        filename=payment.remittance.name.rsplit("/", 1)[-1], content_type="application/pdf")
