"""The nightly recovery run: each overdue debtor up the ladder by at most one stage, with the
stage's letter listing all their overdue invoices, in a print batch.

1. plan: every client with an invoice due before the business date and still unpaid (grouped in the
   database), plus debtors still on the ladder who no longer owe anything (to clear them).
2. prepare: for the chunk, the overdue invoices, the ladder rows, the holds from every source
   (debt.holds.holds_for_clients), the Breathing Spaces, the representatives, the ladder,
   thresholds and letter wording. Two things are written here, each in its own transaction,
   because the debtors concerned are reported as skips and a skip keeps no writes: a debtor held
   for want of anyone with authority has their case sent to the team leader queue, and a stage
   a Breathing Space holds back is logged as a suppressed action (once).
3. process_group, for a group of debtors at once (and `process`, the same for one debtor, when the
   engine falls back to items one by one): debt.services.recovery.recovery_apply decides each
   debtor's step with the pure debt.recovery.debtor_step (nothing overdue -> leave the ladder;
   held -> skip with every hold's reason; below the smallest balance worth chasing -> skip; else
   re-anchor, advance one stage with its letter when due, escalate when a threshold is crossed)
   and records the whole group set-based.
4. finish: the print batch.
The run is unique on (job, business date) and each item is done once; the apply step also refuses
a second move on the same day and a second event for the same stage and anchor.
"""
from datetime import date

from django.db import transaction
from django.db.models import Prefetch

from casework.constants import Capacity
from casework.correspondence import letter_recipient
from casework.models import Client, Representative, Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services.system import system_user

from . import holds as hold_registry
from . import recovery as rules
from .constants import HoldKind
from .models import DebtRecovery
from .recovery_letters import stage_letters
from .services import recovery as services
from .services.relief import breathing_spaces_for, suppressions_record

JOB_CODE = "recovery"


def _client_id(subject: str) -> int:
    return int(subject.split(":", 1)[1])


def plan_recovery(business_date: date) -> list[str]:
    overdue = set(services.overdue_by_client(business_date).values_list("client_id", flat=True))
    on_ladder = set(DebtRecovery.objects.filter(stage__isnull=False).values_list("client_id", flat=True))
    return [f"client:{pk}" for pk in sorted(overdue | on_ladder)]


def prepare_recovery(run: Run, subjects: list[str]) -> dict:
    from casework.letters.services import current_template

    ids = [_client_id(s) for s in subjects]
    on = run.business_date
    ladder = services.Ladder.on(on)
    clients = {c.pk: c for c in Client.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("representatives", queryset=Representative.objects.order_by("start_date", "id")),
        Prefetch("accounts"))}
    invoices = services.overdue_invoices_for(ids, on)
    holds = hold_registry.holds_for_clients(ids, on)
    protections = breathing_spaces_for(ids, on)
    prepared = {
        "ladder": ladder,
        "templates": {s.letter_type: current_template(s.letter_type) for s in ladder.stages.values() if s.letter_type},
        "recoveries": {r.client_id: r for r in DebtRecovery.objects.filter(client_id__in=ids)},
        "holds": holds,
        "actor": run.started_by or system_user(),
        "clients": clients,
        "facts": {pk: rules.Facts(invoices=tuple(invoices.get(pk, ())), holds=tuple(holds.get(pk, ())),
                                  protections=tuple(protections.get(pk, ())), no_authority=_no_authority(c, on))
                  for pk, c in clients.items()},
    }
    prepared["capacity_cases"] = _refer_capacity_cases(prepared, on)
    _log_held_back(prepared, on)
    return prepared


def _no_authority(client: Client, on: date) -> bool:
    """Belt and braces beside the capacity hold: no recovery letter may go to anyone."""
    return client.capacity == Capacity.LACKS and bool(
        letter_recipient(client, on, list(client.representatives.all())).warnings)


def _refer_capacity_cases(prepared: dict, on: date) -> dict:
    """Debtors held because no one has authority over their money: their case goes to the team
    leader queue for an appointeeship or deputyship referral, once (AD-04)."""
    cases = {}
    for client_id, holds in prepared["holds"].items():
        no_authority = [h for h in holds if h.kind == HoldKind.NO_AUTHORITY]
        recovery = prepared["recoveries"].get(client_id)
        client = prepared["clients"].get(client_id)
        if not no_authority or client is None or not prepared["facts"][client_id].invoices:
            continue
        if recovery is None or recovery.escalated_on is None:
            case = services.recovery_escalate_for(client=client, reason=no_authority[0].reason, on=on,
                                                  actor=prepared["actor"], thresholds=prepared["ladder"].threshold_row)
            if case is not None:
                cases[client_id] = case
    return cases


def _log_held_back(prepared: dict, on: date) -> None:
    """Log the stages a Breathing Space holds back (BS-05: every suppressed action is logged)."""
    ladder, rows = prepared["ladder"], []
    for client_id, facts in prepared["facts"].items():
        if not any(h.kind == HoldKind.BREATHING_SPACE for h in facts.holds):
            continue
        step = rules.debtor_step(facts=facts, position=rules.Position.of(prepared["recoveries"].get(client_id)),
                                 ladder=ladder.specs, thresholds=ladder.thresholds, on=on)
        if step.kind == rules.HELD:
            rows += [(prepared["clients"][client_id], m, detail) for m, detail in step.suppressed]
    if rows:
        with transaction.atomic():
            suppressions_record(rows, on=on, action="debt.recovery.stage")


def _apply(run: Run, items: list[RunItem], prepared: dict) -> dict:
    """{item pk: outcome text or Skip} for the items, recorded set-based in the caller's transaction."""
    on, actor = run.business_date, prepared["actor"]
    answers, debtors = {}, []
    for item in items:
        client = prepared["clients"].get(_client_id(item.subject))
        if client is None:
            answers[item.pk] = Skip("The client record no longer exists")
            continue
        debtors.append(services.Debtor(client=client, facts=prepared["facts"][client.pk], run_item=item))

    def letters(requests):
        return stage_letters(requests, on=on, actor=actor, templates=prepared["templates"])

    done = services.recovery_apply(debtors, ladder=prepared["ladder"], positions=prepared["recoveries"], on=on,
                                   actor=actor, letters=letters)
    for debtor in debtors:
        outcome = done[debtor.client.pk]
        if isinstance(outcome, rules.Step):
            case = prepared["capacity_cases"].get(debtor.client.pk) if outcome.kind == rules.HELD else None
            outcome = Skip(outcome.reason + (f" ({case.reference} is in the team leader queue)" if case else ""))
        answers[debtor.run_item.pk] = outcome
    return answers


def process_group_recovery(run: Run, items: list[RunItem], prepared: dict) -> dict:
    return _apply(run, items, prepared)


def process_recovery(run: Run, item: RunItem, prepared: dict) -> str:
    outcome = _apply(run, [item], prepared)[item.pk]
    if isinstance(outcome, Skip):
        raise outcome
    return outcome


RECOVERY = Job(
    code=JOB_CODE,
    name="Debt recovery",
    description="Moves each overdue debt one stage up the recovery ladder when due, with one letter per debtor "
                "listing all their overdue invoices; skips held debts and says why; a print batch.",
    plan=plan_recovery,
    prepare=prepare_recovery,
    process=process_recovery,
    process_group=process_group_recovery,
    finish=print_batch_build,
    chunk_size=1000,
    group_size=500,
    # 04:00 London time daily, after the billing run (03:00) and the payment imports.
    schedule={"minute": "0", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
)


def register() -> Job:
    return register_job(RECOVERY)
