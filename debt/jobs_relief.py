"""Nightly relief jobs: the repayment plan check and Breathing Space expiry.

plan_check, for each active plan whose first instalment has fallen due:
1. payments received since the start cover the total: the plan is completed;
2. otherwise find instalments past due + grace (PlanRule) that the payments do not cover and that
   no earlier run recorded (PlanMiss is unique per instalment, so re-runs write nothing new);
3. during a Breathing Space: do nothing but log the suppression (no payment request, BS-05);
4. otherwise one missed-instalment letter, the misses recorded, and once the misses exceed the
   breaks allowed the plan is broken and the recovery case escalated.
"""
from datetime import date

from casework.models import Run, RunItem
from casework.runs.print_batch import print_batch_build
from casework.runs.registry import Job, Skip, register_job
from casework.services import DomainError

from . import relief as rules
from .models import Moratorium, PlanMiss, RepaymentPlan
from .models.relief import MoratoriumEndReason, PlanStatus
from .services import relief as services


def _pk(subject: str) -> int:
    return int(subject.split(":", 1)[1])


def _actor(run: Run):
    from casework.services.system import system_user

    return run.started_by or system_user()


def plan_plan_check(business_date: date) -> list[str]:
    return [f"plan:{pk}" for pk in RepaymentPlan.objects.due_for_check(business_date).values_list("pk", flat=True)]


def process_plan_check(run: Run, item: RunItem, prepared: dict) -> str:
    from casework.letters.services import letter_produce

    from .relief_letters import PLAN_MISSED, missed_context

    on = run.business_date
    plan = RepaymentPlan.objects.select_related("client").filter(pk=_pk(item.subject)).first()
    if plan is None or plan.status != PlanStatus.ACTIVE:
        raise Skip("The plan is no longer active")
    paid = services.paid_towards(plan, on)
    actor = _actor(run)
    if paid >= plan.total:
        services.plan_transition(plan=plan, to_status=PlanStatus.COMPLETED, actor=actor, on=on,
                                 reason="Paid in full")
        return "Plan paid in full: completed"
    try:
        grace = services.plan_rule(on).grace_days
        breaks_allowed = services.plan_rule(on).breaks_allowed
    except DomainError as exc:
        raise Skip(exc.message) from exc
    recorded = set(plan.misses.values_list("instalment_number", flat=True))
    new = [m for m in rules.missed_instalments(services.plan_schedule(plan), paid, on, grace)
           if m.instalment.number not in recorded]
    if not new:
        return "On track"
    moratorium = services.active_moratorium(plan.client_id, on)
    if moratorium is not None:
        services.suppression_record(client=plan.client, action="debt.plan.missed_letter", on=on, moratorium=moratorium,
                                    detail=f"Missed payment letter for plan {plan.pk} (instalment "
                                           f"{new[-1].instalment.number}) not sent: Breathing Space")
        # Returned, not raised: a Skip rolls the item back, and the suppression must stay logged.
        return "Breathing Space: missed payment not chased (logged)"
    times = len(recorded) + len(new)
    broken = times > breaks_allowed
    latest = new[-1]
    letter = letter_produce(client=plan.client, letter_type=PLAN_MISSED, on=on, actor=actor, run_item=item,
                            context=missed_context(plan.client, on, latest, broken))
    for miss in new:
        PlanMiss.objects.create(plan=plan, instalment_number=miss.instalment.number, due_on=miss.instalment.due_on,
                                shortfall=miss.shortfall, detected_on=on, letter=letter if miss is latest else None)
    RepaymentPlan.objects.filter(pk=plan.pk).update(times_broken=times)
    if broken:
        services.plan_break(plan=plan, actor=actor, on=on,
                            reason=f"{times} payments missed (instalment {latest.instalment.number} due "
                                   f"{latest.instalment.due_on:%d %B %Y})")
        return f"Plan broken after {times} missed payments; case escalated"
    return f"Missed payment letter: instalment {latest.instalment.number}, £{latest.shortfall:,.2f} behind"


PLAN_CHECK = register_job(Job(
    code="plan_check",
    name="Repayment plan check",
    description="Finds missed plan payments after the grace period: a letter, and a broken plan after two.",
    plan=plan_plan_check,
    process=process_plan_check,
    finish=print_batch_build,
    chunk_size=50,
    schedule={"minute": "30", "hour": "3", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))


def plan_expiry(business_date: date) -> list[str]:
    return [f"moratorium:{pk}" for pk in
            Moratorium.objects.past_expected_end(business_date).values_list("pk", flat=True)]


def process_expiry(run: Run, item: RunItem, prepared: dict) -> str:
    moratorium = Moratorium.objects.filter(pk=_pk(item.subject)).first()
    if moratorium is None or moratorium.ended_on is not None or moratorium.expected_end is None:
        raise Skip("Already ended")
    services.moratorium_end(moratorium=moratorium, ended_on=moratorium.expected_end,
                            reason=MoratoriumEndReason.EXPIRED, actor=_actor(run),
                            note="No end or cancellation notice received by the expected end")
    return f"Breathing Space {moratorium.insolvency_reference} expired {moratorium.expected_end:%d %B %Y}"


BREATHING_SPACE_EXPIRY = register_job(Job(
    code="breathing_space_expiry",
    name="Breathing Space expiry",
    description="Marks moratoria past their expected end as expired, so recovery resumes.",
    plan=plan_expiry,
    process=process_expiry,
    chunk_size=200,
    schedule={"minute": "0", "hour": "2", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"},
))
