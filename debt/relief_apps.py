"""Relief's registrations with the engines: hold sources, jobs, letter types, the client panel.

debt.apps.DebtConfig.ready() calls `ready()` once.
"""
from datetime import date
from typing import Iterable

from .constants import HoldKind
from .holds import Hold, of_clients, register_hold_source


def breathing_space_holds(client_ids: Iterable[int] | None, on: date, kinds=None) -> dict[int, list[Hold]]:
    """An active moratorium holds the client's covered debts until its (expected) end."""
    from .models import Moratorium
    from .services.relief import covered_invoice_ids_for

    result: dict[int, list[Hold]] = {}
    moratoria = list(of_clients(Moratorium.objects.active_on(on), client_ids))
    covered = covered_invoice_ids_for(moratoria)
    for m in moratoria:
        until = f"until {m.expected_end:%d %B %Y}" if m.expected_end else "until 30 days after crisis treatment ends"
        scope = "all debts owed at the start" if m.covers_all_debts else "the debts named in the notice"
        result.setdefault(m.client_id, []).append(Hold(
            kind=HoldKind.BREATHING_SPACE, reason=f"Breathing Space {m.insolvency_reference} {until} ({scope})",
            since=m.start_date, review_date=m.expected_end, placed_by=m.adviser_organisation,
            invoice_ids=covered[m.pk], moratorium_id=m.pk))
    return result


def repayment_plan_holds(client_ids: Iterable[int] | None, on: date, kinds=None) -> dict[int, list[Hold]]:
    """A plan in good standing holds recovery; a broken one holds nothing, so the ladder resumes."""
    from .models import RepaymentPlan
    from .services.relief import plan_schedule

    result: dict[int, list[Hold]] = {}
    for plan in of_clients(RepaymentPlan.objects.in_good_standing(), client_ids):
        last = plan_schedule(plan)[-1].due_on
        result.setdefault(plan.client_id, []).append(Hold(
            kind=HoldKind.REPAYMENT_PLAN, since=plan.start_date, review_date=last,
            reason=f"Repayment plan {plan.pk}: £{plan.total:,.2f}, {plan.get_frequency_display().lower()} "
                   f"instalments of up to £{plan.instalment_amount:,.2f}"))
    return result


_registered = False


def ready() -> None:
    """Register once; a second call (tests call it before debt/apps.py does) changes nothing."""
    global _registered
    if _registered:
        return
    _registered = True
    from casework.panels import register_client_panel

    from . import jobs_diary, jobs_relief, relief_letters  # noqa: F401 - registers the jobs and letter types
    from .views.relief import client_relief_panel

    register_hold_source(breathing_space_holds, kinds=[HoldKind.BREATHING_SPACE])
    register_hold_source(repayment_plan_holds, kinds=[HoldKind.REPAYMENT_PLAN])
    register_client_panel(client_relief_panel)
