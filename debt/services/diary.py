"""The regulation diary: the dates a regulation sets on a debt, each diarised once as a task for
the case officer (Task.key makes a re-run add nothing).

Breathing Space (BS-03, BS-04, BS-07; worked example WE-7), from the BreathingSpaceRule in force on
the moratorium's start: the creditor's last day to ask the debt adviser for a review, the debt
adviser's midway review window (days `midway_review_from_day` to `midway_review_to_day`, the start
day being day 1) and the provisional end. These are calendar days: the regulations count them so.

Limitation (DR-03, WE-8): a task at each LimitationWarningLevel in force (180, 90 and 30 days before
the last day to claim, moved on by any Breathing Space), the urgent level's task shown red and first.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from casework.constants import CaseStatus, CaseType
from casework.models import Case, Client, Task, Team
from casework.services.cases import case_create, task_create

from ..limitation import _extended_last_days, approaching_limitation, last_day_to_claim, rule_on
from ..models import BreathingSpaceRule, LimitationWarningLevel, Moratorium


@dataclass(frozen=True)
class DiaryDate:
    key: str
    title: str
    due: date
    urgent: bool = False


@dataclass(frozen=True)
class BreathingSpaceDates:
    review_request_by: date
    midway_review_from: date
    midway_review_to: date
    provisional_end: date | None  # None: a crisis one whose treatment end is not yet known


def _rule(on: date) -> BreathingSpaceRule | None:
    return BreathingSpaceRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()


def breathing_space_dates(moratorium: Moratorium) -> BreathingSpaceDates | None:
    """The regulation dates of a moratorium, from the rule in force on its start (None if none is)."""
    rule = _rule(moratorium.start_date)
    if rule is None:
        return None
    start = moratorium.start_date
    return BreathingSpaceDates(
        review_request_by=moratorium.review_due_on or start + timedelta(days=rule.review_request_days),
        midway_review_from=start + timedelta(days=rule.midway_review_from_day - 1),
        midway_review_to=start + timedelta(days=rule.midway_review_to_day - 1),
        provisional_end=moratorium.expected_end)


def breathing_space_diary(moratorium: Moratorium) -> list[DiaryDate]:
    dates = breathing_space_dates(moratorium)
    if dates is None:
        return []
    ref, key = moratorium.insolvency_reference, f"breathing_space:{moratorium.pk}"
    rows = [
        DiaryDate(f"{key}:review_request", f"Breathing Space {ref}: last day to ask the debt adviser for a review "
                                           f"({dates.review_request_by:%d %B %Y})", dates.review_request_by),
        DiaryDate(f"{key}:midway_review", f"Breathing Space {ref}: the debt adviser's midway review, "
                                          f"{dates.midway_review_from:%d %B} to {dates.midway_review_to:%d %B %Y}",
                  dates.midway_review_from),
    ]
    if dates.provisional_end:
        rows.append(DiaryDate(f"{key}:end", f"Breathing Space {ref}: provisional end {dates.provisional_end:%d %B %Y}"
                                            " (act on the Insolvency Service end notice)", dates.provisional_end))
    return rows


def warning_levels(on: date) -> list[LimitationWarningLevel]:
    """The levels in force on `on`, furthest first."""
    latest = (LimitationWarningLevel.objects.filter(effective_from__lte=on).order_by("-effective_from")
              .values_list("effective_from", flat=True).first())
    if latest is None:
        return []
    return list(LimitationWarningLevel.objects.filter(effective_from=latest).order_by("-days_before"))


def limitation_diary(invoice, last_day: date, on: date, levels: list[LimitationWarningLevel]) -> list[DiaryDate]:
    """A task for each level reached by `on` (a level passed while nothing was diarised is still
    diarised, so a missed night is caught up)."""
    rows = []
    for level in levels:
        if last_day - timedelta(days=level.days_before) <= on <= last_day:
            rows.append(DiaryDate(
                f"limitation:{invoice.pk}:{level.days_before}",
                f"Limitation: invoice {invoice.number} can be claimed in court only until {last_day:%d %B %Y} "
                f"({level.days_before} days' warning)", last_day - timedelta(days=level.days_before), level.urgent))
    return rows


def limitation_last_days(on: date) -> dict:
    """{invoice: its last day to claim} for the owing invoices inside the warning window on `on`."""
    rule = rule_on(on)
    invoices = list(approaching_limitation(on))
    from ..models import Invoice

    extended = _extended_last_days(Invoice.objects.filter(pk__in=[i.pk for i in invoices]), on, rule)
    return {i: extended.get(i.pk, last_day_to_claim(i.due_date, rule)) for i in invoices}


def limitation_last_day(invoice, on: date) -> date | None:
    """The invoice's last day to claim (moved on by any Breathing Space), or None once it is paid."""
    from ..limitation import _owing

    if not _owing().filter(pk=invoice.pk).exists():
        return None
    rule = rule_on(on)
    return _extended_last_days(type(invoice).objects.filter(pk=invoice.pk), on, rule).get(
        invoice.pk, last_day_to_claim(invoice.due_date, rule))


def diary_case(client: Client, actor) -> Case:
    """The client's open debt recovery case, or a new one in the team of their latest case."""
    case = (Case.objects.filter(client=client, case_type=CaseType.DEBT_RECOVERY).exclude(status=CaseStatus.CLOSED)
            .order_by("-pk").first())
    if case:
        return case
    latest = Case.objects.filter(client=client).order_by("-pk").first()
    team = latest.team if latest else (Team.objects.order_by("pk").first()
                                       or Team.objects.get_or_create(name="Income team")[0])
    return case_create(client=client, case_type=CaseType.DEBT_RECOVERY, title="Debt recovery: regulation dates",
                       team=team, actor=actor, assigned_officer=latest.assigned_officer if latest else None)


def diarise(client: Client, rows: list[DiaryDate], actor) -> int:
    """Adds the tasks not yet held under their keys; returns how many were added."""
    held = set(Task.objects.filter(key__in=[r.key for r in rows]).values_list("key", flat=True))
    new = [r for r in rows if r.key not in held]
    if not new:
        return 0
    case = diary_case(client, actor)
    for row in new:
        task_create(case=case, title=row.title, due_date=row.due, actor=actor, key=row.key, urgent=row.urgent)
    return len(new)
