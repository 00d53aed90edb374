"""What a client's death does to their deferred payment agreement (DC-08, DP-12, WE-6), as a
handler for casework.deaths: an active or suspended agreement terminates on the death, its debt
falls due the DeferredPaymentRule's `death_due_days` after the date of death, and interest carries
on as the nightly accrual already does. Everything is done by the agreement's own services
(agreement_terminate, agreement_transition), so the moves are checked and recorded.

Reversal (the death was recorded in error) reinstates the agreement to the state it ended from,
with the due date cleared. The care costs deferred up to the recorded date of death stay: that care
was given whether or not the client died, and deferral carries on from the day after.
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from casework.constants import EntryKind
from casework.models import LedgerEntry
from casework.money import to_pennies
from casework.services import DomainError

from . import services
from .models import Agreement, DeferralPosting, State, TerminationReason
from .reference import rule_on

KIND = "deferred_payments.terminate_agreement"
OPEN_STATES = (State.ACTIVE, State.SUSPENDED)


def _long(on: date) -> str:
    return f"{on:%-d %B %Y}"


def due_date(date_of_death: date) -> tuple[date, int]:
    """(due date, days after death) by the rule in force on the date of death."""
    days = rule_on(date_of_death).death_due_days
    return date_of_death + timedelta(days=days), days


def _pending_deferrals(agreement: Agreement, through: date) -> list[tuple[date, Decimal]]:
    """The deferrals termination will post up to the date of death (whole weeks, then the part
    week), as (date posted, amount), to preview the figure without writing anything."""
    if agreement.state != State.ACTIVE or agreement.start_date is None:
        return []
    first = (agreement.deferred_through + services.ONE_DAY) if agreement.deferred_through else agreement.start_date
    periods = services._deferral_periods(first, through)
    last = periods[-1][1] if periods else first - services.ONE_DAY
    if last < through:
        periods.append((last + services.ONE_DAY, through))
    weekly = agreement.weekly_deferral
    return [(end, to_pennies(weekly * ((end - start).days + 1) / services.WEEK)) for start, end in periods]


def owed_at_death(agreement: Agreement, date_of_death: date) -> Decimal:
    """What is owed at the end of the date of death once care costs up to it are deferred: the
    posted movements plus the deferrals still to post, with interest to that day."""
    if not agreement.account_id:
        return Decimal("0.00")
    entries = list(LedgerEntry.objects.filter(account_id=agreement.account_id)
                   .values_list("effective_date", "amount", "kind"))
    entries += [(on, amount, EntryKind.CHARGE) for on, amount in _pending_deferrals(agreement, date_of_death)]
    owed = services.owed_on(agreement, date_of_death + services.ONE_DAY, entries=entries)
    limit = services.equity_position(agreement, date_of_death, total_owed=owed).limit
    if owed <= limit:
        return owed
    # Deferral stops at the equity limit (deferrals_post cuts it there); interest already posted does not.
    return max(services.owed_on(agreement, date_of_death + services.ONE_DAY), limit)


def propose(client, date_of_death: date) -> list:
    from casework.deaths.registry import Proposal

    due, days = due_date(date_of_death)
    proposals = []
    for agreement in Agreement.objects.filter(client=client, state__in=OPEN_STATES).order_by("pk"):
        owed = owed_at_death(agreement, date_of_death)
        summary = (f"Terminate deferred payment agreement {agreement.reference}: £{owed:,.2f} due by {_long(due)} "
                   f"({days} days after death); interest continues until it is repaid")
        late = DeferralPosting.objects.filter(agreement=agreement, period_end__gt=date_of_death).count()
        if late:
            summary += f". {late} deferral(s) were posted for care after the death and need correcting"
        proposals.append(Proposal(summary=summary[:500], object_ref=agreement.reference, payload={
            "agreement": agreement.pk, "date_of_death": date_of_death.isoformat(), "due_date": due.isoformat(),
            "owed": str(owed)}))
    return proposals


@transaction.atomic
def apply(client, date_of_death: date, payload: dict, actor) -> dict:
    agreement = Agreement.objects.select_related("client").get(pk=payload["agreement"])
    if agreement.state not in OPEN_STATES:
        ended = (f" ({agreement.get_termination_reason_display().lower()})" if agreement.termination_reason else "")
        raise DomainError(f"Deferred payment agreement {agreement.reference} is already "
                          f"{agreement.get_state_display().lower()}{ended}: there is nothing to terminate")
    if agreement.client.date_of_death != date_of_death:
        raise DomainError(f"The client's record does not show a death on {_long(date_of_death)}: record it first")
    previous = {"state": agreement.state, "deferred_through": agreement.deferred_through.isoformat()
                if agreement.deferred_through else None}
    before = services.agreement_balance(agreement)
    agreement = services.agreement_terminate(agreement=agreement, reason=TerminationReason.DEATH, on=date_of_death,
                                             actor=actor, note="Death recorded on the client's record")
    return {"agreement": agreement.pk, "previous_state": previous["state"],
            "previous_deferred_through": previous["deferred_through"],
            "due_date": agreement.due_date.isoformat(),
            "deferred_on_termination": str(services.agreement_balance(agreement) - before)}


@transaction.atomic
def reverse(client, date_of_death: date, payload: dict, result: dict, actor) -> None:
    agreement = Agreement.objects.get(pk=result["agreement"])
    if agreement.state != State.TERMINATED or agreement.termination_reason != TerminationReason.DEATH:
        raise DomainError(f"Deferred payment agreement {agreement.reference} is "
                          f"{agreement.get_state_display().lower()}, not terminated on the death: reinstate it by hand")
    services.agreement_transition(agreement=agreement, to_state=result["previous_state"], actor=actor,
                                  reinstate=True, reason=f"Reinstated: death on {_long(date_of_death)} recorded in "
                                                         "error")


def register() -> None:
    from casework.deaths.registry import register_death_handler

    register_death_handler(kind=KIND, label="Deferred payment agreements", propose=propose, apply=apply,
                           reverse=reverse, order=40)
