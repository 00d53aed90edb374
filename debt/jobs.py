"""The billing run: one invoice per client for the period due, with the invoice letters in a print batch.

1. plan: the period due on the business date (debt.services.billing.due_period); every client with
   a charge in it, or a charge recorded since their last invoice, not yet invoiced for it.
2. prepare: a chunk's clients, representatives, charges, earlier invoices and lines, suppressions
   and the letter wording, in a few queries.
3. process_group: skip suppressed clients and clients with nothing to bill; issue the rest of the
   group's invoices set-based (`invoices_issue`). If the group fails, the engine does its items one
   by one (`process`, the same code for one item), so one bad item fails alone. Holds on cases stop
   recovery, not billing, so they do not skip a client here.
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


def _request(item: RunItem, prepared: dict) -> services.InvoiceRequest:
    """What the item would invoice, or Skip: the client gone, suppressed, or nothing to bill."""
    client = prepared.get(item.subject)
    if client is None:
        raise Skip("The client record no longer exists")
    suppression = prepared["suppressed"].get(client.pk)
    if suppression:
        raise Skip(f"Not invoiced for {prepared['period']}: {suppression.reason}")
    draft = services.draft_for(client, prepared["period"], prepared["data"][client.pk])
    if draft.total == 0:
        raise Skip("Nothing to bill")
    return services.InvoiceRequest(client, draft, item, list(client.representatives.all()))


def _outcome(invoice) -> str | Skip:
    if isinstance(invoice, DomainError):
        return Skip(invoice.message)
    return f"Invoice {invoice.number} for £{invoice.total:,.2f}"


def process_billing(run: Run, item: RunItem, prepared: dict) -> str:
    """One item (the engine's fallback when a group fails set-based)."""
    outcome = process_billing_group(run, [item], prepared)[item.pk]
    if isinstance(outcome, Skip):
        raise outcome
    return outcome


def process_billing_group(run: Run, items: list[RunItem], prepared: dict) -> dict:
    """A group of items set-based: their skips, then every invoice in `invoices_issue`'s few statements."""
    answers, requests = {}, []
    for item in items:
        try:
            requests.append(_request(item, prepared))
        except Skip as skip:
            answers[item.pk] = skip
    if requests:
        issued = services.invoices_issue(requests, issue_date=run.business_date, actor=prepared["actor"],
                                         template=prepared["template"])
        answers.update((request.run_item.pk, _outcome(invoice)) for request, invoice in zip(requests, issued))
    return answers


BILLING = register_job(Job(
    code="billing",
    name="Billing",
    description="Invoices for the billing period now due, each with its letter, and a print batch.",
    plan=plan_billing,
    prepare=prepare_billing,
    process=process_billing,
    process_group=process_billing_group,
    finish=print_batch_build,
    # Each group of items is written set-based (a few statements for the whole group), so groups are large.
    chunk_size=500,
    group_size=250,
    # 03:00 London time daily; it only raises invoices when a period has fallen due.
    schedule={"minute": "0", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
