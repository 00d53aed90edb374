"""Investigations, section 70 liabilities and legal referrals. Every status change goes through
`investigation_transition` or `referral_transition`, which re-read the row under a lock and check
the model's table."""
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from casework.calendar import add_working_days
from casework.constants import Capacity, EntryKind, TimelineKind
from casework.letters.pdf import render_pdf
from casework.letters.types import UnknownLetterType, get_letter_type
from casework.models import CapacityAssessment, Case, Client, LedgerEntry, Letter, TimelineEntry
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
    PaymentAllocation,
    PreActionRule,
    RecoveryEvent,
    ReferralStatus,
    ServiceMethod,
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


# The rules a claim must meet ---------------------------------------------------------------------

#: The letter type of the Pre-Action Protocol letter before claim (the recovery ladder's stage 40).
LETTER_BEFORE_CLAIM = "recovery_letter_before_claim"


class CourtRulesNotMet(DomainError):
    """Every rule a claim does not meet, each as its own sentence (`refusals`)."""

    def __init__(self, refusals: list[str]):
        self.refusals = list(refusals)
        super().__init__(" ".join(self.refusals))


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


def letter_dates(letters) -> dict[int, date]:
    """{letter pk: the date printed on the letter}. A ladder letter is dated the business day of
    the recovery event that sent it, an invoice letter its issue date; a letter neither records
    is dated the day it was produced."""
    letters = list(letters)
    ids = [letter.pk for letter in letters]
    dated = dict(RecoveryEvent.objects.filter(letter_id__in=ids).values_list("letter_id", "business_date"))
    dated.update(Invoice.objects.filter(letter_id__in=ids).values_list("letter_id", "issue_date"))
    return {letter.pk: dated.get(letter.pk) or timezone.localtime(letter.created_at).date() for letter in letters}


def pre_action_rule_on(on: date, method: str = ServiceMethod.FIRST_CLASS_POST) -> PreActionRule | None:
    return PreActionRule.objects.filter(method=method, effective_from__lte=on).order_by("-effective_from").first()


@dataclass(frozen=True)
class PreActionTimes:
    """The letter before claim's dates: posted (the date on the letter), deemed served, and the
    last day of the reply period. A claim may be made from the day after `reply_ends`."""
    letter: Letter
    posted: date
    served: date
    reply_ends: date
    rule: PreActionRule


def letter_before_claim(client: Client, on: date) -> tuple[Letter, date] | None:
    """The latest letter before claim sent to the client dated on or before `on`, with its date."""
    letters = list(Letter.objects.filter(client=client, letter_type=LETTER_BEFORE_CLAIM))
    dates = letter_dates(letters)
    dated = [(dates[letter.pk], letter.pk, letter) for letter in letters if dates[letter.pk] <= on]
    if not dated:
        return None
    day, _, letter = max(dated, key=lambda t: (t[0], t[1]))
    return letter, day


def pre_action_times(letter: Letter, posted: date, rule: PreActionRule) -> PreActionTimes:
    """Deemed served on the rule's nth business day after posting (CPR 6.26; business days are
    working days: no weekends or bank holidays), then `reply_days` calendar days to reply."""
    served = add_working_days(posted, rule.deemed_service_business_days)
    return PreActionTimes(letter=letter, posted=posted, served=served,
                          reply_ends=served + timedelta(days=rule.reply_days), rule=rule)


def lacks_capacity(client: Client, on: date) -> CapacityAssessment | Client | None:
    """The latest capacity assessment on or before `on` if it found the client lacks capacity to
    manage their finances; with no assessment, the client's recorded capacity. None otherwise."""
    latest = CapacityAssessment.objects.filter(client=client, assessed_on__lte=on).order_by(
        "-assessed_on", "-id").first()
    if latest is not None:
        return latest if latest.outcome == Capacity.LACKS else None
    return client if client.capacity == Capacity.LACKS else None


@dataclass
class Reconciliation:
    """How the statement of account's balance is made up from the amount claimed, so that the
    statement in the pack agrees with the claim. `lines` are (label, amount) added to the amount
    claimed; `explained` is their sum with it; the claim reconciles when that equals `balance`."""
    claimed: Decimal
    lines: list[tuple[str, Decimal]]
    balance: Decimal
    on: date

    @property
    def explained(self) -> Decimal:
        return to_pennies(self.claimed + sum((amount for _, amount in self.lines), ZERO))

    @property
    def difference(self) -> Decimal:
        return to_pennies(self.balance - self.explained)

    @property
    def reconciles(self) -> bool:
        return self.difference == 0


def reconciliation(client: Client, claimed_invoices, claimed: Decimal, on: date) -> Reconciliation:
    """The reconciling lines between the amount claimed and the statement balance on `on`:
    the client's other invoices still owing, payments not yet set against an invoice (less),
    payments received after `on` already taken off the claimed invoices (added back, since the
    statement stops at `on`), refunds paid out, and interest and fees on the account."""
    claimed_invoices = list(claimed_invoices)
    account = claimed_invoices[0].account if claimed_invoices else account_for_client(client)
    balance = statement(account, end=on).closing
    claimed_ids = {i.pk for i in claimed_invoices}
    others = [i for i in with_outstanding(Invoice.objects.filter(client=client, total__gt=0, issue_date__lte=on)
                                          .exclude(pk__in=claimed_ids)).order_by("due_date", "number")
              if i.outstanding > 0]
    entries = LedgerEntry.objects.filter(account=account, effective_date__lte=on)

    def entry_sum(*kinds) -> Decimal:
        return to_pennies(entries.filter(kind__in=kinds).aggregate(s=Sum("amount"))["s"] or ZERO)

    allocations = PaymentAllocation.objects.filter(payment__account=account)
    allocated = to_pennies(allocations.filter(payment__received_on__lte=on).aggregate(s=Sum("amount"))["s"] or ZERO)
    later = to_pennies(allocations.filter(payment__received_on__gt=on).aggregate(s=Sum("amount"))["s"] or ZERO)
    unallocated = to_pennies(-entry_sum(EntryKind.PAYMENT) - allocated)
    lines = []
    if others:
        lines.append((f"Invoices not in the claim still owing ({', '.join(i.number for i in others)})",
                      to_pennies(sum((i.outstanding for i in others), ZERO))))
    if unallocated:
        lines.append((f"Payments received by {_long(on)} not yet set against an invoice", -unallocated))
    if later:
        lines.append((f"Payments received since {_long(on)} already taken off the invoices", later))
    if refunds := entry_sum(EntryKind.REFUND):
        lines.append(("Refunds paid out", refunds))
    if charges := entry_sum(EntryKind.INTEREST, EntryKind.FEE):
        lines.append(("Interest and fees charged on the account", charges))
    return Reconciliation(claimed=to_pennies(claimed), lines=lines, balance=balance, on=on)


def _claimed(invoices) -> tuple[list[Invoice], Decimal]:
    owing = [i for i in _owing(invoices) if i.outstanding > 0]
    return owing, to_pennies(sum((i.outstanding for i in owing), ZERO))


def court_refusals(referral: LegalReferral, on: date | None = None, *, invoices=None) -> list[str]:
    """Every reason the referral's claim cannot go to court on `on` (today if not given), each a
    sentence for the officer; an empty list if it can. `invoices` stands in for the referral's own
    before it is saved (a request): a litigation friend is recorded on a saved referral, so an
    unsaved one is not yet checked for one.

    The rules: no held debt; no invoice not yet due (due today is due); the letter before claim
    deemed served and its reply period over (PreActionRule); a defendant who lacks capacity has a
    litigation friend (CPR Part 21); the statement of account reconciles with the amount claimed;
    nothing statute barred (LimitationRule)."""
    on = on or timezone.localdate()
    client = referral.client
    invoices = list(invoices if invoices is not None else referral.invoices.all())
    owing, claimed = _claimed(invoices)
    refusals = []
    if holds := holds_for(client.pk, on):
        refusals.append(f"The client's debt is on hold ({'; '.join(h.reason or h.kind for h in holds)}): "
                        "it cannot go to court until the hold ends.")
    for i in owing:
        if i.due_date > on:
            refusals.append(f"Invoice {i.number} is not due until {_long(i.due_date)}: "
                            f"it cannot be claimed on {_long(on)}.")
    rule = pre_action_rule_on(on)
    found = letter_before_claim(client, on)
    if rule is None:
        refusals.append("No Pre-Action Protocol reply period is set for that date: ask an administrator to add one.")
    elif found is None:
        refusals.append(f"No letter before claim has been sent to {client.full_name}: send one under the "
                        f"Pre-Action Protocol for Debt Claims and allow {rule.reply_days} days to reply after "
                        "it is deemed served.")
    else:
        times = pre_action_times(*found, pre_action_rule_on(found[1]) or rule)
        if on <= times.reply_ends:
            refusals.append(
                f"The reply period for the letter before claim has not passed: the letter dated "
                f"{_long(times.posted)} is deemed served on {_long(times.served)} (the "
                f"{_ordinal(times.rule.deemed_service_business_days)} business day after posting) and the "
                f"{times.rule.reply_days} days to reply end on {_long(times.reply_ends)}, so a claim can be "
                f"made from {_long(times.reply_ends + timedelta(days=1))}.")
    if (lacking := lacks_capacity(client, on)) is not None and referral.pk and not referral.has_litigation_friend:
        when = f" on {_long(lacking.assessed_on)}" if isinstance(lacking, CapacityAssessment) else ""
        refusals.append(f"{client.full_name} was assessed{when} as lacking capacity to manage their finances: "
                        "record their litigation friend, with the date of the certificate of suitability (N235), "
                        "before going to court (CPR Part 21).")
    if owing:
        rec = reconciliation(client, owing, claimed, on)
        if not rec.reconciles:
            refusals.append(
                f"The statement of account does not reconcile with the amount claimed: the balance on "
                f"{_long(on)} is {format_pounds(rec.balance)}, the amount claimed and the reconciling lines "
                f"come to {format_pounds(rec.explained)}, and {format_pounds(rec.difference)} is not explained.")
    for i in owing:
        last = limitation.claim_deadline(i, on)
        if on > last:
            refusals.append(f"Statute barred, so it can never go to court: invoice {i.number} fell due on "
                            f"{_long(i.due_date)} and the last day to claim it was {_long(last)}.")
    return refusals


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def check_court_rules(referral: LegalReferral, on: date | None = None, *, invoices=None) -> None:
    """Raise CourtRulesNotMet listing every rule the claim does not meet."""
    if refusals := court_refusals(referral, on, invoices=invoices):
        raise CourtRulesNotMet(refusals)


# Legal referrals -------------------------------------------------------------------------------

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
    check_court_rules(LegalReferral(client=client, case=case, requested_by=actor), timezone.localdate(),
                      invoices=owing)
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
        check_court_rules(locked, fields.get("claim_issued_on") or timezone.localdate())
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
    """The pack's HTML: particulars, the letter before claim's dates, the litigation friend if
    any, every letter sent (by the date on the letter), and the statement of account with the
    table reconciling its balance to the amount claimed."""
    client, on = referral.client, figures["issued_on"]
    sent = list(Letter.objects.filter(client=client))
    dates = letter_dates(sent)
    letters = [{"date": dates[l.pk], "name": _letter_name(l.letter_type), "to": l.recipient_name}
               for l in sorted(sent, key=lambda l: (dates[l.pk], l.pk))]
    found = letter_before_claim(client, on)
    rule = found and pre_action_rule_on(found[1])
    return render_to_string("debt/legal/claim_pack.html", {
        "referral": referral, "client": client, "f": figures, "council": current_council(), "letters": letters,
        "pre_action": pre_action_times(*found, rule) if found and rule else None,
        "lacks_capacity": lacks_capacity(client, on) is not None,
        "reconciliation": reconciliation(client, figures["invoices"], figures["amount"], on),
        "statement": statement(account_for_client(client), end=on)})


def referral_issue_claim(*, referral: LegalReferral, issued_on: date, actor) -> LegalReferral:
    """Fix the claim's figures, make the claim pack and mark the claim issued.

    1. Check the move, work out the figures and check every court rule (no lock held yet).
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
    check_court_rules(referral, issued_on)
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


FRIEND_FIELDS = ("litigation_friend_name", "litigation_friend_address", "litigation_friend_relationship",
                 "litigation_friend_certificate_on")


@transaction.atomic
def referral_record_litigation_friend(*, referral: LegalReferral, name: str, address: str, relationship: str,
                                      certificate_on: date, actor) -> LegalReferral:
    """Record who conducts the claim for a defendant who lacks capacity (CPR Part 21) and the
    date of their certificate of suitability (N235). The old values go on the timeline."""
    locked = LegalReferral.objects.select_for_update().get(pk=referral.pk)
    if locked.status in (ReferralStatus.REJECTED, ReferralStatus.CLOSED):
        raise DomainError(f"Referral {locked.reference} is {locked.get_status_display().lower()}: "
                          "it cannot be changed")
    name, relationship = " ".join(name.split()), " ".join(relationship.split())
    address = "\n".join(line.strip() for line in address.strip().splitlines() if line.strip())
    if not name:
        raise DomainError("Enter the litigation friend's full name", field="name")
    if not address:
        raise DomainError("Enter the litigation friend's address", field="address")
    if not relationship:
        raise DomainError("Enter the litigation friend's relationship to the client", field="relationship")
    if certificate_on is None:
        raise DomainError("Enter the date of the certificate of suitability (N235)", field="certificate_on")
    if certificate_on > timezone.localdate():
        raise DomainError("The date of the certificate of suitability cannot be in the future",
                          field="certificate_on")
    new = dict(zip(FRIEND_FIELDS, (name, address, relationship, certificate_on)))
    old = {k: getattr(locked, k) for k in FRIEND_FIELDS}
    locked.save(update_fields=_set(locked, **new))
    _timeline(client_id=locked.client_id, case_id=locked.case_id, action="debt.legal.litigation_friend",
              actor=actor, summary=f"Litigation friend {name} ({relationship}) recorded on {locked.reference}",
              old={k: str(v) if v else v for k, v in old.items()}, new={k: str(v) for k, v in new.items()})
    return locked


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
