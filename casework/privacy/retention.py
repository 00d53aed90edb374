"""Retention: which clients are past every retention period in force, and the nightly job that
marks them for review (it never erases anything by itself)."""
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from casework.constants import CaseStatus, TimelineKind
from casework.models import (
    Case,
    Client,
    ErasureRequest,
    ErasureStatus,
    LedgerEntry,
    RetentionReview,
    RetentionReviewStatus,
    RetentionRule,
    RunItem,
    TimelineEntry,
)
from casework.models.privacy import RetentionEvent
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class ClientFacts:
    """What the retention rules need to know about a client."""

    balance_nil: bool
    last_entry: date | None
    open_cases: bool
    last_case_closed: date | None
    date_of_death: date | None
    created: date


@dataclass(frozen=True)
class Verdict:
    past: bool
    ended_on: date | None
    explanation: str


def evaluate(facts: ClientFacts, rules: list[RetentionRule], on: date) -> Verdict:
    """Past retention on `on` when every rule in force has run out (see RetentionRule)."""
    if not rules:
        return Verdict(False, None, "No retention rule is in force")
    ends, reasons = [], []
    for rule in rules:
        if rule.event == RetentionEvent.ACCOUNT_CLOSED:
            if not facts.balance_nil:
                return Verdict(False, None, "An account has a balance")
            start = facts.last_entry or facts.created
        elif rule.event == RetentionEvent.CASES_CLOSED:
            if facts.open_cases:
                return Verdict(False, None, "A case is open")
            start = facts.last_case_closed or facts.created
        else:
            if facts.date_of_death is None:
                continue
            start = facts.date_of_death
        end = add_years(start, rule.years)
        ends.append(end)
        reasons.append(f"{rule.get_record_kind_display().split(' (')[0]}: {rule.years} years from {start:%d %B %Y} "
                       f"ended {end:%d %B %Y}")
        if end > on:
            return Verdict(False, end, f"Retained until {end:%d %B %Y} ({rule})")
    if not ends:
        return Verdict(False, None, "No retention rule applies")
    return Verdict(True, max(ends), "; ".join(reasons))


def facts_for(client_ids: list[int]) -> dict[int, ClientFacts]:
    """Every client's facts in four queries."""
    per_client: dict[int, tuple[bool, date | None]] = {}
    for row in (LedgerEntry.objects.filter(account__client_id__in=client_ids)
                .values("account__client_id", "account_id").annotate(total=Sum("amount"), last=Max("effective_date"))):
        nil, last = per_client.get(row["account__client_id"], (True, None))
        per_client[row["account__client_id"]] = (nil and row["total"] == 0,
                                                 max(filter(None, [last, row["last"]]), default=None))
    open_cases = set(Case.objects.filter(client_id__in=client_ids).exclude(status=CaseStatus.CLOSED)
                     .values_list("client_id", flat=True))
    closed = dict(Case.objects.filter(client_id__in=client_ids, status=CaseStatus.CLOSED).values("client_id")
                  .annotate(last=Max("closed_at")).values_list("client_id", "last"))
    facts = {}
    for pk, died, created in Client.objects.filter(pk__in=client_ids).values_list("pk", "date_of_death", "created_at"):
        nil, last = per_client.get(pk, (True, None))
        last_closed = closed.get(pk)
        facts[pk] = ClientFacts(
            balance_nil=nil, last_entry=last, open_cases=pk in open_cases,
            last_case_closed=timezone.localdate(last_closed) if last_closed else None,
            date_of_death=died, created=timezone.localdate(created),
        )
    return facts


def _candidates():
    """Clients not already under review and not erased."""
    under_review = RetentionReview.objects.filter(
        status__in=[RetentionReviewStatus.PENDING, RetentionReviewStatus.ERASURE_REQUESTED]).values("client_id")
    erased = ErasureRequest.objects.filter(status=ErasureStatus.COMPLETED).values("client_id")
    return Client.objects.exclude(pk__in=under_review).exclude(pk__in=erased)


def plan_retention(business_date: date) -> list[str]:
    rules = list(RetentionRule.objects.in_force(business_date))
    subjects = []
    ids = list(_candidates().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        for pk, facts in sorted(facts_for(chunk).items()):
            if evaluate(facts, rules, business_date).past:
                subjects.append(f"client:{pk}")
    return subjects


def process_retention(run, item: RunItem, prepared: dict) -> str:
    pk = int(item.subject.split(":", 1)[1])
    existing = RetentionReview.objects.filter(run_item=item).first()
    if existing:
        return f"Already marked for review ({existing.pk})"
    client = Client.objects.filter(pk=pk).first()
    if client is None:
        raise Skip("The client record no longer exists")
    rules = list(RetentionRule.objects.in_force(run.business_date))
    verdict = evaluate(facts_for([pk])[pk], rules, run.business_date)
    if not verdict.past:
        raise Skip(f"No longer past retention: {verdict.explanation}")
    try:
        with transaction.atomic():
            review = RetentionReview.objects.create(
                client=client, marked_on=run.business_date, retention_ended_on=verdict.ended_on,
                explanation=verdict.explanation[:500], run_item=item)
    except IntegrityError:
        raise Skip("The client is already waiting for a retention review")
    TimelineEntry.objects.create(
        client=client, kind=TimelineKind.SYSTEM, action="client.retention.marked", actor=None,
        summary="Past every retention period: marked for review", body=verdict.explanation[:2000],
        new_value={"review": review.pk}, occurred_at=timezone.now())
    return f"Marked for review: retention ended {verdict.ended_on:%d %B %Y}"


register_job(Job(
    code="retention_review",
    name="Retention review",
    description="Marks clients past every retention period in force for a person to review (never erases).",
    plan=plan_retention,
    process=process_retention,
    chunk_size=100,
    # 03:15 London time every Sunday.
    schedule={"minute": "15", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "0"},
))


@transaction.atomic
def review_transition(*, review: RetentionReview, to_status: str, actor, note: str = "") -> RetentionReview:
    """The one way a retention review changes status, checked against its table and recorded."""
    review = RetentionReview.objects.select_for_update().get(pk=review.pk)
    if to_status not in RetentionReview.ALLOWED_TRANSITIONS.get(review.status, set()):
        raise DomainError(f"A review that is '{review.get_status_display()}' cannot become "
                          f"'{RetentionReviewStatus(to_status).label}'")
    if to_status == RetentionReviewStatus.RETAINED and not note.strip():
        raise DomainError("Say why the record is kept", field="note")
    old = review.status
    review.status = to_status
    if actor is not None:
        review.decided_by = actor
        review.decided_at = timezone.now()
    if note:
        review.decision_note = note[:500]
    review.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    TimelineEntry.objects.create(
        client=review.client, kind=TimelineKind.SYSTEM, action="client.retention.review.changed", actor=actor,
        summary=f"Retention review: {RetentionReviewStatus(to_status).label}", body=note,
        old_value={"status": old}, new_value={"status": to_status}, occurred_at=timezone.now())
    return review
