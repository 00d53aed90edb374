"""Every change to a client's financial affairs goes through a function here.

Each runs in one transaction, checks the rule it enforces, and writes the case timeline in the
same transaction. Casework's own services do the shared parts: the Case is opened and closed by
case_create and case_transition, documents are stored by document_upload, a deputy becomes a
Representative through representative_add, capacity reaches the client through client_update and
section 47 costs reach the ledger through ledger_post.
"""
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from casework import services
from casework.constants import CaseStatus, CaseType, EntryKind, RepresentativeKind, TimelineKind
from casework.models import (
    AffairsCase,
    AffairsCost,
    AffairsKind,
    AffairsStatus,
    CapacityAssessment,
    Case,
    ChecklistStep,
    ChecklistStepDefinition,
    Client,
    CourtFee,
    Document,
    FeeOutcome,
    StepCapture,
    Team,
    TimelineEntry,
)
from casework.money import MoneyError, to_pennies
from casework.services import DomainError
from casework.services.cases import _check_upload

#: The shared Case type each kind of affairs case is opened as.
CASE_TYPE_FOR_KIND = {
    AffairsKind.APPOINTEESHIP: CaseType.FINANCIAL_AFFAIRS,
    AffairsKind.DEPUTYSHIP: CaseType.FINANCIAL_AFFAIRS,
    AffairsKind.PROTECTION_OF_PROPERTY: CaseType.PROTECTION_OF_PROPERTY,
    AffairsKind.FINANCE_ONLY: CaseType.FINANCE_ONLY,
}
#: The fee a deputyship application pays (a CourtFee code).
APPLICATION_FEE_CODE = "cop_application"


def _entry(*, case: Case, action: str, summary: str, actor, kind: str = TimelineKind.SYSTEM, body: str = "",
           old=None, new=None, document: Document | None = None) -> TimelineEntry:
    return TimelineEntry.objects.create(
        client_id=case.client_id, case=case, kind=kind, action=action, summary=summary[:300], body=body,
        old_value=old, new_value=new, actor=actor, occurred_at=timezone.now(), document=document,
    )


def _locked(affairs: AffairsCase) -> AffairsCase:
    return AffairsCase.objects.select_for_update().select_related("case", "case__client").get(pk=affairs.pk)


def _not_future(day: date | None, field: str, what: str) -> None:
    if day and day > timezone.localdate():
        raise DomainError(f"{what} cannot be in the future", field=field)


def fee_on(code: str, on: date) -> CourtFee | None:
    """The court fee of a code in force on a day, or None when none is recorded for that day."""
    return CourtFee.objects.filter(code=code, effective_from__lte=on).order_by("-effective_from").first()


# --- Opening and status ----------------------------------------------------------------------------


@transaction.atomic
def affairs_start(*, client: Client, kind: str, title: str, team: Team, actor, assigned_officer=None,
                  reason: str = "", review_date: date | None = None, due_date: date | None = None) -> AffairsCase:
    """Open an affairs case of a kind on a new casework Case.

    A client has at most one active case of each kind; finance-only cases need a reason and a
    review date that has not passed.
    """
    if kind not in AffairsKind.values:
        raise DomainError("Choose the kind of case", field="kind")
    client = Client.objects.select_for_update().get(pk=client.pk)  # one active case per kind, even in a race
    if client.date_of_death:
        raise DomainError(f"{client.full_name} has died: the estate is dealt with as a deceased client's estate")
    if AffairsCase.objects.active().filter(case__client=client, kind=kind).exists():
        raise DomainError(f"{client.full_name} already has an active {AffairsKind(kind).label.lower()} case",
                          field="kind")
    reason = reason.strip()
    if kind == AffairsKind.FINANCE_ONLY:
        if not reason:
            raise DomainError("Give the reason for finance-only involvement", field="reason")
        if review_date is None:
            raise DomainError("Enter the date to review the finance-only involvement", field="review_date")
    if review_date and review_date < timezone.localdate():
        raise DomainError("The review date cannot be in the past", field="review_date")
    case = services.case_create(client=client, case_type=CASE_TYPE_FOR_KIND[AffairsKind(kind)], title=title,
                                team=team, actor=actor, assigned_officer=assigned_officer, due_date=due_date)
    affairs = AffairsCase.objects.create(case=case, kind=kind, reason=reason, review_date=review_date,
                                         created_by=actor)
    _entry(case=case, action="affairs.started", actor=actor, body=reason,
           summary=f"{affairs.get_kind_display()} started",
           new={"kind": kind, "review_date": review_date.isoformat() if review_date else None})
    return affairs


def missing_required_steps(affairs: AffairsCase) -> list[ChecklistStepDefinition]:
    done = set(affairs.steps.values_list("definition_id", flat=True))
    return [d for d in ChecklistStepDefinition.objects.filter(kind=affairs.kind, active=True, required=True)
            if d.pk not in done]


@transaction.atomic
def affairs_transition(*, affairs: AffairsCase, to_status: str, actor, reason: str = "") -> AffairsCase:
    """The one way an affairs case changes status. Completing needs every required step done;
    withdrawing needs a reason. Completing or withdrawing closes the casework Case too."""
    affairs = _locked(affairs)
    if affairs.status == to_status:
        return affairs
    if to_status not in AffairsStatus.values or not affairs.can_transition_to(to_status):
        target = AffairsStatus(to_status).label.lower() if to_status in AffairsStatus.values else to_status
        raise DomainError(f"{affairs.reference} cannot move from {affairs.get_status_display().lower()} to {target}",
                          field="status")
    reason = reason.strip()
    if to_status == AffairsStatus.WITHDRAWN and not reason:
        raise DomainError("Give the reason for withdrawing", field="reason")
    if to_status == AffairsStatus.COMPLETED:
        missing = missing_required_steps(affairs)
        if missing:
            raise DomainError(f"{affairs.reference} cannot be completed: not yet done: "
                              + "; ".join(d.label for d in missing), field="status")
    old = affairs.status
    affairs.status = to_status
    affairs.status_reason = reason[:300]
    finished = to_status in (AffairsStatus.COMPLETED, AffairsStatus.WITHDRAWN)
    affairs.finished_at = timezone.now() if finished else None
    affairs.save(update_fields=["status", "status_reason", "finished_at"])
    _entry(case=affairs.case, kind=TimelineKind.STATUS, action="affairs.status.changed", actor=actor, body=reason,
           summary=f"{affairs.get_kind_display()}: {AffairsStatus(old).label} to {affairs.get_status_display()}",
           old={"status": old}, new={"status": to_status})
    _follow_on_case(affairs, actor, reason)
    return affairs


def _follow_on_case(affairs: AffairsCase, actor, reason: str) -> None:
    """Keep the shared Case's status in step: working moves it on from open; finishing closes it."""
    case = affairs.case
    if affairs.status == AffairsStatus.IN_PROGRESS and case.status == CaseStatus.OPEN:
        affairs.case = services.case_transition(case=case, to_status=CaseStatus.IN_PROGRESS, actor=actor)
    elif affairs.status in (AffairsStatus.COMPLETED, AffairsStatus.WITHDRAWN) and case.status != CaseStatus.CLOSED:
        default = f"{affairs.get_kind_display()} {affairs.get_status_display().lower()}"
        affairs.case = services.case_transition(case=case, to_status=CaseStatus.CLOSED, actor=actor,
                                                reason=reason or default)


# --- Checklist -------------------------------------------------------------------------------------


def _definition(affairs: AffairsCase, code: str) -> ChecklistStepDefinition:
    definition = ChecklistStepDefinition.objects.filter(kind=affairs.kind, code=code, active=True).first()
    if definition is None:
        raise DomainError(f"A {affairs.get_kind_display().lower()} case has no step '{code}'")
    return definition


def _store(affairs: AffairsCase, upload: UploadedFile | None, description: str, actor) -> Document | None:
    if upload is None:
        return None
    return _client_document(affairs.case.client, upload, description, actor, affairs.case)


def _record_step(*, affairs: AffairsCase, definition: ChecklistStepDefinition, actor, done_on: date | None,
                 note: str, upload: UploadedFile | None, document: Document | None = None) -> ChecklistStep:
    """Check and record one step on a locked, active affairs case."""
    if not affairs.is_active:
        raise DomainError(f"{affairs.reference} is {affairs.get_status_display().lower()}: its checklist is closed")
    if ChecklistStep.objects.filter(affairs=affairs, definition=definition).exists():
        raise DomainError(f"'{definition.label}' is already recorded on {affairs.reference}")
    if definition.requires_date and done_on is None:
        raise DomainError("Enter the date this was done", field="done_on")
    _not_future(done_on, "done_on", "The date")
    if definition.requires_document and upload is None and document is None:
        raise DomainError("Attach the document for this step", field="document")
    document = document or _store(affairs, upload, definition.label, actor)
    step = ChecklistStep.objects.create(affairs=affairs, definition=definition, done_on=done_on,
                                        note=note.strip(), document=document, completed_by=actor)
    _entry(case=affairs.case, action="affairs.step.completed", actor=actor, body=step.note, document=document,
           summary=f"Done: {definition.label}" + (f" ({done_on:%d %B %Y})" if done_on else ""),
           new={"step": definition.code, "done_on": done_on.isoformat() if done_on else None})
    if affairs.status == AffairsStatus.OPEN:
        affairs_transition(affairs=affairs, to_status=AffairsStatus.IN_PROGRESS, actor=actor)
        affairs.refresh_from_db(fields=["status", "status_reason", "finished_at"])
    return step


@transaction.atomic
def affairs_complete_step(*, affairs: AffairsCase, code: str, actor, done_on: date | None = None, note: str = "",
                          upload: UploadedFile | None = None) -> ChecklistStep:
    """Record a plain step as done: its date, who, a note and an optional (or required) document.
    Steps that capture more (the fee, the deputy, section 47 costs) have their own service."""
    affairs = _locked(affairs)
    definition = _definition(affairs, code)
    if definition.capture != StepCapture.PLAIN:
        raise DomainError(f"'{definition.label}' is recorded on its own form")
    return _record_step(affairs=affairs, definition=definition, actor=actor, done_on=done_on, note=note, upload=upload)


@transaction.atomic
def affairs_record_fee(*, affairs: AffairsCase, outcome: str, done_on: date, actor, amount_paid: Decimal | None = None,
                       note: str = "", upload: UploadedFile | None = None) -> ChecklistStep:
    """The Court of Protection application fee step: paid, exempt or remitted in full or in part.

    The standard fee comes from the CourtFee table for the day. A full payment of any other amount
    needs a note saying why (the table may be out of date); exempt and remitted pay nothing.
    """
    affairs = _locked(affairs)
    definition = _definition(affairs, "fee")
    if outcome not in FeeOutcome.values:
        raise DomainError("Choose whether the fee was paid, exempt or remitted", field="outcome")
    if done_on is None:
        raise DomainError("Enter the date", field="done_on")
    rate = fee_on(APPLICATION_FEE_CODE, done_on)
    if rate is None:
        raise DomainError(f"No Court of Protection application fee is recorded for {done_on:%d %B %Y}: "
                          "ask an administrator to add it", field="done_on")
    try:
        paid = to_pennies(amount_paid) if amount_paid is not None else None
    except MoneyError as exc:
        raise DomainError(str(exc), field="amount_paid") from exc
    if outcome in (FeeOutcome.EXEMPT, FeeOutcome.REMITTED):
        if paid:
            raise DomainError("Nothing is paid when the fee is exempt or remitted in full", field="amount_paid")
        paid = Decimal("0.00")
    elif outcome == FeeOutcome.PART_REMITTED:
        if paid is None or not (Decimal("0") < paid < rate.amount):
            raise DomainError(f"Enter the part paid: more than £0 and less than the £{rate.amount:,.2f} fee",
                              field="amount_paid")
    else:
        paid = rate.amount if paid is None else paid
        if paid <= 0:
            raise DomainError("Enter the amount paid", field="amount_paid")
        if paid != rate.amount and not note.strip():
            raise DomainError(f"The fee on that date is £{rate.amount:,.2f}: say in the note why £{paid:,.2f} was paid",
                              field="note")
    affairs.fee_outcome, affairs.fee_standard, affairs.fee_paid, affairs.fee_rate = outcome, rate.amount, paid, rate
    affairs.save(update_fields=["fee_outcome", "fee_standard", "fee_paid", "fee_rate"])
    summary = f"{FeeOutcome(outcome).label}: £{paid:,.2f} of the £{rate.amount:,.2f} fee"
    return _record_step(affairs=affairs, definition=definition, actor=actor, done_on=done_on,
                        note=f"{summary}. {note.strip()}".strip(), upload=upload)


@transaction.atomic
def affairs_appoint_deputy(*, affairs: AffairsCase, appointed_on: date, name: str, address_line_1: str, postcode: str,
                           actor, organisation: str = "", address_line_2: str = "", town: str = "", phone: str = "",
                           email: str = "", authority_reference: str = "", note: str = "",
                           upload: UploadedFile | None = None) -> ChecklistStep:
    """The deputy step: the court's order must be recorded first. The deputy becomes a Representative
    of kind deputy (through casework's representative_add), so the capacity, correspondence and
    recovery rules see who acts for the client."""
    affairs = _locked(affairs)
    definition = _definition(affairs, "deputy_appointed")
    if not affairs.is_active:
        raise DomainError(f"{affairs.reference} is {affairs.get_status_display().lower()}: its checklist is closed")
    if not affairs.steps.filter(definition__code="order_made").exists():
        raise DomainError("Record the court's order before the deputy it appoints")
    if appointed_on is None:
        raise DomainError("Enter the date of appointment", field="appointed_on")
    _not_future(appointed_on, "appointed_on", "The date of appointment")
    if not name.strip():
        raise DomainError("Enter the deputy's name", field="name")
    rep = services.representative_add(
        client=affairs.case.client, actor=actor, kind=RepresentativeKind.DEPUTY, name=name.strip(),
        organisation=organisation.strip(), relationship="Property and affairs deputy",
        address_line_1=address_line_1.strip(), address_line_2=address_line_2.strip(), town=town.strip(),
        postcode=postcode, phone=phone.strip(), email=email.strip(),
        authority_reference=authority_reference.strip() or affairs.court_reference, start_date=appointed_on,
    )
    affairs.deputy = rep
    if authority_reference.strip() and not affairs.court_reference:
        affairs.court_reference = authority_reference.strip()[:60]
    affairs.save(update_fields=["deputy", "court_reference"])
    return _record_step(affairs=affairs, definition=definition, actor=actor, done_on=appointed_on,
                        note=f"{rep.name} appointed deputy. {note.strip()}".strip(), upload=upload)


@transaction.atomic
def affairs_recover_costs(*, affairs: AffairsCase, effective_date: date, reason: str, actor,
                          amount: Decimal | None = None, upload: UploadedFile | None = None) -> AffairsCost | None:
    """Charge the costs of protecting a client's property to their account (Care Act s.47(7)),
    with the reason, and mark the costs step done. With no amount the step is recorded as no
    costs recovered, with the reason why. Further costs may be charged while the case is active."""
    affairs = _locked(affairs)
    definition = _definition(affairs, "costs_recovered")
    if not affairs.is_active:
        raise DomainError(f"{affairs.reference} is {affairs.get_status_display().lower()}: its checklist is closed")
    reason = reason.strip()
    if not reason:
        raise DomainError("Give the reason (what the costs were for, or why none are recovered)", field="reason")
    if effective_date is None:
        raise DomainError("Enter the date", field="effective_date")
    _not_future(effective_date, "effective_date", "The date")
    step_done = affairs.steps.filter(definition=definition).exists()
    cost = None
    if amount is not None:
        if amount <= 0:
            raise DomainError("Enter the costs as an amount more than £0", field="amount")
        case = affairs.case
        number = affairs.costs.count() + 1
        entry = services.ledger_post(
            account=services.account_for_client(case.client), kind=EntryKind.CHARGE, amount=amount,
            effective_date=effective_date, reference=f"S47-{case.pk:06d}-{number}",
            description=f"Protection of property costs (Care Act s.47): {reason}"[:300], actor=actor, case=case,
        )
        cost = AffairsCost.objects.create(affairs=affairs, ledger_entry=entry, reason=reason[:300], recorded_by=actor)
    elif step_done:
        raise DomainError("Enter the amount of the further costs", field="amount")
    if not step_done:
        note = f"£{to_pennies(amount):,.2f} charged: {reason}" if cost else f"No costs recovered: {reason}"
        _record_step(affairs=affairs, definition=definition, actor=actor, done_on=effective_date, note=note,
                     upload=upload)
    return cost


# --- Mental capacity -------------------------------------------------------------------------------


def _client_document(client: Client, upload: UploadedFile, description: str, actor, case: Case | None) -> Document:
    """Store an upload through casework's checks; a refusal points at this app's `document` field."""
    try:
        if case is not None:
            return services.document_upload(case=case, upload=upload, description=description, actor=actor)
        content_type = _check_upload(upload)
    except DomainError as exc:
        raise DomainError(exc.message, field="document") from exc
    doc = Document(client=client, case=None, original_name=upload.name[:255], content_type=content_type,
                   size=upload.size, description=description[:300], uploaded_by=actor)
    doc.file.save(upload.name, upload, save=False)
    doc.save()
    return doc


@transaction.atomic
def capacity_assessment_record(*, client: Client, assessed_on: date, assessor: str, decision: str, outcome: str,
                               actor, note: str = "", upload: UploadedFile | None = None,
                               case: Case | None = None) -> CapacityAssessment:
    """Record a capacity assessment about a financial decision. The most recent assessment sets the
    client's capacity, date and assessor (through client_update, so the client's history shows the
    change); one older than the client's current assessment is kept but changes nothing."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if outcome not in dict(CapacityAssessment.OUTCOMES):
        raise DomainError("Choose the outcome of the assessment", field="outcome")
    if assessed_on is None:
        raise DomainError("Enter the date of the assessment", field="assessed_on")
    _not_future(assessed_on, "assessed_on", "The date of the assessment")
    if client.date_of_birth and assessed_on < client.date_of_birth:
        raise DomainError("The assessment cannot be before the client was born", field="assessed_on")
    if not assessor.strip():
        raise DomainError("Enter who assessed capacity", field="assessor")
    if not decision.strip():
        raise DomainError("Enter the financial decision the assessment was about", field="decision")
    if case is not None and case.client_id != client.pk:
        raise DomainError("That case is another client's")
    evidence = _client_document(client, upload, f"Capacity assessment {assessed_on:%d %B %Y}", actor, case) \
        if upload is not None else None
    assessment = CapacityAssessment.objects.create(
        client=client, case=case, assessed_on=assessed_on, assessor=assessor.strip(), decision=decision.strip(),
        outcome=outcome, note=note.strip(), evidence=evidence, recorded_by=actor,
    )
    latest = client.capacity_assessed_on is None or assessed_on >= client.capacity_assessed_on
    TimelineEntry.objects.create(
        client=client, case=case, kind=TimelineKind.SYSTEM, action="capacity.assessment.recorded", actor=actor,
        summary=f"Capacity assessment recorded: {assessment.get_outcome_display().lower()} "
                f"({assessed_on:%d %B %Y}, {assessment.assessor})"[:300],
        body=f"Decision: {assessment.decision}" + ("" if latest else
                                                   "\nOlder than the client's current assessment: not applied."),
        new_value={"assessment": assessment.pk, "outcome": outcome, "applied": latest}, document=evidence,
        occurred_at=timezone.now(),
    )
    if latest:
        services.client_update(client=client, actor=actor, capacity=outcome, capacity_assessed_on=assessed_on,
                               capacity_assessor=assessment.assessor[:200],
                               reason=f"Capacity assessment: {assessment.decision}"[:300])
    return assessment
