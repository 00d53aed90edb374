"""The nightly recovery run: each overdue debtor up the ladder by at most one stage, with the
stage's letter listing all their overdue invoices, in a print batch.

1. plan: every client with an invoice due before the business date and still unpaid (grouped in the
   database), plus debtors still on the ladder who no longer owe anything (to clear them).
2. prepare: for the chunk, the overdue invoices, the ladder state, the holds from every source
   (debt.holds.holds_for_clients), the representatives, the ladder, thresholds and letter wording;
   a debtor held for want of anyone with authority has their case sent to the team leader queue.
3. process, per debtor: nothing overdue -> leave the ladder; held -> Skip with every hold's reason;
   below the smallest balance worth chasing -> Skip; else the pure decision (debt/recovery.py):
   re-anchor on the oldest unpaid invoice, escalate if a threshold is crossed, and advance one stage
   with its letter when it is due.
4. finish: the print batch.
The run is unique on (job, business date) and each item is done once; `recovery_advance` also
refuses a second move on the same day and a second event for the same stage and anchor.
"""
from datetime import date

from django.db.models import Prefetch

from casework.constants import Capacity
from casework.correspondence import letter_recipient
from casework.models import Client, Representative, Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError

from . import holds as hold_registry
from . import recovery as rules
from .constants import HoldKind
from .models import DebtRecovery
from .services import recovery as services
from casework.services.system import system_user
from .services.relief import recovery_pause_days

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
    stages = services.active_stages(on)
    threshold_row = services.thresholds_on(on)
    clients = Client.objects.filter(pk__in=ids).prefetch_related(
        Prefetch("representatives", queryset=Representative.objects.order_by("start_date", "id")),
        Prefetch("accounts"))
    prepared = {
        "stages": {s.pk: s for s in stages},
        "ladder": services.stage_specs(stages),
        "threshold_row": threshold_row,
        "thresholds": services.threshold_values(threshold_row),
        "templates": {s.letter_type: current_template(s.letter_type) for s in stages if s.letter_type},
        "invoices": services.overdue_invoices_for(ids, on),
        "recoveries": {r.client_id: r for r in DebtRecovery.objects.filter(client_id__in=ids)},
        "holds": hold_registry.holds_for_clients(ids, on),
        "actor": run.started_by or system_user(),
        **{f"client:{c.pk}": c for c in clients},
    }
    prepared["capacity_cases"] = _refer_capacity_cases(prepared, on)
    return prepared


def _letter_sender(client: Client, item: RunItem, prepared: dict, debt: services.DebtSummary, on: date):
    from casework.letters.services import letter_produce
    from casework.letters.types import get_letter_type

    representatives = list(client.representatives.all())
    account = next(iter(client.accounts.all()), None)

    def send(stage):
        context = get_letter_type(stage.letter_type).build_context(
            client, on, representatives=representatives, invoices=debt.invoices, stage_name=stage.name,
            account_number=account.number if account else "")
        return letter_produce(client=client, letter_type=stage.letter_type, on=on, run_item=item, actor=prepared["actor"],
                              representatives=representatives, context=context,
                              template=prepared["templates"].get(stage.letter_type))
    return send


def process_recovery(run: Run, item: RunItem, prepared: dict) -> str:
    client = prepared.get(item.subject)
    if client is None:
        raise Skip("The client record no longer exists")
    on, actor = run.business_date, prepared["actor"]
    debt = services.DebtSummary.of(prepared["invoices"].get(client.pk, []))
    if not debt.invoices:
        cleared = services.recovery_clear(client=client, on=on, actor=actor, run_item=item)
        return "Nothing overdue: left the recovery ladder" if cleared else "Nothing overdue"
    holds = prepared["holds"].get(client.pk, [])
    if holds:
        return _held(client, prepared, holds)
    thresholds = prepared["thresholds"]
    if debt.balance < thresholds.minimum_balance:
        raise Skip(f"Overdue balance £{debt.balance:,.2f} is below the £{thresholds.minimum_balance:,.2f} worth chasing")
    if client.capacity == Capacity.LACKS and letter_recipient(client, on, list(client.representatives.all())).warnings:
        raise Skip("Lacks capacity and no one has authority over their money: no recovery letter")  # belt and braces
    return _step(client, item, prepared, debt, on)


def _held(client: Client, prepared: dict, holds: list) -> str:
    reasons = "; ".join(h.reason for h in holds)
    case = prepared["capacity_cases"].get(client.pk)
    raise Skip(f"On hold: {reasons}" + (f" ({case.reference} is in the team leader queue)" if case else ""))


def _refer_capacity_cases(prepared: dict, on: date) -> dict:
    """Debtors held because no one has authority over their money: their case goes to the team
    leader queue for an appointeeship or deputyship referral, once (AD-04). Done here, each in its
    own transaction, because the item itself is recorded as a skip and a skip keeps no writes."""
    cases = {}
    for client_id, holds in prepared["holds"].items():
        no_authority = [h for h in holds if h.kind == HoldKind.NO_AUTHORITY]
        recovery = prepared["recoveries"].get(client_id)
        client = prepared.get(f"client:{client_id}")
        if not no_authority or client is None or not prepared["invoices"].get(client_id):
            continue
        if recovery is None or recovery.escalated_on is None:
            case = services.recovery_escalate_for(client=client, reason=no_authority[0].reason, on=on,
                                                  actor=prepared["actor"], thresholds=prepared["threshold_row"])
            if case is not None:
                cases[client_id] = case
    return cases


def _step(client: Client, item: RunItem, prepared: dict, debt: services.DebtSummary, on: date) -> str:
    actor = prepared["actor"]
    recovery = services.recovery_reanchor(client=client, anchor=debt.anchor, on=on, actor=actor, run_item=item)
    clock_start = max(debt.anchor, recovery.stage_entered_on or debt.anchor)
    decision = rules.decide(ladder=prepared["ladder"], current_id=recovery.stage_id, entered_on=recovery.stage_entered_on,
                            anchor=debt.anchor, on=on, balance=debt.balance, thresholds=prepared["thresholds"],
                            already_escalated=recovery.escalated_on is not None,
                            paused_days=recovery_pause_days(client.pk, clock_start, on))
    done = []
    if decision.advance_to is not None:
        stage = prepared["stages"][decision.advance_to.id]
        try:
            event = services.recovery_advance(client=client, stage=stage, expected_from_id=recovery.stage_id, debt=debt,
                                              on=on, actor=actor, run_item=item,
                                              letter_sender=_letter_sender(client, item, prepared, debt, on))
        except DomainError as exc:
            raise Skip(exc.message) from exc
        if event is None:
            raise Skip("Already moved on today")
        done.append(f"{stage.name}" + (f": letter {event.letter.reference}" if event.letter_id else ""))
    if decision.escalate_reason:
        case = services.recovery_escalate_for(client=client, reason=decision.escalate_reason, on=on, actor=actor,
                                              run_item=item, thresholds=prepared["threshold_row"])
        if case is not None:
            done.append(f"{case.reference} escalated: {decision.escalate_reason}")
    return "; ".join(done) if done else f"No stage due: {decision.reason}"


RECOVERY = Job(
    code=JOB_CODE,
    name="Debt recovery",
    description="Moves each overdue debt one stage up the recovery ladder when due, with one letter per debtor "
                "listing all their overdue invoices; skips held debts and says why; a print batch.",
    plan=plan_recovery,
    prepare=prepare_recovery,
    process=process_recovery,
    finish=print_batch_build,
    chunk_size=200,
    # 04:00 London time daily, after the billing run (03:00) and the payment imports.
    schedule={"minute": "0", "hour": "4", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
)


def register() -> Job:
    return register_job(RECOVERY)
