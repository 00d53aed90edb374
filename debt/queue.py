"""The team leader's decisions queue: one row per thing waiting for a decision, saying why and since when.

Each kind is one named function `(on) -> list[QueueRow]`, used alike by the page, its counts and
its export (STYLE rule 6). Every function runs a fixed handful of queries however many rows it
returns: the client's balance and open recovery case are fetched for all rows at once.

Not here yet: legal referrals waiting for approval (added with the legal action area).
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import DecimalField, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from casework.constants import CaseStatus, CaseType
from casework.models import Case, Client
from casework.money import DECIMAL_PLACES, MAX_DIGITS, ZERO, format_pounds, to_pennies

from . import limitation
from .constants import HoldKind
from .holds import holds_for_clients
from .models import DebtHold, Invoice, LegalReferral, RepaymentPlan, WriteOffRequest, WriteOffStatus
from .models.legal import ReferralStatus
from .models.relief import PlanStatus
from .selectors import with_outstanding

_MONEY = DecimalField(max_digits=MAX_DIGITS + 4, decimal_places=DECIMAL_PLACES)


@dataclass(frozen=True, slots=True)
class ClientRef:
    """What a row shows of its client. Rows are kept in the shared cache and read back (unpickled)
    on every view of the queue: plain values cost a fraction of model instances to read back."""
    pk: int
    reference: str
    full_name: str

    @classmethod
    def of(cls, client: Client) -> "ClientRef":
        return cls(pk=client.pk, reference=client.reference, full_name=client.full_name)


@dataclass(frozen=True, slots=True)
class CaseRef:
    """What a row shows of its case: its team and officer by name."""
    pk: int
    reference: str
    team_id: int | None
    team_name: str
    officer: str  # the assigned officer's name; "" when unassigned

    @classmethod
    def of(cls, case: Case) -> "CaseRef":
        officer = case.assigned_officer
        return cls(pk=case.pk, reference=case.reference, team_id=case.team_id,
                   team_name=case.team.name if case.team_id else "",
                   officer=(officer.get_full_name() or officer.username) if officer else "")


@dataclass(frozen=True)
class QueueRow:
    kind: str  # a key of KINDS
    client: ClientRef  # given a Client, kept as its ClientRef
    amount: Decimal  # what the row is about: the write-off, the invoice, or else the client's balance
    since: date | None  # None where the source records no date (a safeguarding flag)
    why: str
    link: tuple[str, int]  # (URL name, id): where the decision is made or the detail is read
    case: CaseRef | None  # the case bulk assignment moves; None where the client has no open recovery case

    def __post_init__(self):
        if isinstance(self.client, Client):
            object.__setattr__(self, "client", ClientRef.of(self.client))
        if isinstance(self.case, Case):
            object.__setattr__(self, "case", CaseRef.of(self.case))

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label

    @property
    def url(self) -> str:
        # Reversed when shown: a page shows 25 of the queue's rows, and reversing costs more than the row.
        return reverse(self.link[0], args=[self.link[1]])


# Shared batch reads ----------------------------------------------------------------------------

def balances(client_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """Client id -> what the client still owes on invoices (credit notes aside), for clients who owe
    something; all such clients when `client_ids` is None. One query."""
    invoices = Invoice.objects.filter(total__gt=0)
    if client_ids is not None:
        client_ids = list(client_ids)
        if not client_ids:
            return {}
        invoices = invoices.filter(client_id__in=client_ids)
    rows = (with_outstanding(invoices).values("client_id")
            .annotate(owed=Coalesce(Sum("outstanding"), ZERO, output_field=_MONEY)).filter(owed__gt=0)
            .values_list("client_id", "owed"))
    return {client_id: to_pennies(owed) for client_id, owed in rows}  # SQLite sums decimals inexactly


def open_recovery_cases(client_ids: Iterable[int]) -> dict[int, Case]:
    """Client id -> the client's latest open debt recovery case. One query (none for no clients)."""
    client_ids = list(client_ids)
    if not client_ids:
        return {}
    cases = (Case.objects.filter(client_id__in=client_ids, case_type=CaseType.DEBT_RECOVERY)
             .exclude(status=CaseStatus.CLOSED).select_related("team", "assigned_officer").order_by("client_id", "pk"))
    return {case.client_id: case for case in cases}  # the latest wins


def _clients(client_ids: Iterable[int]) -> dict[int, Client]:
    return Client.objects.in_bulk(list(set(client_ids)))


# The kinds -------------------------------------------------------------------------------------

def writeoffs_awaiting_approval(on: date) -> list[QueueRow]:
    """Write-off requests nobody has approved or rejected yet."""
    requests = list(WriteOffRequest.objects.filter(status=WriteOffStatus.REQUESTED)
                    .select_related("client", "requested_by").order_by("requested_at", "pk"))
    cases = open_recovery_cases(r.client_id for r in requests)
    return [QueueRow(
        kind="writeoff", client=r.client, amount=r.amount, since=r.requested_at.date(),
        why=f"Write-off {r.reference} of {format_pounds(r.amount)} ({r.get_reason_display().lower()}) asked for by "
            f"{r.requested_by.get_full_name() or r.requested_by.username}: waiting for approval",
        link=("debt:writeoff_detail", r.pk), case=cases.get(r.client_id)) for r in requests]


def legal_referrals_awaiting_approval(on: date) -> list[QueueRow]:
    """Legal referrals that need a team leader's approval before a claim is issued."""
    referrals = list(LegalReferral.objects.filter(status=ReferralStatus.REQUESTED)
                     .select_related("client", "requested_by", "case__team", "case__assigned_officer")
                     .order_by("requested_at", "pk"))
    cases = open_recovery_cases(r.client_id for r in referrals)
    return [QueueRow(
        kind="legal", client=r.client, amount=r.amount, since=r.requested_at.date(),
        why=f"Legal referral {r.reference} for {format_pounds(r.amount)} asked for by "
            f"{r.requested_by.get_full_name() or r.requested_by.username}: waiting for approval",
        link=("debt:referral_detail", r.pk), case=r.case or cases.get(r.client_id)) for r in referrals]


#: What a row shows of its case, the case's client, team and officer (the page and its export): a
#: queue of escalated cases reads only these, not every column of four tables per row.
ROW_CASE_FIELDS = ("client_id", "title", "team_id", "assigned_officer_id", "status",
                   "client__reference", "client__title", "client__first_name", "client__last_name",
                   "team__name", "assigned_officer__username", "assigned_officer__first_name",
                   "assigned_officer__last_name")


def _broken_plan_case_ids() -> set[int]:
    return set(RepaymentPlan.objects.filter(status=PlanStatus.BROKEN, case__status=CaseStatus.ESCALATED)
               .values_list("case_id", flat=True))


def escalated_debts(on: date) -> list[QueueRow]:
    """Debt recovery cases escalated to the team leader (by the ladder's thresholds or an officer).
    Cases escalated because a plan broke show under broken plans instead, once."""
    cases = list(Case.objects.filter(case_type=CaseType.DEBT_RECOVERY, status=CaseStatus.ESCALATED)
                 .exclude(pk__in=_broken_plan_case_ids())
                 .select_related("client", "client__debt_recovery", "team", "assigned_officer")
                 .only(*ROW_CASE_FIELDS, "opened_at", "client__debt_recovery__escalated_on").order_by("pk"))
    owed = balances(c.client_id for c in cases)
    rows = []
    for case in cases:
        recovery = getattr(case.client, "debt_recovery", None)
        since = (recovery.escalated_on if recovery and recovery.escalated_on else case.opened_at.date())
        rows.append(QueueRow(
            kind="escalated", client=case.client, amount=owed.get(case.client_id, ZERO), since=since,
            why=f"{case.reference} escalated: {case.title}", link=("casework:case_detail", case.pk),
            case=case))
    return rows


def broken_plans(on: date) -> list[QueueRow]:
    """Repayment plans broken and not yet dealt with: their recovery case is still escalated."""
    plans = list(RepaymentPlan.objects.filter(status=PlanStatus.BROKEN, case__status=CaseStatus.ESCALATED)
                 .select_related("client", "case", "case__team", "case__assigned_officer").order_by("pk"))
    owed = balances(p.client_id for p in plans)
    return [QueueRow(
        kind="broken_plan", client=p.client, amount=owed.get(p.client_id, ZERO), since=p.status_changed_on,
        why=f"Repayment plan of {format_pounds(p.instalment_amount)} a {p.get_frequency_display().lower()} "
            f"instalment broken (times broken: {p.times_broken}): {p.status_reason}",
        link=("debt:plan_detail", p.pk), case=p.case) for p in plans]


def holds_past_review(on: date) -> list[QueueRow]:
    """Officers' holds still in force after their review date: release them or set a new date."""
    holds = list(DebtHold.objects.active_on(on).filter(review_date__lt=on)
                 .select_related("client", "placed_by").order_by("review_date", "pk"))
    ids = [h.client_id for h in holds]
    owed, cases = balances(ids), open_recovery_cases(ids)
    return [QueueRow(
        kind="hold_review", client=h.client, amount=owed.get(h.client_id, ZERO), since=h.review_date,
        why=f"{h.get_kind_display()} hold placed on {h.placed_on:%-d %B %Y} by "
            f"{h.placed_by.get_full_name() or h.placed_by.username} was due for review: {h.note}",
        link=("debt:recovery_detail", h.client_id), case=cases.get(h.client_id)) for h in holds]


#: Holds that need a decision beyond the recovery ladder: an appointeeship or deputyship referral,
#: or a safeguarding plan.
PROTECTION_HOLDS = (HoldKind.NO_AUTHORITY, HoldKind.SAFEGUARDING)


def capacity_and_safeguarding(on: date) -> list[QueueRow]:
    """Clients who owe money whose debt is held because they lack capacity with no one authorised
    over their money, or because of a safeguarding concern. One row per client and kind."""
    held = holds_for_clients(None, on, kinds=PROTECTION_HOLDS)  # a few clients: then what they owe
    owed = balances(held)
    found: dict[tuple[int, str], object] = {}
    for client_id, holds in held.items():
        if client_id not in owed:
            continue
        for hold in holds:
            key = (client_id, hold.kind)
            earlier = found.get(key)
            if earlier is None or (hold.since and (earlier.since is None or hold.since < earlier.since)):
                found[key] = hold
    clients, cases = _clients(k[0] for k in found), open_recovery_cases(k[0] for k in found)
    return [QueueRow(
        kind="protection", client=clients[client_id], amount=owed[client_id], since=hold.since,
        why=f"{HoldKind(kind).label}: {hold.reason}", link=("debt:recovery_detail", client_id),
        case=cases.get(client_id)) for (client_id, kind), hold in sorted(found.items())]


def limitation_warnings(on: date) -> list[QueueRow]:
    """Invoices still owing that are within the warning window before their last day to claim."""
    rule = limitation.rule_on(on)
    invoices = list(limitation.approaching_limitation(on))
    cases = open_recovery_cases(i.client_id for i in invoices)
    return [QueueRow(
        kind="limitation", client=i.client, amount=to_pennies(i.outstanding), since=limitation.warning_from(i.due_date, rule),
        why=f"Invoice {i.number}, due {i.due_date:%-d %B %Y}, can be claimed in court only until "
            f"{limitation.last_day_to_claim(i.due_date, rule):%-d %B %Y}: act or write off",
        link=("debt:invoice_detail", i.pk), case=cases.get(i.client_id)) for i in invoices]


@dataclass(frozen=True)
class Kind:
    label: str
    rows: Callable[[date], list[QueueRow]]


KINDS: dict[str, Kind] = {
    "writeoff": Kind("Write-offs waiting for approval", writeoffs_awaiting_approval),
    "legal": Kind("Legal referrals waiting for approval", legal_referrals_awaiting_approval),
    "escalated": Kind("Escalated debts", escalated_debts),
    "broken_plan": Kind("Broken repayment plans", broken_plans),
    "hold_review": Kind("Holds past their review date", holds_past_review),
    "protection": Kind("Capacity and safeguarding", capacity_and_safeguarding),
    "limitation": Kind("Approaching limitation", limitation_warnings),
}
SORTS = {"since": "Oldest first", "amount": "Largest amount first"}


def decisions(on: date, kinds: Iterable[str] | None = None) -> list[QueueRow]:
    """Every row of the chosen kinds (all by default), oldest first (undated rows last)."""
    rows = [row for key in (kinds or KINDS) for row in KINDS[key].rows(on)]
    return sort_rows(rows, "since")


_KEPT = "careledger:decisions-queue"
_GENERATION = "careledger:decisions-queue:generation"


def decisions_kept(on: date, fresh: bool = False) -> tuple[list[QueueRow], datetime]:
    """Every row and when they were worked out. Building the queue reads every area of debt, so the
    rows are kept in the shared cache for DECISIONS_CACHE_SECONDS and the team leaders' views
    (their pages, filters and sorts) within that time use them. `fresh`, a decision recorded on
    a row (forget()) or a new day builds them again."""
    seconds = settings.DECISIONS_CACHE_SECONDS
    generation = cache.get_or_set(_GENERATION, 0, timeout=None) if seconds > 0 else 0
    if seconds > 0 and not fresh:
        kept = cache.get(_KEPT)
        if kept is not None and kept[0] == (on, generation):
            return kept[2], kept[1]
    rows, built = decisions(on), timezone.now()
    if seconds > 0:  # kept under the generation read before building: a forget() meanwhile wins
        cache.set(_KEPT, ((on, generation), built, rows), seconds)
    return rows, built


def forget(**kwargs) -> None:
    """The kept rows no longer hold (a row's decision was recorded): the first view after the
    change commits builds them again (a view before it would read the old state)."""
    transaction.on_commit(_next_generation)


def _next_generation() -> None:
    try:
        cache.incr(_GENERATION)
    except ValueError:  # no generation kept yet: nothing kept under one either
        cache.delete(_KEPT)


def sort_rows(rows: list[QueueRow], by: str) -> list[QueueRow]:
    if by == "amount":
        return sorted(rows, key=lambda r: (-r.amount, r.since or date.max))
    return sorted(rows, key=lambda r: (r.since is None, r.since or date.max, -r.amount))


def filter_rows(rows: list[QueueRow], *, kind: str = "", team_id: int | None = None) -> list[QueueRow]:
    """Rows of one kind and/or whose case belongs to one team (rows with no case have no team)."""
    if kind:
        rows = [r for r in rows if r.kind == kind]
    if team_id is not None:
        rows = [r for r in rows if r.case is not None and r.case.team_id == team_id]
    return rows


def counts(rows: list[QueueRow]) -> dict[str, int]:
    """Kind -> how many rows, every kind present (zero included), in KINDS order."""
    result = {key: 0 for key in KINDS}
    for row in rows:
        result[row.kind] += 1
    return result
