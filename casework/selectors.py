"""Reads: balances, statements, search and work queues. Pages, exports, the API and jobs use these."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from casework.constants import AccountKind
from casework.models import Account, Case, Client, LedgerEntry, Task
from casework.money import ZERO, to_pennies


def account_balance(account: Account, as_of: date | None = None) -> Decimal:
    """What the client owes on this account (negative: in credit), from the entries alone."""
    entries = account.entries.all()
    if as_of:
        entries = entries.filter(effective_date__lte=as_of)
    return to_pennies(entries.aggregate(total=Sum("amount"))["total"] or ZERO)


def client_balance(client: Client, kind: str = AccountKind.CLIENT_CHARGES) -> Decimal:
    total = LedgerEntry.objects.filter(account__client=client, account__kind=kind).aggregate(total=Sum("amount"))["total"]
    return to_pennies(total or ZERO)


@dataclass
class StatementLine:
    entry: LedgerEntry
    balance: Decimal


@dataclass
class Statement:
    account: Account
    start: date | None
    end: date | None
    opening: Decimal
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.opening

    @property
    def debits(self) -> Decimal:
        return to_pennies(sum((l.entry.amount for l in self.lines if l.entry.amount > 0), ZERO))

    @property
    def credits(self) -> Decimal:
        return to_pennies(sum((-l.entry.amount for l in self.lines if l.entry.amount < 0), ZERO))


def statement(account: Account, start: date | None = None, end: date | None = None) -> Statement:
    """Entries in the period in effective-date order, with a running balance from the opening balance."""
    opening = ZERO
    entries = account.entries.select_related("posted_by", "reverses").order_by("effective_date", "id")
    if start:
        before = account.entries.filter(effective_date__lt=start).aggregate(total=Sum("amount"))["total"]
        opening = to_pennies(before or ZERO)
        entries = entries.filter(effective_date__gte=start)
    if end:
        entries = entries.filter(effective_date__lte=end)
    result = Statement(account=account, start=start, end=end, opening=opening)
    running = opening
    for entry in entries:
        running = to_pennies(running + entry.amount)
        result.lines.append(StatementLine(entry=entry, balance=running))
    return result


def statements_for(accounts: list[Account], start: date | None, end: date | None) -> dict[int, Statement]:
    """The statements of many accounts for one period in two queries (for batch runs), keyed by
    account id; the same figures as `statement` gives one by one."""
    by_id = {a.pk: a for a in accounts}
    openings = {}
    if start:
        rows = (LedgerEntry.objects.filter(account_id__in=by_id, effective_date__lt=start).values("account_id")
                .annotate(total=Sum("amount")).values_list("account_id", "total"))
        openings = {account_id: to_pennies(total) for account_id, total in rows}
    entries = LedgerEntry.objects.filter(account_id__in=by_id).select_related("reverses").order_by(
        "account_id", "effective_date", "id")
    if start:
        entries = entries.filter(effective_date__gte=start)
    if end:
        entries = entries.filter(effective_date__lte=end)
    result = {pk: Statement(account=a, start=start, end=end, opening=openings.get(pk, ZERO)) for pk, a in by_id.items()}
    running = {pk: st.opening for pk, st in result.items()}
    for entry in entries:
        running[entry.account_id] = to_pennies(running[entry.account_id] + entry.amount)
        result[entry.account_id].lines.append(StatementLine(entry=entry, balance=running[entry.account_id]))
    return result


# --- Search -----------------------------------------------------------------------------------

#: Other apps register functions that map a search term to client ids (an invoice number, a deferred
#: payment agreement number ...). Each takes the term and returns a Q over Client or None.
SEARCH_PROVIDERS: list[Callable[[str], Q | None]] = []


def register_search_provider(provider: Callable[[str], Q | None]) -> Callable[[str], Q | None]:
    SEARCH_PROVIDERS.append(provider)
    return provider


def search_clients(term: str) -> QuerySet[Client]:
    """Find clients by name, social care reference, NHS number, postcode, or any registered number.

    On PostgreSQL the name, reference and postcode lookups use trigram GIN indexes (migration 0002),
    so a part-word search stays fast at county scale; on SQLite the same query runs unindexed.
    """
    term = " ".join(term.split())
    if not term:
        return Client.objects.none()
    compact = term.replace(" ", "")
    query = Q(reference__iexact=term) | Q(postcode__iexact=_postcode_form(compact))
    if compact.isdigit() and len(compact) == 10:
        query |= Q(nhs_number=compact)
    if len(compact) >= 3 and any(ch.isdigit() for ch in compact):
        query |= Q(reference__icontains=compact) | Q(postcode__istartswith=term.upper())
    words = [w for w in term.split() if not any(ch.isdigit() for ch in w)]
    if words:
        name_query = Q()
        for word in words:
            name_query &= Q(last_name__icontains=word) | Q(first_name__icontains=word)
        query |= name_query
    for provider in SEARCH_PROVIDERS:
        extra = provider(term)
        if extra is not None:
            query |= extra
    return Client.objects.filter(query).order_by("last_name", "first_name", "reference")


def _postcode_form(compact: str) -> str:
    compact = compact.upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def database_is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- Work queues --------------------------------------------------------------------------------


def my_cases(user) -> QuerySet[Case]:
    return Case.objects.assigned_to(user).select_related("client", "team", "assigned_officer")


def my_tasks(user) -> QuerySet[Task]:
    return Task.objects.for_officer(user).select_related("case", "case__client")


def team_queue(user) -> QuerySet[Case]:
    """The queue a team leader works: unassigned and escalated cases of the teams they lead
    (all teams if they lead none, so a queue is never invisible)."""
    teams = user.led_teams.all()
    if not teams.exists():
        from casework.models import Team

        teams = Team.objects.all()
    return Case.objects.team_queue(teams).select_related("client", "team", "assigned_officer")
