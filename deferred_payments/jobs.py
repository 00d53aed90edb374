"""The deferred payment jobs on the runs engine.

- `dpa_accrual` (nightly): for every agreement that holds money, through the day before the
  business date: end it on a recorded death, post weekly deferrals, annual fees and interest
  (correcting back-dated changes with reversals), raise equity alerts, refer unpaid debt after the
  due date to recovery. Every step is idempotent (unique rows per week, fee year and period).
- `dpa_statements` (daily, so a missed night catches up): the six-monthly statement of every
  agreement that has none for the last half-year, as letters in a print batch; unique per
  agreement and half-year, so a re-run sends nothing twice.
"""
from datetime import date

from casework.models import Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError
from casework.services.system import system_user

from . import nightly_group, services, statements
from .models import MONEY_STATES, Agreement, State, Statement, StatementKind
from .reference import RateTable

ACCRUAL_JOB = "dpa_accrual"
STATEMENTS_JOB = "dpa_statements"


def _pk(subject: str) -> int:
    return int(subject.split(":", 1)[1])


def plan_accrual(business_date: date) -> list[str]:
    agreements = (Agreement.objects.filter(state__in=MONEY_STATES, account__isnull=False, start_date__lt=business_date)
                  .exclude(state=State.TERMINATED, repaid_on__isnull=False).order_by("pk"))
    return [f"dpa:{pk}" for pk in agreements.values_list("pk", flat=True)]


def prepare(run: Run, subjects: list[str]) -> dict:
    agreements = Agreement.objects.filter(pk__in=[_pk(s) for s in subjects]).select_related("client", "case", "account")
    return {"rates": RateTable(), "actor": run.started_by or system_user(),
            **{f"dpa:{a.pk}": a for a in agreements}}


def process_accrual(run: Run, item: RunItem, prepared: dict) -> str:
    agreement = prepared.get(item.subject)
    if agreement is None:
        raise Skip("The agreement no longer exists")
    try:
        return services.nightly(agreement=agreement, business_date=run.business_date, actor=prepared["actor"],
                                rates=prepared["rates"])
    except DomainError as exc:
        raise Skip(exc.message) from exc


def plan_statements(business_date: date) -> list[str]:
    end = statements.last_half_year_end(business_date)
    produced = Statement.objects.filter(kind=StatementKind.SIX_MONTHLY, period_end=end).values("agreement_id")
    agreements = (Agreement.objects.filter(state__in=MONEY_STATES, start_date__lte=end)
                  .exclude(pk__in=produced).order_by("pk"))
    return [f"dpa:{pk}" for pk in agreements.values_list("pk", flat=True)]


def process_statement(run: Run, item: RunItem, prepared: dict) -> str:
    agreement = prepared.get(item.subject)
    if agreement is None:
        raise Skip("The agreement no longer exists")
    if agreement.case.on_hold:
        raise Skip(f"{agreement.case.reference} is on hold: {agreement.case.hold_reason}")
    try:
        statement = statements.six_monthly_produce(agreement=agreement, business_date=run.business_date,
                                                   actor=prepared["actor"], run_item=item)
    except DomainError as exc:
        raise Skip(exc.message) from exc
    if statement is None:
        raise Skip("No statement is due (already sent, or repaid before the half-year)")
    return f"Statement to {statement.period_end:%-d %B %Y}: letter {statement.letter.reference}"


def register() -> None:
    register_job(Job(
        code=ACCRUAL_JOB, name="Deferred payments: nightly accrual",
        description="Weekly deferrals, annual fees and interest on every deferred payment agreement; equity "
                    "alerts; deaths and unpaid debts after the due date.",
        plan=plan_accrual, prepare=prepare, process=process_accrual, process_group=nightly_group.process_group,
        group_size=50, chunk_size=200,
        schedule={"minute": "15", "hour": "1", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
    ))
    register_job(Job(
        code=STATEMENTS_JOB, name="Deferred payments: six-monthly statements",
        description="A statement letter for every deferred payment agreement for the half-year just ended, "
                    "with a print batch.",
        plan=plan_statements, prepare=prepare, process=process_statement, finish=print_batch_build, chunk_size=25,
        schedule={"minute": "0", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
    ))
