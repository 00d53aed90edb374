"""The billing run: one invoice per client for the period due, with the invoice letters in a print batch.

1. plan: the period due on the business date (debt.services.billing.due_period); every client with
   a charge in it, or a charge recorded since their last invoice, not yet invoiced for it.
2. prepare: a chunk's clients, representatives, charges, earlier invoices and lines, suppressions
   and the letter wording, in a few queries.
3. process: skip suppressed clients and clients with nothing to bill; otherwise issue the invoice.
   Holds on cases stop recovery, not billing, so they do not skip a client here.
4. finish: the print batch.
"""
from datetime import date

from django.db.models import Prefetch

from casework.models import Client, Representative, Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError
from casework.services.system import system_user

from .letters import INVOICE_LETTER
from .services import billing as services


def _client_id(subject: str) -> int:
    return int(subject.split(":", 1)[1])


def plan_billing(business_date: date) -> list[str]:
    try:
        period = services.due_period(business_date)
    except DomainError:
        return []  # no billing cycle configured: nothing is due
    return [f"client:{pk}" for pk in services.clients_to_bill(period).values_list("pk", flat=True)]


def prepare_billing(run: Run, subjects: list[str]) -> dict:
    from casework.letters.services import current_template

    ids = [_client_id(s) for s in subjects]
    period = services.due_period(run.business_date)
    clients = Client.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("representatives", queryset=Representative.objects.order_by("start_date", "id")))
    return {
        "period": period,
        "template": current_template(INVOICE_LETTER),
        "data": services.load_billing_data(ids),
        "suppressed": services.suppressions_for(period, ids),
        "actor": run.started_by or system_user(),
        **{f"client:{c.pk}": c for c in clients},
    }


def process_billing(run: Run, item: RunItem, prepared: dict) -> str:
    client = prepared.get(item.subject)
    if client is None:
        raise Skip("The client record no longer exists")
    suppression = prepared["suppressed"].get(client.pk)
    if suppression:
        raise Skip(f"Not invoiced for {prepared['period']}: {suppression.reason}")
    draft = services.draft_for(client, prepared["period"], prepared["data"][client.pk])
    if draft.total == 0:
        raise Skip("Nothing to bill")
    try:
        invoice = services.invoice_issue(client=client, draft=draft, issue_date=run.business_date,
                                         actor=prepared["actor"], run_item=item,
                                         representatives=list(client.representatives.all()),
                                         template=prepared["template"])
    except DomainError as exc:
        raise Skip(exc.message) from exc
    return f"Invoice {invoice.number} for £{invoice.total:,.2f}"


BILLING = register_job(Job(
    code="billing",
    name="Billing",
    description="Invoices for the billing period now due, each with its letter, and a print batch.",
    plan=plan_billing,
    prepare=prepare_billing,
    process=process_billing,
    finish=print_batch_build,
    chunk_size=50,
    # 03:00 London time daily; it only raises invoices when a period has fallen due.
    schedule={"minute": "0", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
