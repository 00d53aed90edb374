"""Investigations, section 70 liabilities and legal referrals. Every status change goes through
`investigation_transition` or `referral_transition`, which re-read the row under a lock and check
the model's table."""
import hashlib
from datetime import date
from decimal import Decimal
from uuid import uuid4

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from casework.constants import EntryKind, TimelineKind
from casework.letters.pdf import render_pdf
from casework.letters.types import UnknownLetterType, get_letter_type
from casework.models import Case, Client, Letter, TimelineEntry
from casework.models.council import current_council
from casework.money import ZERO, format_pounds, to_pennies
from casework.roles import Role, roles_of
from casework.selectors import statement
from casework.services import DomainError
from casework.services.clients import client_create
from casework.services.controls import why_same_person
from casework.services.ledger import account_for_client, ledger_post

from .. import legal, limitation
from ..holds import holds_for
from ..models import (
    AssetTransfer,
    EnforcementAction,
    Invoice,
    Investigation,
    InvestigationKind,
    InvestigationStatus,
    LegalReferral,
    ReferralStatus,
    ThirdPartyDebt,
)
from ..selectors import with_outstanding


def _timeline(*, client_id: int, case_id: int | None, action: str, summary: str, actor, old=None, new=None,
              body: str = "") -> None:
    TimelineEntry.objects.create(client_id=client_id, case_id=case_id, kind=TimelineKind.STATUS, action=action,
                                 summary=summary[:300], body=body, old_value=old, new_value=new, actor=actor,
                                 occurred_at=timezone.now())


# Investigations ------------------------------------------------------------------------------

@transaction.atomic
def investigation_open(*, case: Case, kind: str, actor, findings: str = "") -> Investigation:
    if kind not in InvestigationKind.values:
        raise DomainError("Choose the kind of investigation", field="kind")
    inv = Investigation.objects.create(case=case, kind=kind, findings=findings.strip(), officer=actor)
    _timeline(client_id=case.client_id, case_id=case.pk, action="debt.investigation.opened", actor=actor,
              summary=f"{inv.get_kind_display()} investigation {inv.reference} opened", new={"investigation": inv.pk})
    return inv


def _locked_open(investigation: Investigation) -> Investigation:
    locked = Investigation.objects.select_for_update().get(pk=investigation.pk)
    if locked.status != InvestigationStatus.OPEN:
        raise DomainError(f"Investigation {locked.reference} is closed: it cannot be changed")
    return locked


@transaction.atomic
def investigation_record(*, investigation: Investigation, actor, findings: str, contacts_made: str,
                         benefits_check_suggested: bool, benefits_check_note: str = "") -> Investigation:
    """Record what was found and who was contacted; the old values go on the timeline."""
    inv = _locked_open(investigation)
    if benefits_check_suggested and not benefits_check_note.strip():
        raise DomainError("Say which benefits the client may be entitled to", field="benefits_check_note")
    fields = {"findings": findings.strip(), "contacts_made": contacts_made.strip(),
              "benefits_check_suggested": benefits_check_suggested, "benefits_check_note": benefits_check_note.strip()}
    old = {k: getattr(inv, k) for k in fields}
    for k, v in fields.items():
        setattr(inv, k, v)
    inv.save(update_fields=list(fields))
    _timeline(client_id=inv.case.client_id, case_id=inv.case_id, action="debt.investigation.recorded", actor=actor,
              summary=f"Investigation {inv.reference} findings recorded", old=old, new=fields)
    return inv


@transaction.atomic
def investigation_transition(*, investigation: Investigation, to: str, actor, outcome: str = "") -> Investigation:
    locked = Investigation.objects.select_for_update().select_related("case").get(pk=investigation.pk)
    if locked.status == to:
        return locked
    if not locked.can_transition_to(to):
        raise DomainError(f"Investigation {locked.reference} is {locked.get_status_display().lower()} "
                          f"and cannot become {InvestigationStatus(to).label.lower()}")
    if to == InvestigationStatus.CLOSED and not outcome.strip():
        raise DomainError("Record the outcome before closing the investigation", field="outcome")
    old = locked.status
    locked.status, locked.outcome, locked.closed_at = to, outcome.strip(), timezone.now()
    locked.save(update_fields=["status", "outcome", "closed_at"])
    _timeline(client_id=locked.case.client_id, case_id=locked.case_id, action=f"debt.investigation.{to}",
              actor=actor, summary=f"Investigation {locked.reference} {locked.get_status_display().lower()}",
              old={"status": old}, new={"status": to}, body=locked.outcome)
    return locked


@transaction.atomic
def transfer_add(*, investigation: Investigation, asset: str, transferred_to: str, transferred_on: date,
                 value: Decimal, actor, consideration: Decimal = ZERO, relationship: str = "") -> AssetTransfer:
    inv = _locked_open(investigation)
    if inv.kind != InvestigationKind.DEPRIVATION:
        raise DomainError("Asset transfers belong to a deprivation of assets investigation")
    if value is None or value < 0 or (consideration or ZERO) < 0:
        raise DomainError("Enter amounts of zero or more", field="value")
    if transferred_on > timezone.localdate():
        raise DomainError("The transfer date cannot be in the future", field="transferred_on")
    transfer = AssetTransfer.objects.create(
        investigation=inv, asset=asset.strip(), transferred_to=" ".join(transferred_to.split()),
        relationship=relationship.strip(), transferred_on=transferred_on, value=to_pennies(value),
        consideration=to_pennies(consideration or ZERO))
    _timeline(client_id=inv.case.client_id, case_id=inv.case_id, action="debt.investigation.transfer_added",
              actor=actor, summary=f"Transfer of {transfer.asset} to {transfer.transferred_to} "
              f"({format_pounds(transfer.value)}) recorded", new={"transfer": transfer.pk})
    return transfer


@transaction.atomic
def transfer_finding(*, transfer: AssetTransfer, deliberate: bool, reasoning: str, actor) -> AssetTransfer:
    """The officer's finding on one transfer. Fixed once a third-party debt rests on it."""
    locked = AssetTransfer.objects.select_for_update().select_related("investigation__case").get(pk=transfer.pk)
    _locked_open(locked.investigation)
    if ThirdPartyDebt.objects.filter(transfer=locked).exists():
        raise DomainError("A third-party debt has been raised on this finding: it cannot be changed")
    if not reasoning.strip():
        raise DomainError("Give the reasons for the finding", field="reasoning")
    old = {"deliberate": locked.deliberate}
    locked.deliberate, locked.finding_reasoning = deliberate, reasoning.strip()
    locked.found_by, locked.found_at = actor, timezone.now()
    locked.save(update_fields=["deliberate", "finding_reasoning", "found_by", "found_at"])
    case = locked.investigation.case
    _timeline(client_id=case.client_id, case_id=case.pk, action="debt.investigation.finding", actor=actor,
              summary=f"Transfer of {locked.asset}: {'deliberate deprivation' if deliberate else 'not deliberate'}",
              old=old, new={"deliberate": deliberate}, body=locked.finding_reasoning)
    return locked


def section70_share(transfer: AssetTransfer, would_have_charged: Decimal, actually_charged: Decimal) -> Decimal:
    """This transferee's share of the s.70 liability among every transfer in the investigation
    found deliberate (DR-08: in proportion to the benefit each received)."""
    found = list(transfer.investigation.transfers.filter(deliberate=True).order_by("transferred_on", "id"))
    liabilities = legal.section70_liabilities(would_have_charged, actually_charged, [t.benefit for t in found])
    return dict(zip([t.pk for t in found], liabilities)).get(transfer.pk, ZERO)


@transaction.atomic
def third_party_liability_create(*, transfer: AssetTransfer, would_have_charged: Decimal,
                                 actually_charged: Decimal, address_line_1: str, postcode: str, actor,
                                 town: str = "") -> ThirdPartyDebt:
    """Raise the transferee's s.70 liability as a charge on their own account.

    1. Only for a transfer the officer found to be a deliberate deprivation, once.
    2. The amount is this transferee's share (`section70_share`).
    3. The transferee becomes a casework Client with reference TP + the transfer id.
    4. A `charge` entry is posted to their account; both timelines record it.
    """
    locked = AssetTransfer.objects.select_for_update().select_related("investigation__case__client").get(
        pk=transfer.pk)
    if locked.deliberate is not True:
        raise DomainError("Section 70 applies only where the transfer was found to be a deliberate deprivation")
    if ThirdPartyDebt.objects.filter(transfer=locked).exists():
        raise DomainError(f"A third-party debt already exists for the transfer to {locked.transferred_to}")
    amount = section70_share(locked, would_have_charged, actually_charged)
    if amount <= 0:
        raise DomainError("The charges avoided come to nothing, so there is no liability", field="would_have_charged")
    first, _, last = locked.transferred_to.rpartition(" ")
    if not first:
        raise DomainError("Record the transferee's full name (first and last name) on the transfer")
    person = client_create(actor=actor, reference=f"TP{locked.pk:06d}", first_name=first, last_name=last,
                           address_line_1=address_line_1, town=town, postcode=postcode)
    client, case = locked.investigation.case.client, locked.investigation.case
    entry = ledger_post(account=account_for_client(person), kind=EntryKind.CHARGE, amount=amount,
                        effective_date=timezone.localdate(), reference=f"S70-{locked.pk:06d}",
                        description=f"Care Act 2014 s.70 liability: {locked.asset} transferred by "
                                    f"{client.full_name} ({client.reference}) on {locked.transferred_on:%-d %B %Y}",
                        actor=actor)
    debt = ThirdPartyDebt.objects.create(transfer=locked, third_party=person, amount=amount, ledger_entry=entry,
                                         would_have_charged=to_pennies(would_have_charged),
                                         actually_charged=to_pennies(actually_charged), created_by=actor)
    _timeline(client_id=client.pk, case_id=case.pk, action="debt.section70.raised", actor=actor,
              summary=f"Section 70 liability of {format_pounds(amount)} raised on {person.full_name} "
                      f"({person.reference})", new={"third_party_debt": debt.pk, "amount": str(amount)})
    return debt


# Legal referrals -------------------------------------------------------------------------------

def why_not_to_court(client: Client, invoices, on: date) -> str | None:
    """Why these invoices cannot go to court on `on`, in words; None if they can."""
    barred = [i.number for i in invoices if limitation.statute_barred(i, on)]
    if barred:
        return f"Statute barred, so it can never go to court: {', '.join(barred)}"
    if holds := holds_for(client.pk, on):
        return f"The client's debt is on hold ({'; '.join(h.reason or h.kind for h in holds)})"
    return None


def _owing(invoices) -> list[Invoice]:
    return list(with_outstanding(Invoice.objects.filter(pk__in=[i.pk for i in invoices])).order_by("due_date", "id"))


@transaction.atomic
def referral_request(*, client: Client, invoices: list[Invoice], actor, note: str = "",
                     case: Case | None = None) -> LegalReferral:
    if not invoices:
        raise DomainError("Choose at least one invoice to refer", field="invoices")
    owing = _owing(invoices)
    if any(i.client_id != client.pk for i in owing):
        raise DomainError("Every invoice must be this client's", field="invoices")
    if reason := why_not_to_court(client, owing, timezone.localdate()):
        raise DomainError(reason, field="invoices")
    amount = to_pennies(sum((max(i.outstanding, ZERO) for i in owing), ZERO))
    if amount <= 0:
        raise DomainError("The chosen invoices owe nothing", field="invoices")
    referral = LegalReferral.objects.create(client=client, case=case, amount=amount, note=note.strip(),
                                            requested_by=actor)
    referral.invoices.set(owing)
    _timeline(client_id=client.pk, case_id=referral.case_id, action="debt.legal.requested", actor=actor,
              summary=f"Legal referral {referral.reference} of {format_pounds(amount)} sent for approval",
              new={"referral": referral.pk, "amount": str(amount)}, body=referral.note)
    return referral


def why_cannot_decide(referral: LegalReferral, user) -> str | None:
    if referral.status != ReferralStatus.REQUESTED:
        return f"This referral is {referral.get_status_display().lower()}: there is nothing to decide"
    if Role.TEAM_LEADER not in roles_of(user):
        return "Only a team leader can approve a legal referral"
    return why_same_person(user, referral.requested_by_id, action="decide it (another team leader)")


def _set(referral: LegalReferral, **fields) -> list[str]:
    for k, v in fields.items():
        setattr(referral, k, v)
    return list(fields)


@transaction.atomic
def referral_transition(*, referral: LegalReferral, to: str, actor, note: str = "", **fields) -> LegalReferral:
    """Move a referral to `to`, saving `fields` with it. Already in `to`: returned unchanged."""
    locked = LegalReferral.objects.select_for_update().select_related("client").get(pk=referral.pk)
    if locked.status == to:
        return locked
    if not locked.can_transition_to(to):
        raise DomainError(f"Referral {locked.reference} is {locked.get_status_display().lower()} "
                          f"and cannot become {ReferralStatus(to).label.lower()}")
    if to in (ReferralStatus.APPROVED, ReferralStatus.REJECTED):
        if reason := why_cannot_decide(locked, actor):
            raise DomainError(reason)
        fields.update(decided_by=actor, decided_at=timezone.now(), decision_note=note.strip())
    if to in (ReferralStatus.APPROVED, ReferralStatus.CLAIM_ISSUED):
        on = fields.get("claim_issued_on") or timezone.localdate()
        if reason := why_not_to_court(locked.client, list(locked.invoices.all()), on):
            raise DomainError(reason)
    old = locked.status
    update = _set(locked, status=to, **fields)
    locked.save(update_fields=update)
    _timeline(client_id=locked.client_id, case_id=locked.case_id, action=f"debt.legal.{to}", actor=actor,
              summary=f"Legal referral {locked.reference}: {locked.get_status_display().lower()}",
              old={"status": old}, new={"status": to, **{k: str(v) for k, v in fields.items()
                                                         if k not in ("decided_by", "claim_pack")}},
              body=note.strip())
    return locked


def referral_approve(*, referral: LegalReferral, actor, note: str = "") -> LegalReferral:
    return referral_transition(referral=referral, to=ReferralStatus.APPROVED, actor=actor, note=note)


def referral_reject(*, referral: LegalReferral, actor, note: str) -> LegalReferral:
    if not note.strip():
        raise DomainError("Say why the referral is rejected", field="note")
    return referral_transition(referral=referral, to=ReferralStatus.REJECTED, actor=actor, note=note)


def claim_figures(referral: LegalReferral, issued_on: date) -> dict:
    """The particulars' figures on the issue date: the invoices still owing, interest on each from
    its due date (DR-20, WE-10), and the fee on the claim plus interest (DR-22)."""
    rate = legal.interest_rate_on(issued_on)
    if rate is None:
        raise DomainError("No claim interest rate is set for that date: ask an administrator to add one")
    owing = [i for i in _owing(referral.invoices.all()) if i.outstanding > 0]
    amount = to_pennies(sum((i.outstanding for i in owing), ZERO))
    if amount <= 0:
        raise DomainError("The referred invoices have been paid: there is nothing to claim")
    interest = legal.interest_total([(i.outstanding, (issued_on - i.due_date).days) for i in owing], rate)
    try:
        fee = legal.court_fee(amount + interest, issued_on)
    except legal.NoFeeBand as exc:
        raise DomainError(f"{exc}: ask an administrator to update the court fee table") from exc
    return {"invoices": owing, "amount": amount, "rate": rate, "interest": interest, "fee": fee,
            "daily_rate": legal.pleaded_daily_rate(amount, rate), "total": amount + interest + fee,
            "issued_on": issued_on}


def _letter_name(code: str) -> str:
    try:
        return get_letter_type(code).name
    except UnknownLetterType:
        return code.replace("_", " ").capitalize()


def claim_pack_html(referral: LegalReferral, figures: dict) -> str:
    client = referral.client
    letters = [{"sent": l.created_at, "name": _letter_name(l.letter_type), "to": l.recipient_name}
               for l in Letter.objects.filter(client=client).order_by("created_at", "id")]
    return render_to_string("debt/legal/claim_pack.html", {
        "referral": referral, "client": client, "f": figures, "council": current_council(), "letters": letters,
        "statement": statement(account_for_client(client), end=figures["issued_on"])})


def referral_issue_claim(*, referral: LegalReferral, issued_on: date, actor) -> LegalReferral:
    """Fix the claim's figures, make the claim pack and mark the claim issued.

    1. Check the move and work out the figures (no lock held yet).
    2. Render the pack outside any transaction: WeasyPrint takes a while and holds no lock.
    3. Store the file, then move the referral under a lock; a refusal there deletes the file.
    """
    referral = LegalReferral.objects.select_related("client").get(pk=referral.pk)  # the caller's copy may be stale
    if not referral.can_transition_to(ReferralStatus.CLAIM_ISSUED):
        raise DomainError(f"Referral {referral.reference} is {referral.get_status_display().lower()}: "
                          "a claim can be issued only once it is approved")
    if issued_on > timezone.localdate():
        raise DomainError("The issue date cannot be in the future", field="issued_on")
    figures = claim_figures(referral, issued_on)
    pdf = render_pdf(claim_pack_html(referral, figures)).content
    name = default_storage.save(f"legal/claim-packs/{referral.reference}-{uuid4().hex}.pdf", ContentFile(pdf))
    try:
        return referral_transition(
            referral=referral, to=ReferralStatus.CLAIM_ISSUED, actor=actor, claim_issued_on=issued_on,
            amount=figures["amount"], interest_rate=figures["rate"], daily_rate=figures["daily_rate"],
            interest=figures["interest"], court_fee=figures["fee"], claim_pack=name,
            claim_pack_sha256=hashlib.sha256(pdf).hexdigest())
    except Exception:
        default_storage.delete(name)
        raise


def referral_record_judgment(*, referral: LegalReferral, judgment_on: date, amount: Decimal, court_name: str,
                             claim_number: str, actor) -> LegalReferral:
    if not court_name.strip() or not claim_number.strip():
        raise DomainError("Enter the court and the claim number", field="court_name")
    if referral.claim_issued_on and judgment_on < referral.claim_issued_on:
        raise DomainError("Judgment cannot come before the claim was issued", field="judgment_on")
    if amount is None or amount <= 0:
        raise DomainError("Enter the judgment amount", field="amount")
    return referral_transition(referral=referral, to=ReferralStatus.JUDGMENT, actor=actor, judgment_on=judgment_on,
                               judgment_amount=to_pennies(amount), court_name=court_name.strip(),
                               claim_number=claim_number.strip().upper())


@transaction.atomic
def referral_record_enforcement(*, referral: LegalReferral, kind: str, applied_on: date, actor,
                                granted_on: date | None = None, notes: str = "") -> EnforcementAction:
    """Record an attachment of earnings or charging order; the first moves the referral to enforcement."""
    locked = LegalReferral.objects.select_for_update().get(pk=referral.pk)
    if locked.status not in (ReferralStatus.JUDGMENT, ReferralStatus.ENFORCEMENT):
        raise DomainError(f"Referral {locked.reference} is {locked.get_status_display().lower()}: "
                          "enforcement follows a judgment")
    if granted_on and granted_on < applied_on:
        raise DomainError("An order cannot be granted before it was applied for", field="granted_on")
    action = EnforcementAction.objects.create(referral=locked, kind=kind, applied_on=applied_on,
                                              granted_on=granted_on, notes=notes.strip(), created_by=actor)
    referral_transition(referral=locked, to=ReferralStatus.ENFORCEMENT, actor=actor)
    _timeline(client_id=locked.client_id, case_id=locked.case_id, action="debt.legal.enforcement_recorded",
              actor=actor, summary=f"{action.get_kind_display()} applied for on {applied_on:%-d %B %Y} "
                                   f"({locked.reference})", new={"enforcement": action.pk}, body=action.notes)
    return action


def referral_close(*, referral: LegalReferral, actor, note: str) -> LegalReferral:
    if not note.strip():
        raise DomainError("Say why the referral is closed", field="note")
    return referral_transition(referral=referral, to=ReferralStatus.CLOSED, actor=actor, note=note)
