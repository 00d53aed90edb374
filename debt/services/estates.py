"""Estate cases: open, record the representative, probate and follow-ups, send the claim, close.

Every stage change goes through `estate_transition`, which re-reads the estate case under a row
lock, checks the model's table and the outcome's conditions, records the change on the case
timeline, closes the casework case and, where the estate cannot pay what is left, asks for a
write-off through the write-off rules (reason: deceased with no estate).
"""
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.constants import CaseStatus, CaseType, TimelineKind
from casework.correspondence import ESTATE_KINDS
from casework.letters import services as letters
from casework.letters.types import get_letter_type
from casework.models import Case, Client, Letter, Representative, Team, TimelineEntry
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import Role, has_any_role
from casework.services import DomainError, case_create, case_transition

from ..estates import (
    ESTATE_CLAIM_LETTER,
    balance_owed,
    follow_up_days,
    owed_invoices,
    payments_since_death,
)
from ..models import (
    EstateCase,
    EstateFollowUp,
    EstateOutcome,
    EstateStage,
    ProbateStatus,
    WriteOffLine,
    WriteOffReason,
    WriteOffRequest,
    WriteOffStatus,
)
from ..models.estates import OFFICER_OUTCOMES, WRITE_OFF_OUTCOMES
from .writeoffs import writeoff_request

#: The team that works estate cases when the officer opening one names no other.
ESTATE_TEAM = "Resource management"


def _timeline(estate: EstateCase, action: str, summary: str, actor, *, old=None, new=None, body: str = "",
              kind: str = TimelineKind.SYSTEM) -> None:
    TimelineEntry.objects.create(client_id=estate.case.client_id, case_id=estate.case_id, kind=kind, action=action,
                                 summary=summary[:300], body=body, old_value=old, new_value=new, actor=actor,
                                 occurred_at=timezone.now())


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def _locked(estate: EstateCase) -> EstateCase:
    return EstateCase.objects.select_for_update().select_related("case", "case__client").get(pk=estate.pk)


def _refuse_if_closed(estate: EstateCase) -> None:
    if estate.stage == EstateStage.CLOSED:
        raise DomainError(f"Estate case {estate.reference} is closed ({estate.get_outcome_display().lower()})")


def _check_representative(client: Client, representative: Representative | None) -> None:
    if representative is None:
        return
    if representative.client_id != client.pk:
        raise DomainError(f"{representative.name} is not a representative of {client.full_name}",
                          field="representative")
    if representative.kind not in ESTATE_KINDS:
        raise DomainError(f"{representative.name} is a {representative.get_kind_display().lower()}: only an "
                          "executor or administrator can act for the estate", field="representative")


def _default_representative(client: Client, on: date) -> Representative | None:
    """The client's executor or administrator in force on `on`, the one letters go to."""
    for kind in ESTATE_KINDS:
        for rep in client.representatives.filter(kind=kind).order_by("start_date", "pk"):
            if rep.is_active_on(on):
                return rep
    return None


def _check_day(day: date | None, label: str, field: str, *, after: date | None = None) -> None:
    if day is None:
        return
    if day > timezone.localdate():
        raise DomainError(f"{label} cannot be in the future", field=field)
    if after and day < after:
        raise DomainError(f"{label} cannot be before the date of death ({after:%-d %B %Y})", field=field)


def _check_existing_case(client: Client, case: Case) -> None:
    if case.client_id != client.pk or case.case_type != CaseType.DECEASED_ESTATE:
        raise DomainError(f"{case.reference} is not a deceased estate case of {client.full_name}", field="case")
    if case.status == CaseStatus.CLOSED:
        raise DomainError(f"{case.reference} is closed", field="case")
    if EstateCase.objects.filter(case=case).exists():
        raise DomainError(f"{case.reference} already has estate details", field="case")


@transaction.atomic
def estate_open(*, client: Client, actor, on: date | None = None, date_of_death: date | None = None,
                representative: Representative | None = None, team: Team | None = None,
                case: Case | None = None) -> EstateCase:
    """Open a deceased estate case on a client who owes money on invoices: the casework case (through
    casework's case service) and its estate details. With `case`, the estate details are added to
    that open deceased estate case instead. The first follow-up falls due after the interval in
    force on `on` (today unless given)."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise DomainError("An estate case cannot be opened on a future date", field="on")
    # Lock the client: two officers opening an estate case at once must not both succeed.
    client = Client.objects.select_for_update().get(pk=client.pk)
    died = date_of_death or client.date_of_death
    if died is None:
        raise DomainError(f"No death is recorded for {client.full_name}: record the death first")
    if on < died:
        raise DomainError("An estate case cannot be opened before the date of death", field="on")
    if EstateCase.objects.open().filter(case__client=client).exists():
        raise DomainError(f"{client.full_name} already has an open estate case")
    owed = balance_owed(client)
    if owed <= 0:
        raise DomainError(f"{client.full_name} owes nothing on invoices: there is nothing to claim from the estate")
    if representative is None:
        representative = _default_representative(client, on)
    _check_representative(client, representative)
    next_on = on + timedelta(days=follow_up_days(on))
    if case is not None:
        _check_existing_case(client, case)
    else:
        team = team or Team.objects.get_or_create(name=ESTATE_TEAM)[0]
        officer = actor if actor.is_active and has_any_role(actor, {Role.RESOURCE_MANAGEMENT_OFFICER}) else None
        case = case_create(client=client, case_type=CaseType.DECEASED_ESTATE, actor=actor, team=team,
                           title=f"Estate of the late {client.full_name}", assigned_officer=officer, due_date=next_on)
    estate = EstateCase.objects.create(case=case, date_of_death=died, representative=representative,
                                       next_follow_up_on=next_on, opened_by=actor, opened_on=on)
    _timeline(estate, "debt.estate.opened", f"Estate case {estate.reference} opened: {format_pounds(owed)} owed",
              actor, new={"estate": estate.pk, "owed": str(owed), "date_of_death": died.isoformat(),
                          "next_follow_up_on": next_on.isoformat(),
                          "representative": representative.pk if representative else None})
    return estate


@transaction.atomic
def estate_update_details(*, estate: EstateCase, actor, representative: Representative | None,
                          estimated_value: Decimal | None) -> EstateCase:
    """Record who the personal representative is and what the estate is thought to be worth."""
    estate = _locked(estate)
    _refuse_if_closed(estate)
    _check_representative(estate.case.client, representative)
    if estimated_value is not None:
        estimated_value = to_pennies(estimated_value)
        if estimated_value < 0:
            raise DomainError("The estimated value cannot be negative", field="estimated_value")
    old = {"representative": estate.representative_id,
           "estimated_value": None if estate.estimated_value is None else str(estate.estimated_value)}
    new = {"representative": representative.pk if representative else None,
           "estimated_value": None if estimated_value is None else str(estimated_value)}
    if old == new:
        return estate
    estate.representative, estate.estimated_value = representative, estimated_value
    estate.save(update_fields=["representative", "estimated_value"])
    who = f"{representative.name} ({representative.get_kind_display().lower()})" if representative else "no one"
    value = format_pounds(estimated_value) if estimated_value is not None else "not known"
    _timeline(estate, "debt.estate.details.changed",
              f"Estate details: personal representative {who}; estimated value {value}", actor, old=old, new=new)
    return estate


@transaction.atomic
def estate_record_probate(*, estate: EstateCase, status: str, actor, search_on: date | None = None,
                          grant_on: date | None = None, grant_reference: str = "") -> EstateCase:
    """Record what is known about probate: a search made (and when), a grant issued (date and
    reference), or that no grant is expected."""
    estate = _locked(estate)
    _refuse_if_closed(estate)
    if status not in ProbateStatus.values:
        raise DomainError("Choose what is known about probate", field="status")
    grant_reference = grant_reference.strip()
    if status == ProbateStatus.SEARCH_MADE and search_on is None:
        raise DomainError("Enter the date the probate search was made", field="search_on")
    if status == ProbateStatus.GRANT_ISSUED:
        if grant_on is None:
            raise DomainError("Enter the date the grant was issued", field="grant_on")
        if not grant_reference:
            raise DomainError("Enter the grant's reference", field="grant_reference")
    else:
        grant_on, grant_reference = None, ""
    _check_day(search_on, "The search date", "search_on", after=estate.date_of_death)
    _check_day(grant_on, "The grant date", "grant_on", after=estate.date_of_death)
    fields = ["probate_status", "probate_search_on", "grant_issued_on", "grant_reference"]
    old = {name: _iso(getattr(estate, name)) for name in fields}
    estate.probate_status = status
    estate.probate_search_on = search_on or estate.probate_search_on
    estate.grant_issued_on, estate.grant_reference = grant_on, grant_reference
    new = {name: _iso(getattr(estate, name)) for name in fields}
    if old == new:
        return estate
    estate.save(update_fields=fields)
    summary = f"Probate: {estate.get_probate_status_display().lower()}"
    if status == ProbateStatus.GRANT_ISSUED:
        summary += f" on {grant_on:%-d %B %Y} ({grant_reference})"
    elif status == ProbateStatus.SEARCH_MADE:
        summary += f" on {search_on:%-d %B %Y}"
    _timeline(estate, "debt.estate.probate.changed", summary, actor, old=old, new=new)
    return estate


@transaction.atomic
def estate_record_follow_up(*, estate: EstateCase, note: str, contact_made: bool, actor,
                            next_on: date | None = None) -> EstateFollowUp:
    """Record a follow-up and move the next follow-up date: by the interval in force today, or to
    the date the officer chose (which must be after today)."""
    estate = _locked(estate)
    _refuse_if_closed(estate)
    if not note.strip():
        raise DomainError("Say what was done or found out", field="note")
    today = timezone.localdate()
    if next_on is not None and next_on <= today:
        raise DomainError("The next follow-up must be after today", field="next_on")
    next_on = next_on or today + timedelta(days=follow_up_days(today))
    follow_up = EstateFollowUp.objects.create(estate=estate, note=note.strip(), contact_made=contact_made,
                                              previous_follow_up_on=estate.next_follow_up_on,
                                              next_follow_up_on=next_on, recorded_by=actor)
    old = estate.next_follow_up_on
    estate.next_follow_up_on = next_on
    estate.save(update_fields=["next_follow_up_on"])
    _timeline(estate, "debt.estate.followed_up",
              f"Estate follow-up{' (contact made)' if contact_made else ''}: next follow-up {next_on:%-d %B %Y}",
              actor, body=note.strip(), kind=TimelineKind.CALL if contact_made else TimelineKind.NOTE,
              old={"next_follow_up_on": old.isoformat()},
              new={"next_follow_up_on": next_on.isoformat(), "contact_made": contact_made, "follow_up": follow_up.pk})
    return follow_up


def _check_claim(estate: EstateCase) -> list:
    _refuse_if_closed(estate)
    invoices = owed_invoices(estate.case.client)
    if not invoices:
        raise DomainError(f"{estate.case.client.full_name} owes nothing on invoices: there is nothing to claim")
    return invoices


def estate_send_claim(*, estate: EstateCase, actor, on: date | None = None) -> Letter:
    """Send the claim letter to the personal representative, listing what is left to pay on each
    invoice; the case moves to "claim sent" and the next follow-up is set from the interval.

    1. Check and render the letter outside any lock (WeasyPrint is slow), storing its PDF.
    2. In one transaction, re-check under the row lock, save the letter and record the claim.
    """
    on = on or timezone.localdate()
    estate = EstateCase.objects.select_related("case", "case__client", "representative").get(pk=estate.pk)
    client = estate.case.client
    invoices = _check_claim(estate)
    next_on = on + timedelta(days=follow_up_days(on))
    representatives = [estate.representative] if estate.representative else []
    account = client.accounts.order_by("pk").first()
    context = get_letter_type(ESTATE_CLAIM_LETTER).build_context(
        client, on, representatives=representatives, invoices=invoices, date_of_death=estate.date_of_death,
        reply_by=next_on, account_number=account.number if account else "")
    prepared = letters.letter_prepare(client=client, letter_type=ESTATE_CLAIM_LETTER, on=on, actor=actor,
                                      case=estate.case, context=context, representatives=representatives)
    with transaction.atomic():
        estate = _locked(estate)
        _refuse_if_closed(estate)  # closed by someone else while the letter was rendered
        letter = letters.letters_save([prepared])[0]
        old = {"claim_sent_on": _iso(estate.claim_sent_on), "next_follow_up_on": estate.next_follow_up_on.isoformat()}
        estate.claim_sent_on, estate.claim_letter, estate.next_follow_up_on = on, letter, next_on
        estate.save(update_fields=["claim_sent_on", "claim_letter", "next_follow_up_on"])
        _timeline(estate, "debt.estate.claim.sent",
                  f"Claim of {context['balance']} sent to {letter.recipient_name}", actor, kind=TimelineKind.LETTER,
                  old=old, new={"claim_sent_on": on.isoformat(), "letter": letter.pk,
                                "amount": str(context["amount_due_value"]), "next_follow_up_on": next_on.isoformat()})
        if estate.stage == EstateStage.OPEN:
            estate_transition(estate=estate, to_stage=EstateStage.CLAIM_SENT, actor=actor)
    return letter


def _request_write_off(estate: EstateCase, actor) -> WriteOffRequest | None:
    """Ask to write off what is left on every unpaid invoice (less any write-off already waiting or
    approved for it), through the write-off rules; None when nothing is left to ask for."""
    invoices = owed_invoices(estate.case.client)
    pending = dict(WriteOffLine.objects.filter(
        invoice__in=invoices, request__status__in=[WriteOffStatus.REQUESTED, WriteOffStatus.APPROVED])
        .values("invoice_id").annotate(s=Sum("amount")).values_list("invoice_id", "s"))
    lines = [(i, i.outstanding - pending.get(i.pk, ZERO)) for i in invoices]
    lines = [(i, amount) for i, amount in lines if amount > 0]
    if not lines:
        return None
    note = f"Estate case {estate.reference}: {estate.get_outcome_display().lower()}."
    if estate.outcome_note:
        note += f" {estate.outcome_note}"
    return writeoff_request(client=estate.case.client, lines=lines, reason=WriteOffReason.DECEASED_NO_ESTATE,
                            note=note[:1000], actor=actor)


def _check_outcome(estate: EstateCase, outcome: str, note: str) -> None:
    if outcome not in EstateOutcome.values:
        raise DomainError("Choose the outcome", field="outcome")
    if outcome == EstateOutcome.RECORDED_IN_ERROR:
        return
    client = estate.case.client
    owed = balance_owed(client)
    paid = payments_since_death(client, estate.date_of_death)
    if outcome == EstateOutcome.PAID_IN_FULL and owed > 0:
        raise DomainError(f"{format_pounds(owed)} is still owed: the estate has not paid in full", field="outcome")
    if outcome == EstateOutcome.PAID_IN_PART:
        if paid <= 0:
            raise DomainError("No payment has been received since the death, so the estate has not paid in part",
                              field="outcome")
        if owed <= 0:
            raise DomainError("Nothing is left to pay: the estate has paid in full", field="outcome")
    if outcome in (EstateOutcome.NO_ESTATE, EstateOutcome.INSOLVENT, EstateOutcome.PAID_IN_PART) and not note.strip():
        raise DomainError("Say how you know (for example, what the personal representative told you)", field="note")


@transaction.atomic
def estate_transition(*, estate: EstateCase, to_stage: str, actor, outcome: str = "", note: str = "") -> EstateCase:
    """The one way an estate case changes stage. Closing needs an outcome whose conditions hold
    (paid in full: nothing left owed; paid in part: a payment since the death and something left);
    it closes the casework case and, for paid in part, no estate or an insolvent estate, asks for
    a write-off of what is left. Already in `to_stage` (with the same outcome): returned unchanged."""
    estate = _locked(estate)
    if estate.stage == to_stage and (to_stage != EstateStage.CLOSED or estate.outcome == outcome):
        return estate
    if to_stage not in EstateStage.values or not estate.can_transition_to(to_stage):
        target = EstateStage(to_stage).label.lower() if to_stage in EstateStage.values else to_stage
        if to_stage == EstateStage.CLOSED and outcome in EstateOutcome.values:
            target = f"closed as {EstateOutcome(outcome).label.lower()}"
        current = estate.get_stage_display().lower()
        if estate.outcome:
            current += f" ({estate.get_outcome_display().lower()})"
        raise DomainError(f"Estate case {estate.reference} is {current} and cannot become {target}")
    old = {"stage": estate.stage, "outcome": estate.outcome}
    fields = ["stage"]
    if to_stage == EstateStage.CLOSED:
        _check_outcome(estate, outcome, note)
        estate.outcome, estate.outcome_note, estate.closed_on = outcome, note.strip()[:1000], timezone.localdate()
        fields += ["outcome", "outcome_note", "closed_on"]
    estate.stage = to_stage
    if to_stage == EstateStage.CLOSED and outcome in WRITE_OFF_OUTCOMES:
        estate.write_off = _request_write_off(estate, actor)
        fields.append("write_off")
    estate.save(update_fields=fields)
    summary = f"Estate case {estate.reference}: {estate.get_stage_display().lower()}"
    if estate.outcome:
        summary = f"Estate case {estate.reference} closed: {estate.get_outcome_display().lower()}"
        if estate.write_off:
            summary += f"; write-off {estate.write_off.reference} of {format_pounds(estate.write_off.amount)} requested"
    _timeline(estate, f"debt.estate.{to_stage}", summary, actor, kind=TimelineKind.STATUS, body=note.strip(), old=old,
              new={"stage": estate.stage, "outcome": estate.outcome,
                   "write_off": estate.write_off_id if to_stage == EstateStage.CLOSED else None})
    if to_stage == EstateStage.CLOSED and estate.case.status != CaseStatus.CLOSED:
        reason = estate.get_outcome_display() + (f": {note.strip()}" if note.strip() else "")
        case_transition(case=estate.case, to_status=CaseStatus.CLOSED, actor=actor, reason=reason)
    return estate


def estate_close(*, estate: EstateCase, outcome: str, actor, note: str = "") -> EstateCase:
    """Record an officer's outcome (not "death recorded in error", which only reversing a death gives)."""
    if outcome not in OFFICER_OUTCOMES:
        raise DomainError("Choose the outcome", field="outcome")
    return estate_transition(estate=estate, to_stage=EstateStage.CLOSED, outcome=outcome, note=note, actor=actor)
