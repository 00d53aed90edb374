"""The casework app's own scheduled job: statements of account, as letters in a print batch."""
from datetime import date

from django.db.models import Prefetch, Sum

from casework.constants import AccountKind, CaseStatus
from casework.models import Account, Case, Client, LedgerEntry, Representative, Run, RunItem
from casework.selectors import statements_for

from .print_batch import print_batch_build
from .registry import Job, Skip, register_job

STATEMENT_LETTER = "account_statement"


def plan_statements(business_date: date) -> list[str]:
    """Every client whose care charges account has a balance, in either direction, on the date."""
    rows = (
        LedgerEntry.objects.filter(account__kind=AccountKind.CLIENT_CHARGES, effective_date__lte=business_date)
        .values("account__client_id")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("account__client_id")
    )
    return [f"client:{row['account__client_id']}" for row in rows]


def prepare_statements(run: Run, subjects: list[str]) -> dict:
    """Load what the chunk's letters need in a handful of queries: the clients with their
    representatives, held cases and charges account, every statement, and the letter wording."""
    from casework.letters.services import current_template
    from casework.letters.statement import period_start

    ids = [int(s.split(":", 1)[1]) for s in subjects]
    clients = list(Client.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("representatives", queryset=Representative.objects.order_by("start_date", "id")),
        Prefetch("cases", queryset=Case.objects.exclude(hold_reason="").exclude(status=CaseStatus.CLOSED),
                 to_attr="held_cases"),
        Prefetch("accounts", queryset=Account.objects.filter(kind=AccountKind.CLIENT_CHARGES), to_attr="charge_accounts"),
    ))
    accounts = [a for c in clients for a in c.charge_accounts]
    statements = statements_for(accounts, start=period_start(run.business_date), end=run.business_date)
    for client in clients:
        client.statement = statements.get(client.charge_accounts[0].pk) if client.charge_accounts else None
    return {"template": current_template(STATEMENT_LETTER), **{f"client:{c.pk}": c for c in clients}}


def process_statement(run: Run, item: RunItem, prepared: dict) -> str:
    from casework.letters.services import letter_produce

    client = prepared.get(item.subject)
    if client is None:
        raise Skip("The client record no longer exists")
    if client.held_cases:
        held = client.held_cases[0]
        raise Skip(f"{held.reference} is on hold until {held.hold_review_date:%d %B %Y}: {held.hold_reason}")
    from casework.letters.types import get_letter_type

    representatives = list(client.representatives.all())
    context = get_letter_type(STATEMENT_LETTER).build_context(client, run.business_date, representatives=representatives,
                                                              statement=client.statement)
    letter = letter_produce(client=client, letter_type=STATEMENT_LETTER, on=run.business_date, run_item=item,
                            representatives=representatives, context=context, template=prepared["template"])
    return f"Letter {letter.reference} to {letter.recipient_name}"


register_job(Job(
    code="statements",
    name="Statements of account",
    description="A statement letter to every client whose care charges account has a balance, with a print batch.",
    plan=plan_statements,
    prepare=prepare_statements,
    process=process_statement,
    finish=print_batch_build,
    chunk_size=25,
    # 02:30 London time on the first of each month: outside the hour the clocks change in.
    schedule={"minute": "30", "hour": "2", "day_of_month": "1", "month_of_year": "*", "day_of_week": "*"},
))
